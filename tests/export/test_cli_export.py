"""``edge-shm export`` / ``simulate``: outputs, verification messages and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_shm.cli import main


def run(capsys, *args):
    rc = main([*map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_export_onnx_verifies_and_simulate_writes_predictions(
    spiking_snn_run, held_out, tmp_path, capsys
):
    out = tmp_path / "onnx"
    rc, text, err = run(capsys, "export", spiking_snn_run, "--target", "onnx", "-o", out)
    assert rc == 0, err
    assert "test split" in text and "largest |ONNX Runtime - torch|" in text
    assert (out / "model.onnx").is_file()
    report = json.loads((out / "export.json").read_text())
    assert report["verification"]["max_abs_diff"] <= 1e-5
    np.save(tmp_path / "f.npy", held_out[0, :4])  # one (T, H, W) sequence
    sim = tmp_path / "sim"
    rc, text, err = run(capsys, "simulate", out, "--frames", tmp_path / "f.npy", "-o", sim)
    assert rc == 0, err
    pred = np.load(sim / "predictions.npy")
    assert pred.shape == (1, 4, 96, 132)
    assert (sim / "predictions.png").is_file()


def test_export_nir_and_no_verify(spiking_snn_run, tmp_path, capsys):
    rc, text, err = run(
        capsys, "export", spiking_snn_run, "-t", "nir", "-o", tmp_path / "n", "--no-verify"
    )
    assert rc == 0, err
    assert "not verified" in text and "verifying" not in text
    assert (tmp_path / "n" / "model.nir").is_file()


def test_export_uses_frames_option_when_the_library_is_gone(
    spiking_snn_run, held_out, tmp_path, capsys
):
    import shutil

    from edge_shm.jsonio import read_json, write_json

    run_dir = tmp_path / "moved"
    shutil.copytree(spiking_snn_run, run_dir)
    cfg = read_json(run_dir / "config.json")
    cfg["library"] = str(tmp_path / "gone.h5")
    write_json(run_dir / "config.json", cfg)
    rc, _, err = run(capsys, "export", run_dir, "-t", "onnx", "-o", tmp_path / "a")
    assert rc == 2 and "--frames" in err and not (tmp_path / "a").exists()
    np.save(tmp_path / "f.npy", held_out[:1, :3])
    rc, text, err = run(
        capsys,
        "export",
        run_dir,
        "-t",
        "onnx",
        "-o",
        tmp_path / "b",
        "--frames",
        tmp_path / "f.npy",
    )
    assert rc == 0, err
    assert "--frames" in text


@pytest.mark.parametrize(
    "case",
    ["not_a_run", "bad_target", "unwritable", "lstm_nir", "lstm_lava"],
)
def test_export_bad_input_one_line_exit_2(case, spiking_snn_run, lstm_run_dir, tmp_path, capsys):
    out = tmp_path / "out"
    args = {
        "not_a_run": [tmp_path, "-t", "onnx", "-o", out],
        "bad_target": [spiking_snn_run, "-t", "tflite", "-o", out],
        "unwritable": [spiking_snn_run, "-t", "onnx", "-o", "/proc/edge-shm-out"],
        "lstm_nir": [lstm_run_dir, "-t", "nir", "-o", out],
        "lstm_lava": [lstm_run_dir, "-t", "lava", "-o", out],
    }[case]
    rc, _, err = run(capsys, "export", *args)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert not out.exists()
    assert not list(tmp_path.glob(".out.*"))  # no temporary leftovers either
    if case.startswith("lstm"):
        target = case.split("_")[1]
        assert f"to {target}" in err and "rnn1 (LSTM)" in err


@pytest.mark.fast
def test_simulate_bad_input(tmp_path, capsys):
    np.save(tmp_path / "f.npy", np.zeros((2, 8, 8), np.float32))
    rc, _, err = run(
        capsys, "simulate", tmp_path, "--frames", tmp_path / "f.npy", "-o", tmp_path / "o"
    )
    assert rc == 2 and "not an exported artefact" in err and not (tmp_path / "o").exists()
