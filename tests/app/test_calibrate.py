"""``calibrate_run``: the calibration use case called directly, and the calibration folder
format (version 3 records the window and pixel size; versions 1 and 2 still load)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_shm.app.calibrate import CalibrationRequest, calibrate_run
from edge_shm.errors import UserError
from edge_shm.firmware_sim.artefacts import run_artefact
from edge_shm.firmware_sim.fixed_graph import FORMAT_VERSION, FixedGraph
from edge_shm.runs import run_window

pytestmark = pytest.mark.fast

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
V01 = FIXTURES / "v0_1"
RUN, LIB = V01 / "run-snn", V01 / "library.h5"
V2 = FIXTURES / "calibration_v2"  # written by the version-2 writer (its README.md)


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    said = []

    class Status:
        def __init__(self, text):
            said.append(text)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    out = tmp_path_factory.mktemp("calib") / "loihi"
    res = calibrate_run(CalibrationRequest(RUN, LIB, "loihi", out, sequences=2), Status)
    return res, said


def test_the_result_says_what_was_written(calibrated):
    res, said = calibrated
    assert said == ["calibrating snn for loihi on 2 sequences"]
    assert res.model == "snn" and res.fixed.target == "loihi"
    assert res.samples == (0, 6)  # the first and last of the 7 train samples
    names = sorted(p.name for p in res.output.iterdir() if not p.name.startswith("."))
    assert names == ["calibration.json", "calibration.md", "calibration.png", "tensors.npz"]
    flips = [r["flipped_fraction"] for r in res.fixed.report["layers"] if r["lif"]]
    assert res.worst_flipped == max(flips) and 0 <= res.worst_flipped <= 1
    assert "| conv1 | lif1 |" in (res.output / "calibration.md").read_text()


def test_version_3_records_the_window_and_pixel_size_and_round_trips(calibrated):
    res, _ = calibrated
    meta = json.loads((res.output / "calibration.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION == 3
    assert meta["window"] == 3 and meta["pixel_mm"] == 0.075  # the run's config
    back = FixedGraph.load(res.output)
    assert (back.window, back.pixel_mm, back.frame_shape) == (3, 0.075, (20, 28))
    assert back.report == res.fixed.report and back.codec is None
    for a, b in zip(back.layers, res.fixed.layers, strict=True):
        assert a.meta() == b.meta()
        assert np.array_equal(a.weight, b.weight) and np.array_equal(a.bias, b.bias)


def test_a_version_2_folder_loads_and_gives_its_forecasts(calibrated):
    res, _ = calibrated
    old = FixedGraph.load(V2)
    assert json.loads((V2 / "calibration.json").read_text())["format_version"] == 2
    assert old.window is None and old.pixel_mm is None
    held = np.load(V01 / "held_out.npy")[:1]
    pred = run_artefact("calibration", V2, "int", held)
    assert np.array_equal(pred, np.load(V2 / "expected.npy"))
    # the same run and sequences calibrate to the same integers today
    assert old.report["samples"] == list(res.samples)
    for a, b in zip(old.layers, res.fixed.layers, strict=True):
        assert a.meta() == b.meta() and np.array_equal(a.weight, b.weight)
    assert np.array_equal(pred, run_artefact("calibration", res.output, "int", held))


def test_version_3_fields_are_checked(calibrated, tmp_path):
    from edge_shm.firmware_sim.fixed_graph import values_sha256

    res, _ = calibrated
    cases = {
        "window 0": (("window", 0), "window must be an integer in [1, 1024]"),
        "window text": (("window", "3"), "window must be an integer"),
        "pixel_mm 0": (("pixel_mm", 0.0), "pixel_mm must be a finite number > 0"),
        "pixel_mm huge": (("pixel_mm", 1e9), "pixel_mm must lie in"),
        "unknown field": (("gain", 2), "unknown fields ['gain'] (format version 3)"),
        "no window": (("window", None, "drop"), "missing fields ['window']"),
    }
    for name, (edit, words) in cases.items():
        bad = tmp_path / name.replace(" ", "-")
        shutil.copytree(res.output, bad)
        meta = json.loads((bad / "calibration.json").read_text())
        if len(edit) == 3:
            del meta[edit[0]]
        else:
            meta[edit[0]] = edit[1]
        meta["values_sha256"] = values_sha256(meta)
        (bad / "calibration.json").write_text(json.dumps(meta))
        with pytest.raises(UserError, match="calibration.json") as e:
            FixedGraph.load(bad)
        assert words in str(e.value), (name, str(e.value))
    # a version 2 folder has no place for them
    meta = json.loads((V2 / "calibration.json").read_text())
    meta["window"] = 3
    meta["values_sha256"] = values_sha256(meta)
    shutil.copytree(V2, tmp_path / "v2-window")
    (tmp_path / "v2-window" / "calibration.json").write_text(json.dumps(meta))
    with pytest.raises(UserError, match=r"unknown fields \['window'\] \(format version 2\)"):
        FixedGraph.load(tmp_path / "v2-window")


def test_bad_requests_are_one_line_and_write_nothing(tmp_path):
    out = tmp_path / "out"
    cases = [
        (CalibrationRequest(RUN, LIB, "int4", out), "unknown calibration target 'int4'"),
        (CalibrationRequest(RUN, LIB, "int8", out, 1), "--sequences must be at least 2"),
        (CalibrationRequest(V01 / "run-lstm", LIB, "int8", out, 2), "is not a spiking network"),
        (CalibrationRequest(RUN, RUN / "config.json", "int8", out, 2), "config.json"),
        (CalibrationRequest(RUN, LIB, "int8", RUN, 2), "run-snn"),
    ]
    for request, words in cases:
        with pytest.raises(UserError) as e:
            calibrate_run(request)
        assert words in str(e.value) and "\n" not in str(e.value)
        assert not out.exists()


def test_the_window_of_a_run():
    class Codec:
        n_in = 5

    assert run_window({"window": [3, 1]}) == 3
    assert run_window({}, Codec()) == 5 and run_window({"window": None}) is None
