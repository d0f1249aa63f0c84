"""train / evaluate / compare from the command line, and their one-line errors."""

import shutil

import h5py
import numpy as np
import pytest

from edge_shm.cli import main


def _err(capsys):
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def test_train_evaluate_compare(crack_lib_path, tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--model",
                "snn",
                "--library",
                str(crack_lib_path),
                "-o",
                str(run),
                "--epochs",
                "1",
                "--max-windows",
                "16",
                "--batch-size",
                "8",
            ]
        )
        == 0
    )
    assert "final train loss" in capsys.readouterr().out
    assert main(["evaluate", str(run), "--library", str(crack_lib_path), "--into-run"]) == 0
    capsys.readouterr()
    assert main(["compare", str(run), "-o", str(tmp_path / "cmp"), "--profile-windows", "2"]) == 0
    assert capsys.readouterr().err == ""
    assert (tmp_path / "cmp" / "accuracy_vs_parameters.png").exists()
    md = (tmp_path / "cmp" / "comparison.md").read_text()
    assert "one-step MAE (1, secondary)" in md and "tip error h1 median (mm)" in md
    assert "energy per forecast, loihi2 (uJ)" in md  # the default is Loihi 2
    assert "energy per forecast, arm-cortex-a (uJ)" in md and ", loihi (uJ)" not in md
    old = [
        "compare",
        str(run),
        "-o",
        str(tmp_path / "old"),
        "-d",
        "loihi",
        "--profile-windows",
        "2",
    ]
    assert main(old) == 0
    (note,) = capsys.readouterr().err.strip().splitlines()  # one line, however narrow
    assert note.startswith("note: device 'loihi' is the deprecated name of 'loihi1'")
    assert "energy per forecast, loihi1 (uJ)" in (tmp_path / "old" / "comparison.md").read_text()


@pytest.mark.fast
def test_compare_defaults_to_loihi2():
    import inspect

    from edge_shm.cli.models import compare

    option = inspect.signature(compare).parameters["device"].default
    assert option.default == ["loihi2", "arm-cortex-a"]
    assert "loihi1" in option.help and "loihi means loihi1" in option.help


@pytest.mark.fast
def test_unknown_model(crack_lib_path, tmp_path, capsys):
    assert (
        main(
            ["train", "--model", "gpt", "--library", str(crack_lib_path), "-o", str(tmp_path / "r")]
        )
        == 2
    )
    assert "unknown model 'gpt'" in _err(capsys)
    assert not (tmp_path / "r").exists()


def test_library_of_another_frame_size(snn_run_dir, tmp_path, capsys):
    from edge_shm.data.importing import import_library

    np.save(tmp_path / "f.npy", np.zeros((3, 5, 40, 50), np.float32))
    import_library(tmp_path / "f.npy", tmp_path / "small.h5", 0.075)
    assert (
        main(["evaluate", str(snn_run_dir), "--library", str(tmp_path / "small.h5"), "--into-run"])
        == 2
    )
    assert "40x50 px" in _err(capsys)


def test_run_dir_missing_files_or_tampered(snn_run_dir, crack_lib_path, tmp_path, capsys):
    bad = tmp_path / "bad"
    shutil.copytree(snn_run_dir, bad)
    (bad / "weights.safetensors").unlink()
    assert main(["evaluate", str(bad), "--library", str(crack_lib_path), "--into-run"]) == 2
    assert "missing weights.safetensors" in _err(capsys)
    shutil.copy(snn_run_dir / "weights.safetensors", bad / "weights.safetensors")
    with open(bad / "weights.safetensors", "r+b") as f:
        f.seek(-3, 2)
        f.write(b"\x00\x01\x02")
    assert main(["evaluate", str(bad), "--library", str(crack_lib_path), "--into-run"]) == 2
    assert "checksum" in _err(capsys)
    assert (
        main(["evaluate", str(tmp_path / "none"), "--library", str(crack_lib_path), "--into-run"])
        == 2
    )
    assert "not a run directory" in _err(capsys)


@pytest.mark.fast
def test_nan_frames_are_refused(crack_lib_path, tmp_path, capsys):
    bad = tmp_path / "nan.h5"
    shutil.copy(crack_lib_path, bad)
    with h5py.File(bad, "r+") as f:
        f["frames"][0, 0, 0, 0] = np.nan
    assert main(["train", "--library", str(bad), "-o", str(tmp_path / "r")]) == 2
    assert "NaN" in _err(capsys)
    assert not (tmp_path / "r").exists()


@pytest.mark.fast
def test_models_lists_the_registry(capsys):
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    for name, params in (("forecast-snn", "17,528"), ("snn", "1,477"), ("lstm", "32,692,581")):
        assert name in text and params in text
