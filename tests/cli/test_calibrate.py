"""``edge-shm calibrate``, ``export --fixed-point`` and ``simulate --backend int``: bad input."""

import json
from pathlib import Path

import numpy as np
import pytest

from edge_shm.cli import main

SMALL_LIB = Path(__file__).resolve().parents[1] / "fixtures" / "v0_1" / "library.h5"


def _err(capsys):
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.fixture(scope="module")
def calibs(spiking_snn_run, crack_lib_path, tmp_path_factory):
    out = {}
    for target in ("loihi", "int8"):
        out[target] = tmp_path_factory.mktemp("calib") / target
        args = ["calibrate", str(spiking_snn_run), "-l", str(crack_lib_path), "-t", target]
        assert main([*args, "--sequences", "4", "-o", str(out[target])]) == 0
    return out


def test_calibration_report_and_integer_simulation(calibs, held_out, tmp_path, capsys):
    md = (calibs["int8"] / "calibration.md").read_text()
    assert "| conv1 | lif1 |" in md and "spikes flipped" in md
    assert (calibs["loihi"] / "calibration.png").stat().st_size > 0
    np.save(tmp_path / "f.npy", held_out[:1])
    for target, backend in (("loihi", "int"), ("int8", "int")):
        out = tmp_path / f"sim-{target}"
        args = ["simulate", str(calibs[target]), "--frames", str(tmp_path / "f.npy")]
        assert main([*args, "--backend", backend, "-o", str(out)]) == 0
        pred = np.load(out / "predictions.npy")
        assert pred.shape == (1, 8, 96, 132) and np.isfinite(pred).all()


def test_bad_input_is_one_line_and_writes_nothing(
    calibs, spiking_snn_run, snn_run_dir, lstm_run_dir, crack_lib_path, tmp_path, capsys
):
    out = tmp_path / "out"
    cases = [
        (["calibrate", str(spiking_snn_run), "-l", str(SMALL_LIB), "-t", "loihi"],
         "frames of 20x28 px, the model takes 96x132 px"),
        (["calibrate", str(spiking_snn_run), "-l", str(crack_lib_path), "-t", "loihi",
          "--sequences", "1"], "--sequences must be at least 2"),
        (["calibrate", str(spiking_snn_run), "-l", str(crack_lib_path), "-t", "int4"],
         "unknown calibration target 'int4'"),
        (["calibrate", str(lstm_run_dir), "-l", str(crack_lib_path), "-t", "int8"],
         "is not a spiking network"),
        (["export", str(snn_run_dir), "-t", "lava", "--fixed-point", str(calibs["loihi"])],
         "calibrated from another run"),
        (["export", str(spiking_snn_run), "-t", "lava", "--fixed-point", str(calibs["int8"])],
         "an int8 calibration runs on the integer engine"),
        (["export", str(lstm_run_dir), "-t", "lava", "--fixed-point", str(calibs["loihi"])],
         "is not a spiking network"),
        (["export", str(spiking_snn_run), "-t", "onnx", "--fixed-point", str(calibs["loihi"])],
         "--fixed-point is for --target lava"),
    ]  # fmt: skip
    for args, message in cases:
        assert main([*args, "-o", str(out)]) == 2, args
        assert message in _err(capsys)
        assert not out.exists()
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert leftovers == [], leftovers


def test_a_tampered_calibration_is_refused(calibs, held_out, tmp_path, capsys):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(calibs["loihi"], bad)
    with open(bad / "tensors.npz", "r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02")
    np.save(tmp_path / "f.npy", held_out[:1])
    rc = main(
        ["simulate", str(bad), "--frames", str(tmp_path / "f.npy"), "-o", str(tmp_path / "s")]
    )
    assert rc == 2 and "checksum differs" in _err(capsys)
    assert not (tmp_path / "s").exists()


def test_int8_onnx_beside_the_float_one(snn_run_dir, crack_lib_path, held_out, tmp_path, capsys):
    from edge_shm.jsonio import read_json

    out = tmp_path / "onnx"
    args = ["export", str(snn_run_dir), "-t", "onnx", "--int8", str(crack_lib_path)]
    assert main([*args, "-o", str(out)]) == 0
    rep = read_json(out / "export.json")["int8"]
    assert rep["calibration_sequences"] >= 2 and rep["int8_ms_per_step"] > 0
    assert 0 <= rep["mean_abs_diff_vs_float"] <= rep["max_abs_diff_vs_float"] <= 1
    np.save(tmp_path / "f.npy", held_out[:1])
    sim = tmp_path / "sim"
    args = ["simulate", str(out / "model.int8.onnx"), "--frames", str(tmp_path / "f.npy")]
    assert main([*args, "-o", str(sim)]) == 0
    assert np.load(sim / "predictions.npy").shape == (1, 8, 96, 132)
    for bad, message in (
        (["-t", "nir", "--int8", str(crack_lib_path)], "--int8 is for --target onnx"),
        (["-t", "onnx", "--int8", str(tmp_path / "f.npy")], "--int8 takes a library"),
    ):
        assert main(["export", str(snn_run_dir), *bad, "-o", str(tmp_path / "x")]) == 2
        assert message in _err(capsys)
        assert not (tmp_path / "x").exists()


def test_profile_with_a_calibration_reports_deployed_memory(
    calibs, spiking_snn_run, snn_run_dir, crack_lib_path, tmp_path, capsys
):
    from edge_shm.jsonio import read_json

    out = tmp_path / "prof"
    args = ["profile", str(spiking_snn_run), "-d", "loihi2", "-l", str(crack_lib_path)]
    rc = main([*args, "--max-windows", "4", "--calibration", str(calibs["loihi"]), "-o", str(out)])
    assert rc == 0
    dep = read_json(out / "profile.json")["run"]["deployed"]
    n = (16 + 4 + 16) * 96 * 132
    assert dep["target"] == "loihi" and dep["memory_B"]["state"] == 3 * n  # v, 24 bit
    assert dep["synaptic_ops_per_forecast"] > 0
    assert "Deployed precision" in (out / "profile.md").read_text()
    budget = read_json(out / "profile.json")["memory_budget"]
    assert budget["precision"] == "deployed loihi"
    state = next(ln for ln in budget["lines"] if ln["line"].startswith("persistent state"))
    assert state["bytes"] == 3 * n
    capsys.readouterr()
    args = ["profile", str(snn_run_dir), "-d", "loihi2", "-l", str(crack_lib_path)]
    assert main([*args, "--calibration", str(calibs["loihi"]), "-o", str(tmp_path / "p2")]) == 2
    assert "calibrated from another run" in _err(capsys)


def test_forecast_on_a_calibration_needs_no_window_or_pixel_size(
    calibs, held_out, crack_lib_path, tmp_path, capsys
):
    """A calibration records the window and pixel size of its run (format 3); one of format
    2 records neither, and the forecast asks for them."""
    from edge_shm.data.library import read_library

    np.save(tmp_path / "f.npy", held_out[0])
    args = ["forecast", str(calibs["int8"]), "--frames", str(tmp_path / "f.npy")]
    assert main([*args, "--max-frames", "4", "--horizon", "1", "-o", str(tmp_path / "o")]) == 0
    assert "forecast: 4 frames, 0 skipped" in capsys.readouterr().out
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["backend"] == "int" and summary["config"]["n_in"] == 3
    assert summary["config"]["pixel_mm"] == read_library(crack_lib_path).pixel_mm
    old = Path(__file__).resolve().parents[1] / "fixtures" / "calibration_v2"
    small = tmp_path / "small.npy"
    np.save(small, np.load(SMALL_LIB.parent / "held_out.npy")[0])
    args = ["forecast", str(old), "--frames", str(small), "-o", str(tmp_path / "o2")]
    assert main(args) == 2
    assert "its window is unknown; give --window N" in _err(capsys)
    assert main([*args, "--window", "3"]) == 2
    assert "the pixel size is unknown; give --pixel-mm" in _err(capsys)
    assert not (tmp_path / "o2").exists()
    assert main([*args, "--window", "3", "--pixel-mm", "0.075", "--max-frames", "3"]) == 0
