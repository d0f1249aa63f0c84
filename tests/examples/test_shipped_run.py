"""The trained forecasting SNN shipped in examples/runs/ (what `make demo` and users start from)."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from edge_shm.models.base import count_parameters
from edge_shm.runs import load_run

RUN = Path(__file__).resolve().parents[2] / "examples" / "runs" / "forecast-snn"


def test_shipped_run_loads_and_forecasts_a_full_frame():
    model, config = load_run(RUN)  # checks the weights' sha256 against config.json
    assert config["model"] == "forecast-snn" and count_parameters(model) == 17_528
    assert (RUN / "weights.safetensors").stat().st_size < 100_000
    assert not (RUN / "optimizer.safetensors").exists()
    frame = np.zeros((1, 1, 96, 132), np.float32)
    frame[0, 0, 47:49, :40] = 1.0  # a straight crack from the left edge
    with torch.no_grad():
        state = model.initial_state(1)
        for _ in range(3):
            pred, state = model.step(torch.from_numpy(frame), state)
    pred = pred.numpy()
    assert pred.shape == frame.shape
    assert np.all(pred[frame > 0] == 1.0)  # what is cracked stays cracked


@pytest.mark.fast
def test_shipped_evaluation_beats_copy_last_at_every_horizon():
    ev = json.loads((RUN / "evaluation.json").read_text())
    assert ev["format_version"] == 2
    for h in ev["forecast"]["horizons"]:
        model, copy = h["methods"]["model"], h["methods"]["copy_last"]
        assert model["tip_error_mm"]["median"] < copy["tip_error_mm"]["median"]
        assert model["tolerant_f1"] >= copy["tolerant_f1"] + 0.04


MOTION = RUN.parent / "motion-snn"


@pytest.mark.fast
def test_shipped_motion_run_loads_with_its_codec_and_band():
    from edge_shm.evaluation.band import read_band

    model, config = load_run(MOTION)  # checks the weights' sha256 against config.json
    assert config["model"] == "motion-snn" and config["codec"] == model.codec.to_dict()
    assert config["library_kind"] == "fcg" and not (MOTION / "optimizer.safetensors").exists()
    band = read_band(MOTION)
    assert len(band["ratio"]) == 4 and band["ratio"] == sorted(band["ratio"])


@pytest.mark.parametrize("timing, frames", [("cycles", 8), ("slices", 15), ("static", 8)])
def test_shipped_motion_run_holds_its_ground_on_unseen_timings(tmp_path, timing, frames):
    """On a small library of a seed no run saw: one frame ahead the median tip error within
    1.05 x the better of copy-last and constant velocity, tolerant F1 at least copy-last's
    (the bench checks the same on 50-100 samples per timing)."""
    from edge_shm.data.generators import build
    from edge_shm.data.library import read_library
    from edge_shm.evaluation.evaluate import evaluate

    lib = read_library(build("fcg", tmp_path / "l.h5", 10, 909, timing=timing, frames=frames))
    model, _ = load_run(MOTION)
    h1 = evaluate(model, lib, split="all").forecast[0].methods
    best = min(h1["copy_last"].tip_error_mm.median, h1["constant_velocity"].tip_error_mm.median)
    assert h1["model"].tip_error_mm.median <= 1.05 * best + 1e-12
    assert h1["model"].tolerant_f1 >= h1["copy_last"].tolerant_f1
