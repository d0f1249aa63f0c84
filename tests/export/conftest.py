"""Fixtures for the export tests: a trained SNN that spikes in every layer."""

from __future__ import annotations

from pathlib import Path

import pytest

# The briefly trained SNN of tests/conftest.py barely spikes (about 2e-5 of layer-1 neurons,
# none deeper), so spike parity would be trivial. These gains on its conv weights and biases
# make every layer spike on the held-out frames (about 6 %, 20 %, 19 %).
GAINS = {"conv1": 6.0, "conv2": 30.0, "deconv1": 30.0}


@pytest.fixture(scope="session")
def spiking_snn_run(snn_run_dir, tmp_path_factory) -> Path:
    import shutil

    import torch

    from edge_shm.jsonio import read_json, write_json
    from edge_shm.training.checkpoint import load_run, save_tensors

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
