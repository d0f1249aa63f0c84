"""Fixtures of the application-layer tests: a tiny imported crack library, a base SNN trained
on it briefly, and a recorder of progress stages."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_library(tmp_path_factory) -> Path:
    """An imported library: 8 samples (6 train, 2 test) x 5 frames of 16 x 20 px, 0.05 mm per
    px; a 2-px-wide crack grows 3 px per frame from the left edge."""
    from edge_shm.data.importing import import_library

    folder = tmp_path_factory.mktemp("tiny")
    frames = np.zeros((8, 5, 16, 20), np.float32)
    for i in range(8):
        row = 3 + i % 5 * 2
        for t in range(5):
            frames[i, t, row : row + 2, : 4 + 3 * t + i % 3] = 1.0
    np.save(folder / "frames.npy", frames)
    return import_library(folder / "frames.npy", folder / "tiny.h5", 0.05, n_test=2)


@pytest.fixture(scope="session")
def tiny_snn_run(tiny_library, tmp_path_factory) -> Path:
    """A base SNN trained for one epoch on the tiny library (window 3 -> 1)."""
    from edge_shm.data.library import read_library
    from edge_shm.reports.plots import run_loss_curve
    from edge_shm.training import TrainConfig, train

    out = tmp_path_factory.mktemp("tiny-runs") / "snn"
    cfg = TrainConfig(model="snn", epochs=1, batch_size=4, seed=0)
    train(read_library(tiny_library), out, cfg, resume=False, on_checkpoint=run_loss_curve)
    return out


class Stages:
    """A ``progress`` that records each stage as (description, total, steps advanced)."""

    def __init__(self):
        self.opened: list[list] = []

    @property
    def seen(self) -> list[tuple]:
        return [tuple(s) for s in self.opened]

    @contextlib.contextmanager
    def __call__(self, description: str, total: int):
        stage = [description, total, 0]
        self.opened.append(stage)

        def advance(n: int = 1, info: str | None = None) -> None:
            stage[2] += n

        yield advance


@pytest.fixture
def stages() -> Stages:
    return Stages()


@pytest.fixture(scope="session")
def tiny_spiking_run(tiny_snn_run, tmp_path_factory) -> Path:
    """``tiny_snn_run`` with its conv weights and biases scaled (6, 30, 30) so that every LIF
    layer spikes: spike parity checks then compare spikes, not silence."""
    import shutil

    import torch

    from edge_shm.jsonio import read_json, write_json
    from edge_shm.runs import load_run, save_tensors

    out = tmp_path_factory.mktemp("tiny-runs") / "snn-spiking"
    shutil.copytree(tiny_snn_run, out)
    model, _ = load_run(out)
    with torch.no_grad():
        for name, gain in (("conv1", 6.0), ("conv2", 30.0), ("deconv1", 30.0)):
            getattr(model, name).weight.mul_(gain)
            getattr(model, name).bias.mul_(gain)
    config = read_json(out / "config.json")
    config["weights_sha256"] = save_tensors(out / "weights.safetensors", model.state_dict())
    write_json(out / "config.json", config)
    return out
