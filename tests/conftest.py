"""Shared fixtures: small libraries built once per session, the Lava interpreter."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAVA_PYTHON = ROOT / ".venv-lava" / "bin" / "python"


@pytest.fixture(scope="session")
def crack_lib_path(tmp_path_factory) -> Path:
    from edge_shm.data.generators import build_fcg

    path = tmp_path_factory.mktemp("lib") / "fcg-24.h5"
    build_fcg(path, 24, seed=3)
    return path


@pytest.fixture(scope="session")
def crack_lib(crack_lib_path):
    from edge_shm.data.library import read_library

    return read_library(crack_lib_path)


@pytest.fixture(scope="session")
def lava_python() -> Path:
    if not LAVA_PYTHON.exists():
        pytest.skip("no .venv-lava (Python 3.10 missing): Lava features are skipped")
    return LAVA_PYTHON


def _tiny_run(lib, out: Path, model: str, epochs: int, windows: int) -> Path:
    from edge_shm.reports.plots import run_loss_curve
    from edge_shm.training import TrainConfig, train

    cfg = TrainConfig(
        model=model,
        epochs=epochs,
        batch_size=16,
        loss="weighted",
        max_train_windows=windows,
        seed=0,
    )
    train(lib, out, cfg, resume=False, on_checkpoint=run_loss_curve)
    return out


@pytest.fixture(scope="session")
def snn_run_dir(crack_lib, tmp_path_factory) -> Path:
    """A base SNN trained briefly on the small crack library (it barely spikes yet)."""
    return _tiny_run(crack_lib, tmp_path_factory.mktemp("runs") / "snn", "snn", 3, 64)


@pytest.fixture(scope="session")
def lstm_run_dir(crack_lib, tmp_path_factory) -> Path:
    """A base LSTM after a few training steps (32.7 M parameters at 96 x 132)."""
    return _tiny_run(crack_lib, tmp_path_factory.mktemp("runs") / "lstm", "lstm", 1, 16)


# The briefly trained SNN above barely spikes (about 2e-5 of layer-1 neurons,
# none deeper), so spike parity would be trivial. These gains on its conv weights and biases
# make every layer spike on the held-out frames (about 6 %, 20 %, 19 %).
GAINS = {"conv1": 6.0, "conv2": 30.0, "deconv1": 30.0}


@pytest.fixture(scope="session")
def spiking_snn_run(snn_run_dir, tmp_path_factory) -> Path:
    import shutil

    import torch

    from edge_shm.jsonio import read_json, write_json
    from edge_shm.runs import load_run, save_tensors

    out = tmp_path_factory.mktemp("runs") / "snn-spiking"
    shutil.copytree(snn_run_dir, out)
    model, _ = load_run(out)
    with torch.no_grad():
        for name, g in GAINS.items():
            getattr(model, name).weight.mul_(g)
            getattr(model, name).bias.mul_(g)
    config = read_json(out / "config.json")
    config["weights_sha256"] = save_tensors(out / "weights.safetensors", model.state_dict())
    config["note"] = f"test copy of {snn_run_dir} with conv gains {GAINS}"
    write_json(out / "config.json", config)
    return out


@pytest.fixture(scope="session")
def held_out(crack_lib):
    """Test-split frames of the small crack library (N, T, H, W): never trained on."""
    return crack_lib.frames[crack_lib.indices("test")]


@pytest.fixture(scope="session")
def mixed_lib_path(tmp_path_factory) -> Path:
    """A small mixed-timing crack library (every timing, pauses, late starts)."""
    from edge_shm.data.generators import build

    path = tmp_path_factory.mktemp("lib") / "fcg-mixed-40.h5"
    build("fcg", path, 40, 12, timing="mixed")
    return path


@pytest.fixture(scope="session")
def motion_run_dir(mixed_lib_path, tmp_path_factory) -> Path:
    """A motion SNN trained briefly on the mixed library, with its band (through the CLI)."""
    from edge_shm.cli import main

    out = tmp_path_factory.mktemp("runs") / "motion"
    args = ["train", "--model", "motion-snn", "-l", str(mixed_lib_path), "-o", str(out)]
    assert main([*args, "--epochs", "4", "--batch-size", "64", "--lr", "0.003"]) == 0
    return out
