"""``open_forecaster`` and ``forecast_run`` called directly: which forecaster a run or an
artefact opens, what it was made for, and the on-site loop over a small stack."""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edge_shm.app.calibrate import CalibrationRequest, calibrate_run
from edge_shm.app.forecast import ForecastRequest, forecast_run, status_line
from edge_shm.app.forecaster import STREAMING, on_site_backends, open_forecaster
from edge_shm.errors import UserError

pytestmark = pytest.mark.fast

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
V01 = FIXTURES / "v0_1"
RUN = V01 / "run-snn"
V2 = FIXTURES / "calibration_v2"


@pytest.fixture(scope="module")
def calib(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("calib") / "int8"
    calibrate_run(CalibrationRequest(RUN, V01 / "library.h5", "int8", out, sequences=2))
    return out


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("frames") / "f.npy"
    np.save(path, np.load(V01 / "held_out.npy")[0])  # (8, 20, 28)
    return path


def test_a_run_opens_on_the_host_with_its_window_and_pixel_size():
    fc = open_forecaster(RUN)
    assert (fc.name, fc.backend, fc.n_in, fc.pixel_mm) == ("snn", "torch", 3, 0.075)
    assert fc.shape == (20, 28) and fc.forecaster == STREAMING and fc.codec is None


@pytest.mark.parametrize(
    "folder, backend", [("export-snn-onnx", "onnx"), ("export-snn-nir", "nir")]
)
def test_an_export_walks_back_to_its_run(folder, backend):
    fc = open_forecaster(V01 / folder)
    assert (fc.name, fc.backend, fc.n_in, fc.pixel_mm) == ("snn", backend, 3, 0.075)
    assert fc.shape == (20, 28) and fc.band is None


def test_a_bundle_runs_its_graph_on_the_nir_simulator_or_reruns_windows_on_lava():
    fc = open_forecaster(V01 / "export-snn-lava", "nir")
    assert fc.forecaster == STREAMING and fc.shape == (20, 28)
    fc = open_forecaster(V01 / "export-snn-lava")
    assert fc.backend == "lava" and fc.forecaster == "window re-run (Lava runs whole sequences)"


def test_an_export_json_that_records_window_and_pixel_size_needs_no_run(tmp_path):
    folder = tmp_path / "export"
    shutil.copytree(V01 / "export-snn-onnx", folder)
    report = json.loads((folder / "export.json").read_text())
    report |= {"run": str(tmp_path / "gone"), "window": 4, "pixel_mm": 0.05}
    report["frame_shape"] = [20, 28]
    (folder / "export.json").write_text(json.dumps(report))
    fc = open_forecaster(folder)
    assert (fc.name, fc.n_in, fc.pixel_mm) == ("snn", 4, 0.05)
    report |= {"window": [5, 1], "pixel_mm": -1}  # a run's [n_in, n_out]; a bad size ignored
    (folder / "export.json").write_text(json.dumps(report))
    fc = open_forecaster(folder / "model.onnx")
    assert (fc.n_in, fc.pixel_mm) == (5, None)


def test_a_calibration_says_what_it_was_made_for(calib):
    fc = open_forecaster(calib)
    assert (fc.backend, fc.n_in, fc.pixel_mm, fc.shape) == ("int", 3, 0.075, (20, 28))
    old = open_forecaster(V2)
    assert (old.backend, old.n_in, old.pixel_mm) == ("int", None, None)


@pytest.mark.parametrize(
    "path, backend, words",
    [
        (RUN, "onnx", "export it first"),
        (RUN, "cuda", "unknown backend 'cuda'; choose one of torch, onnx, nir, lava, int"),
        (RUN, "lava-fixed", "unknown backend 'lava-fixed'"),
        (V01 / "export-snn-onnx", "torch", "the torch backend needs a run folder"),
        (V01 / "export-snn-onnx", "nir", "a onnx artefact cannot run on the nir backend"),
        (V2, "lava", "a calibration artefact cannot run on the lava backend"),
        (V01 / "held_out.npy", None, "not an exported artefact"),
    ],
)
def test_pairs_that_do_not_go_together(path, backend, words):
    with pytest.raises(UserError, match=words.replace("(", r"\(")):
        open_forecaster(path, backend)
    assert on_site_backends() == ("torch", "onnx", "nir", "lava", "int", "c")


def _recorder():
    notes, stages = [], []

    @contextlib.contextmanager
    def progress(description, total):
        stages.append([description, total])
        yield lambda n=1, info=None: stages[-1].append(info)

    return notes, stages, progress


def test_forecast_on_a_fresh_calibration_needs_no_window_or_pixel_size(calib, stack, tmp_path):
    notes, stages, progress = _recorder()
    out = tmp_path / "out"
    request = ForecastRequest(calib, out, frames=stack, horizon=2, max_frames=5)
    res = forecast_run(request, progress, notes.append)
    assert (res.frames, res.skipped, res.stopped_by) == (5, 0, "end of the frames")
    assert res.interrupt is None and res.warning == res.summary["last"]["warning"]
    assert stages[0][:2] == ["forecast", 5] and len(stages[0]) == 2 + 5
    assert notes == []
    recs = [json.loads(x) for x in (out / "forecast.jsonl").read_text().splitlines()]
    assert [len(r["forecast"]) for r in recs] == [0, 0, 2, 2, 2]
    summary = json.loads((out / "summary.json").read_text())
    assert summary == res.summary and (out / "REPORT.md").is_file()
    # an old calibration: the window and pixel size must be given
    with pytest.raises(UserError, match="its window is unknown; give --window N"):
        forecast_run(ForecastRequest(V2, tmp_path / "o2", frames=stack))
    with pytest.raises(UserError, match="the pixel size is unknown; give --pixel-mm"):
        forecast_run(ForecastRequest(V2, tmp_path / "o2", frames=stack, window=3))
    assert not (tmp_path / "o2").exists()
    request = ForecastRequest(V2, tmp_path / "o2", frames=stack, window=3, pixel_mm=0.075)
    assert forecast_run(replace(request, max_frames=3)).frames == 3


@pytest.mark.parametrize(
    "change, words",
    [
        ({"frames": None}, "give exactly one of --frames SRC and --watch DIR"),
        ({"horizon": 0}, "--horizon must be positive"),
        ({"window": 2000}, "--window must be at most 1024"),
        ({"a_offset": float("nan")}, "--a-offset-mm"),
        ({"mouth": "right"}, "--mouth, --channel and --mask apply to image folders"),
        ({"window": 9}, "the source has 8"),
    ],
)
def test_bad_requests_write_nothing(change, words, stack, tmp_path):
    request = {"model": RUN, "output": tmp_path / "out", "frames": stack} | change
    with pytest.raises(UserError, match=words):
        forecast_run(ForecastRequest(**request))
    assert not (tmp_path / "out").exists()


def test_status_line():
    ok = {"status": "ok", "observed": {"crack": True, "a_mm": 2.5}, "warning": "ok",
          "growth_mm_per_frame": 0.25, "frames_to_critical": {"trend": 22.0}}  # fmt: skip
    assert status_line(ok) == "a 2.50 mm, +0.25 mm/frame, critical in 22.0 frames (ok)"
    assert status_line({"status": "skipped", "error": "x.png: broken"}) == "skipped (x.png: broken)"
    assert status_line(ok | {"observed": {"crack": False}}) == "no crack"
    beyond = ok | {"observed": {"crack": True, "a_mm": 9.8, "left_view": True}}
    assert status_line(beyond).startswith("a >= 9.80 mm (beyond the view)")
