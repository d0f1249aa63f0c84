"""The motion SNN through the whole tool chain: ONNX, NIR and Lava exports verified on held-out
camera frames (as codec tiles), simulate taking camera frames and giving forecast frames on
every backend, the integer engine after calibration."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_shm.cli import main
from edge_shm.data.library import read_library
from edge_shm.firmware_sim.artefacts import artefact_codec, artefact_kind


def run(capsys, *args):
    rc = main([*map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def camera(mixed_lib_path, tmp_path_factory):
    path = tmp_path_factory.mktemp("frames") / "seq.npy"
    np.save(path, read_library(mixed_lib_path).split_frames("test")[:2])
    return path


def _simulate(capsys, artefact, camera, out, backend=None):
    extra = [] if backend is None else ["--backend", backend]
    rc, _, err = run(capsys, "simulate", artefact, "--frames", camera, "-o", out, *extra)
    assert rc == 0, err
    return np.load(out / "predictions.npy")


def test_onnx_and_nir_exports_forecast_camera_frames_alike(
    motion_run_dir, mixed_lib_path, camera, tmp_path, capsys
):
    preds = {}
    for target in ("onnx", "nir"):
        out = tmp_path / target
        rc, text, err = run(capsys, "export", motion_run_dir, "-t", target, "-o", out,
                            "--frames", mixed_lib_path)  # fmt: skip
        assert rc == 0, err
        assert "motion tiles" in text or "motion rows" in text or "codec" in text
        report = json.loads((out / "export.json").read_text())
        assert report["verification"]["ok"]
        kind, art = artefact_kind(out)
        assert artefact_codec(kind, art).n_in == 3
        preds[target] = _simulate(capsys, out, camera, tmp_path / f"sim-{target}")
    frames = np.load(camera)
    assert preds["onnx"].shape == frames.shape  # camera frames in, forecast frames out
    assert np.array_equal(preds["onnx"], preds["nir"])
    assert np.all(preds["onnx"] >= frames)  # a forecast keeps what is cracked


def test_lava_bundle_of_the_motion_network(
    motion_run_dir, mixed_lib_path, camera, lava_python, tmp_path, capsys
):
    out = tmp_path / "lava"
    rc, text, err = run(capsys, "export", motion_run_dir, "-t", "lava", "-o", out,
                        "--frames", mixed_lib_path)  # fmt: skip
    assert rc == 0, err
    assert "spikes agree on 100.0000 %" in text
    onnx = tmp_path / "onnx"
    assert run(capsys, "export", motion_run_dir, "-t", "onnx", "-o", onnx, "--frames",
               mixed_lib_path)[0] == 0  # fmt: skip
    lava = _simulate(capsys, out, camera, tmp_path / "sim-lava")
    assert np.array_equal(lava, _simulate(capsys, onnx, camera, tmp_path / "sim-onnx"))


@pytest.mark.parametrize("target", ["int8", "loihi"])
def test_calibrated_motion_network_runs_on_the_integer_engine(
    motion_run_dir, mixed_lib_path, camera, tmp_path, capsys, target
):
    calib = tmp_path / "calib"
    rc, _, err = run(capsys, "calibrate", motion_run_dir, "-l", mixed_lib_path, "-t", target,
                     "-o", calib)  # fmt: skip
    assert rc == 0, err
    assert json.loads((calib / "calibration.json").read_text())["codec"]["kind"] == "motion"
    got = _simulate(capsys, calib, camera, tmp_path / "sim-int", "int")
    frames = np.load(camera)
    assert got.shape == frames.shape and np.all(got >= frames)
