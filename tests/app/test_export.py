"""The export use case called directly: target rows and variants, what export.json records,
progress notes instead of printing, one-line refusals that write nothing."""

from __future__ import annotations

import dataclasses
import re
import shutil
from types import SimpleNamespace

import numpy as np
import pytest

from edge_shm.app.export import ExportRequest, SimulateRequest, export_run, simulate_run
from edge_shm.errors import UserError
from edge_shm.export.targets import TARGET_NAMES, TARGETS, ExportOptions, Job, get_target
from edge_shm.jsonio import read_json, write_json

pytestmark = pytest.mark.fast


def test_onnx_export_records_what_it_was_made_for(tiny_spiking_run, tiny_library, tmp_path):
    notes = []
    out = tmp_path / "onnx"
    result = export_run(ExportRequest(tiny_spiking_run, "onnx", out), note=notes.append)
    assert (result.target, result.model, result.verified) == ("onnx", "snn", True)
    assert result.artefact == "ONNX opset 17, inputs frame, v1, v2, v3"
    assert notes == list(result.notes) and len(notes) == 2
    assert notes[0].startswith("verifying on held-out frames: test split of")
    assert notes[1].startswith("onnx: largest |ONNX Runtime - torch| = ")
    report = read_json(out / "export.json")
    assert (report["window"], report["pixel_mm"], report["frame_shape"]) == (3, 0.05, [16, 20])
    assert report["target"] == "onnx" and report["verification"]["ok"]
    assert report["verification"]["sequences"] == 2  # the library's test split
    assert result.report == report
    sim = simulate_run(SimulateRequest(out, tiny_library, tmp_path / "sim"))  # its test split
    assert (sim.backend, sim.sequences, sim.frames) == ("onnx", 2, 5)
    assert np.load(tmp_path / "sim" / "predictions.npy").shape == (2, 5, 16, 20)
    assert (tmp_path / "sim" / "predictions.png").is_file()


def test_nir_without_verification_and_a_run_that_does_not_say(tiny_spiking_run, tmp_path):
    run = tmp_path / "old-run"
    shutil.copytree(tiny_spiking_run, run)
    config = read_json(run / "config.json")
    for key in ("window", "pixel_mm", "frame_shape"):
        del config[key]
    write_json(run / "config.json", config)
    result = export_run(ExportRequest(run, "nir", tmp_path / "nir", verify=False))
    assert not result.verified and result.notes == ()
    assert result.artefact == "NIR graph for generic, dt 0.001 s, tau 0.002 s"
    report = read_json(tmp_path / "nir" / "export.json")
    assert report["verification"] is None and report["frames_source"] is not None
    # the frame shape is the model's input; window and pixel size unknown
    assert (report["window"], report["pixel_mm"], report["frame_shape"]) == (None, None, [16, 20])


def test_nir_export_verified_against_torch(tiny_spiking_run, tmp_path):
    result = export_run(ExportRequest(tiny_spiking_run, "nir", tmp_path / "nir"))
    ver = result.report["verification"]
    assert ver["ok"] and ver["spikes_compared"] > 0 and ver["sequences"] == 2
    assert result.notes[1].startswith("nir: spikes agree on 100.0000 % of ")


def test_int8_variant_adds_the_quantised_graph(tiny_spiking_run, tiny_library, tmp_path):
    from edge_shm.data.library import read_library
    from edge_shm.data.splits import calibration_samples
    from edge_shm.export.int8_onnx import CALIBRATION_SEQUENCES

    out = tmp_path / "int8"
    result = export_run(ExportRequest(tiny_spiking_run, "onnx", out, int8=tiny_library))
    assert result.target == "onnx-int8" and (out / "model.int8.onnx").is_file()
    rep = read_json(out / "export.json")
    assert rep["target"] == "onnx" and rep["window"] == 3
    lib = read_library(tiny_library, load_physics=False)
    n = len(calibration_samples(lib, CALIBRATION_SEQUENCES))
    assert rep["int8"]["calibration_sequences"] == n == 6
    assert 0 <= rep["int8"]["mean_abs_diff_vs_float"] <= rep["int8"]["max_abs_diff_vs_float"]
    assert result.notes[2] == f"int8: quantising (QDQ) on 6 train sequences of {tiny_library}"
    assert result.notes[3].startswith("int8: largest |int8 - float| forecast ")
    np.save(tmp_path / "frames.npy", np.zeros((1, 3, 16, 20), np.float32))
    with pytest.raises(UserError, match=re.escape("frames.npy: --int8 takes a library (.h5) to")):
        export_run(
            ExportRequest(tiny_spiking_run, "onnx", tmp_path / "x", int8=tmp_path / "frames.npy")
        )
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"target": "tflite"}, "unknown export target 'tflite'; choose one of onnx, nir, lava, c"),
        ({"target": "nir", "int8": "lib.h5"}, "--int8 is for --target onnx, not nir"),
        ({"fixed_point": "calib"}, "--fixed-point is for --target lava or c, not onnx"),
        ({"target": "c"}, "--target c takes --fixed-point"),
        ({"target": "lava", "device": "mcu-512k"}, "--device is for --target c, not lava"),
        ({"consumer": "norse"}, "--for is for --target nir, not onnx"),
        ({"target": "lava-fixed"}, "--target lava-fixed takes --fixed-point"),
        ({}, "run: not a run directory"),
    ],
)
def test_refusals_are_one_line_and_write_nothing(tmp_path, changes, message):
    """Target and option choice is refused before any file is read or written."""
    fields = {"run": tmp_path / "run", "target": "onnx", "output": tmp_path / "out"}
    fields |= {k: tmp_path / v if k in ("int8", "fixed_point") else v for k, v in changes.items()}
    with pytest.raises(UserError) as err:
        export_run(ExportRequest(**fields))
    assert message in str(err.value) and "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_verification_leaves_nothing(tiny_spiking_run, tmp_path):
    from edge_shm.export.api import export_artefact

    onnx = get_target("onnx")
    res = {"ok": False, "sequences": 1, "frames_per_sequence": 5, "max_abs_diff": 0.5,
           "sequences_with_ties": 0, "tolerance": 1e-5}  # fmt: skip
    check = dataclasses.replace(onnx.verification, run=lambda job, folder, frames: dict(res))
    row = dataclasses.replace(onnx, verification=check)
    with pytest.raises(UserError, match="onnx export differs from torch beyond tolerance"):
        export_artefact(tiny_spiking_run, row, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_a_new_target_is_one_more_row(tiny_spiking_run, tmp_path):
    """A row with its own writer, check and description goes through the same pipeline."""
    from edge_shm.export.api import export_artefact
    from edge_shm.export.targets import Target, Verification

    def write(job, folder):
        (folder / "model.txt").write_text(f"{job.model.name} {job.model.height}")
        return {"file": "model.txt"}

    check = Verification(
        run=lambda job, folder, frames: {"ok": True, "sequences": len(frames)},
        describe=lambda res: f"text: {res['sequences']} sequence(s)",
        failed=lambda res: "text differs",
        sequences=1,
    )
    row = Target("onnx", "model.txt", False, write, check, lambda facts: facts["file"])
    notes = []
    report = export_artefact(tiny_spiking_run, row, tmp_path / "t", note=notes.append)
    assert (tmp_path / "t" / "model.txt").read_text() == "snn 16"
    assert report["verification"]["sequences"] == 1 and notes[1] == "text: 1 sequence(s)"


def test_registry_rows_and_variants():
    assert TARGET_NAMES == ("onnx", "nir", "lava", "c")
    for row in TARGETS.values():
        assert callable(row.write) and callable(row.describe)
        assert row.verification.sequences >= 1 and callable(row.verification.run)
        assert row.base in TARGET_NAMES
        assert row.variant_of is None or row.flag is not None
    assert {r.name: r.flag for r in TARGETS.values() if r.flag} == {
        "onnx-int8": "--int8",
        "lava-fixed": "--fixed-point",
        "c": "--fixed-point",  # not a variant: the C target always takes a calibration
    }
    assert TARGETS["lava-fixed"].record(ExportOptions(variant_input="c")) == {
        "fixed_point": True,
        "calibration": "c",
    }


@pytest.mark.parametrize("precision", ["int8", "loihi"])
def test_c_firmware_round_trip(tiny_spiking_run, tiny_library, tmp_path, precision):
    """Calibrate, export as C (verified on the host against the integer engine), then the
    C firmware and the integer engine give the same forecasts through simulate."""
    from edge_shm.app.calibrate import CalibrationRequest, calibrate_run

    calib, fw = tmp_path / "calib", tmp_path / "fw"
    calibrate_run(CalibrationRequest(tiny_spiking_run, tiny_library, precision, calib, 2))
    notes = []
    result = export_run(
        ExportRequest(tiny_spiking_run, "c", fw, fixed_point=calib), note=notes.append
    )
    assert result.artefact == f"C99 firmware tree ({precision}; linker script for mcu-512k)"
    ver = result.report["verification"]
    assert ver["ok"] and ver["spikes_differ"] == 0 and ver["spikes_compared"] > 0
    assert ver["readout_values_differ"] == 0 and ver["forecast_values_differ"] == 0
    assert notes[-1].startswith("C on the host vs integer engine: 0 of ")
    manifest = read_json(fw / "firmware.json")
    assert manifest["precision"] == precision and manifest["frame_shape"] == [16, 20]
    assert manifest["device"] == {"name": "mcu-512k", "ram_B": 524288, "flash_B": 2097152}
    sims = {
        b: simulate_run(SimulateRequest(fw, tiny_library, tmp_path / b, backend=b))
        for b in ("c", "int")
    }
    assert sims["c"].measured["host_step_ms"]["mean"] > 0 and sims["int"].measured == {}
    got, want = (np.load(tmp_path / b / "predictions.npy") for b in ("c", "int"))
    assert np.array_equal(got, want)


def test_c_firmware_needs_a_calibration_of_the_same_run(
    tiny_spiking_run, tiny_snn_run, tiny_library, tmp_path
):
    from edge_shm.app.calibrate import CalibrationRequest, calibrate_run

    calib = tmp_path / "calib"
    calibrate_run(CalibrationRequest(tiny_spiking_run, tiny_library, "int8", calib, 2))
    with pytest.raises(UserError, match="calibrated from another run"):
        export_run(ExportRequest(tiny_snn_run, "c", tmp_path / "fw", fixed_point=calib))
    assert not (tmp_path / "fw").exists()


def test_fixed_point_refuses_a_non_spiking_model():
    from edge_shm.export.fixed_point import prepare

    model = SimpleNamespace(name="lstm", capabilities=SimpleNamespace(spiking=False))
    job = Job(model, {}, ExportOptions(variant_input="calib"))
    with pytest.raises(UserError, match="'lstm' is not a spiking network: --fixed-point"):
        prepare(job)


def test_a_motion_network_records_its_codec_window_and_camera_frames():
    from edge_shm.export.api import made_for

    codec = SimpleNamespace(n_in=3)
    model = SimpleNamespace(codec=codec, height=4, width=4)
    config = {"window": [5, 1], "frame_shape": [96, 132], "pixel_mm": 0.075}
    assert made_for(model, config) == {"window": 3, "pixel_mm": 0.075, "frame_shape": [96, 132]}
    assert made_for(model, {})["frame_shape"] is None


def test_forecast_reads_the_record_and_an_older_export_json_still_opens(tiny_spiking_run, tmp_path):
    """``forecast`` takes window and pixel size from export.json; one of an earlier edge-shm
    (without them) still opens: the forecaster walks back to the run for what it lacks."""
    from edge_shm.app.forecaster import open_forecaster

    run = tmp_path / "run"
    shutil.copytree(tiny_spiking_run, run)
    out = tmp_path / "onnx"
    export_run(ExportRequest(run, "onnx", out, verify=False))
    report = read_json(out / "export.json")
    shutil.move(run, tmp_path / "moved")  # the run is gone: only the record says
    new = open_forecaster(out)
    for key in ("window", "pixel_mm", "frame_shape"):
        del report[key]
    report["run"] = str(tmp_path / "moved")
    write_json(out / "export.json", report)
    old = open_forecaster(out)
    for opened in (new, old):
        assert (opened.name, opened.n_in, opened.pixel_mm) == ("snn", 3, 0.05)
