"""Streaming forecasts (one step per frame, state carried) equal evaluate's windowed ones."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from edge_shm.evaluation.forecast import TorchStepper, predict_next
from edge_shm.evaluation.horizons import rollouts
from edge_shm.onsite.streaming import StreamingForecaster, WindowRerunForecaster
from edge_shm.runs import load_run

SHIPPED = Path(__file__).resolve().parents[2] / "examples" / "runs" / "forecast-snn"
H = 3


@pytest.fixture(scope="module")
def shipped():
    model, config = load_run(SHIPPED, "cpu")
    return model, config["window"][0]


def _windowed(model, frames, n_in):
    dtype = next(model.parameters()).dtype

    def f(w, ctx=None):
        return predict_next(model, torch.from_numpy(np.ascontiguousarray(w[:, :, None])).to(dtype))

    preds, _, valid = rollouts({"m": f}, frames, n_in, 0, H, binary=True)
    return preds["m"], valid


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_streaming_equals_windowed_evaluate(shipped, held_out, dtype):
    """In float64 the two orders of computation agree to rounding; in float32 a membrane within
    rounding of the threshold can spike in one and not the other (measured: one spike in 2
    test samples moved 124 pixels by at most 0.022 at horizon 3), never the crack map."""
    model, n_in = shipped
    model = copy.deepcopy(model).to(dtype)
    seqs = held_out[:2].astype(np.float64 if dtype == torch.float64 else np.float32)
    want, valid = _windowed(model, seqs, n_in)
    got = []
    for seq in seqs:
        fc = StreamingForecaster(TorchStepper(model), n_in, H, binary=True)
        per_frame = [fc.push(f) for f in seq]
        assert per_frame[: n_in - 1] == [[]] * (n_in - 1)
        observed = sum(min(t + 1, n_in) for t in range(len(seq)))  # one step per live state
        assert fc.steps == observed + (len(seq) - n_in + 1) * n_in * (H - 1)
        got += [np.stack(p) for p in per_frame[n_in - 1 : -1]]  # windows with a next frame
    got = np.stack(got)  # windows in the same order as rollouts: sample-major
    assert got.shape == want.shape
    # rollouts forecast only the horizons with a true frame to score (the others hold the
    # last frame); the stream forecasts every horizon
    got, want = got[valid], want[valid]
    diff = np.abs(got - want)
    if dtype == torch.float64:
        assert diff.max() < 1e-9
    else:
        assert (diff > 1e-5).mean() < 1e-3
    assert np.array_equal(got > 0.5, want > 0.5)
    assert valid[:, 0].all()


def test_window_rerun_gives_the_same_forecasts(shipped, held_out):
    model, n_in = shipped
    seq = held_out[0][:6]

    def run_windows(w):
        return predict_next(model, torch.from_numpy(np.ascontiguousarray(w[:, :, None])))

    a = StreamingForecaster(TorchStepper(model), n_in, 2)
    b = WindowRerunForecaster(run_windows, n_in, 2, shape=(96, 132))
    for f in seq:
        pa, pb = a.push(f), b.push(f)
        assert len(pa) == len(pb)
        for x, y in zip(pa, pb, strict=True):
            assert np.abs(x - y).max() < 1e-5
