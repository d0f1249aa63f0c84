"""The trained forecasting SNN shipped in examples/runs/ (what `make demo` and users start from)."""

import json
from pathlib import Path

import numpy as np
import torch

from edge_shm.models.base import count_parameters
from edge_shm.training.checkpoint import load_run

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


def test_shipped_evaluation_beats_copy_last_at_every_horizon():
    ev = json.loads((RUN / "evaluation.json").read_text())
    assert ev["format_version"] == 2
    for h in ev["forecast"]["horizons"]:
        model, copy = h["methods"]["model"], h["methods"]["copy_last"]
        assert model["tip_error_mm"]["median"] < copy["tip_error_mm"]["median"]
        assert model["tolerant_f1"] >= copy["tolerant_f1"] + 0.04
