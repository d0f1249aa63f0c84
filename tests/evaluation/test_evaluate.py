"""Metrics against hand-computed values, and the evaluation report."""

import json

import numpy as np
import pytest
import torch

from edge_shm.evaluation.forecast import autoregressive_rollout, streaming_rollout
from edge_shm.evaluation.metrics import crack_scores, crack_thickness_px, mae


@pytest.mark.fast
def test_mae_equals_hand_computed_value():
    pred = np.array([[[0.0, 0.5], [1.0, 0.25]]])
    true = np.array([[[0.0, 1.0], [0.0, 0.25]]])
    assert mae(pred, true) == pytest.approx((0 + 0.5 + 1.0 + 0) / 4)


@pytest.mark.fast
def test_crack_scores_hand_computed():
    true = np.array([1, 1, 1, 0, 0, 0], float)
    pred = np.array([0.9, 0.6, 0.1, 0.7, 0.0, 0.2])
    precision, recall, f1 = crack_scores(pred, true)
    assert precision == pytest.approx(2 / 3)
    assert recall == pytest.approx(2 / 3)
    assert f1 == pytest.approx(2 / 3)


@pytest.mark.fast
def test_thickness_of_a_band():
    img = np.zeros((20, 30))
    img[8:11, 5:25] = 1.0
    assert crack_thickness_px(img) == pytest.approx(3.0, rel=0.15)


class CopyLast(torch.nn.Module):
    """A model whose forecast is the last input frame (state: nothing)."""

    device = torch.device("cpu")

    def forward(self, x):
        return x

    def initial_state(self, batch=1, device=None):
        return ()

    def step(self, frame, state):
        return frame, state


@pytest.mark.fast
def test_autoregressive_rollout_feeds_predictions_back():
    frames = np.random.default_rng(0).random((2, 6, 4, 5)).astype(np.float32)
    roll = autoregressive_rollout(CopyLast(), frames, n_in=3)
    assert roll.shape == (2, 3, 4, 5)
    assert np.allclose(roll, frames[:, 2:3].repeat(3, axis=1))


@pytest.mark.fast
def test_streaming_rollout_is_one_step_per_frame():
    frames = np.random.default_rng(1).random((2, 6, 4, 5)).astype(np.float32)
    assert np.array_equal(streaming_rollout(CopyLast(), frames), frames)


def test_evaluate_writes_reports_with_baselines(snn_run_dir, crack_lib, tmp_path):
    from edge_shm.cli import main

    out = tmp_path / "ev"
    assert (
        main(["evaluate", str(snn_run_dir), "--library", str(crack_lib.path), "-o", str(out)]) == 0
    )
    ev = json.loads((out / "evaluation.json").read_text())
    one = ev["one_step"]
    n_test = int(crack_lib.split.sum())
    assert one["windows"] == 5 * n_test
    test_frames = crack_lib.frames[crack_lib.indices("test")]
    expected_zero = np.mean(
        [mae(np.zeros_like(f), f) for f in test_frames[:, 3:].reshape(-1, 96, 132)]
    )
    assert one["zeros"]["mae"] == pytest.approx(expected_zero, rel=1e-6)
    assert one["copy_last"]["mae"] > 0 and one["copy_last"]["f1"] > 0.5
    assert len(ev["rollout"]["steps"]) == 5
    assert "length_error_mm" in ev["rollout"]["steps"][0]["geometry"]
    for name in (
        "evaluation.md",
        "mae_per_step.png",
        "predictions.png",
        "tip_error_per_horizon.png",
    ):
        assert (out / name).stat().st_size > 0
    assert (ev["format"], ev["format_version"]) == ("edge-shm-evaluation", 2)
    horizons = ev["forecast"]["horizons"]
    assert [h["horizon"] for h in horizons] == [1, 2, 3, 4]
    # horizon k scores every window whose k-th next frame exists: (T - n_in - k + 1) per sample
    assert [h["forecasts"] for h in horizons] == [(5 - k) * n_test for k in range(4)]
    methods = horizons[0]["methods"]
    assert set(methods) == {
        "model",
        "zeros",
        "copy_last",
        "constant_velocity",
        "constant_acceleration",
        "paris",
    }
    assert methods["zeros"]["tolerant_f1"] == 0.0
    assert methods["copy_last"]["mae_raw"] == pytest.approx(one["copy_last"]["mae"], rel=1e-6)
    md = (out / "evaluation.md").read_text()
    assert "| constant-velocity tip |" in md and "### Horizon 4" in md
    assert "| constant-acceleration tip |" in md and "| Paris-law extrapolation |" in md


def test_crack_map_is_scored_on_binary_libraries(snn_run_dir, crack_lib):
    from edge_shm.evaluation.evaluate import evaluate
    from edge_shm.evaluation.metrics import crack_map
    from edge_shm.runs import load_run

    model, _ = load_run(snn_run_dir)
    ev = evaluate(model, crack_lib, geometry=False)
    one = ev.one_step
    assert one.binary_library
    pred = ev.arrays.one_step_pred
    truth = crack_lib.frames[crack_lib.indices("test")][:, 3:].reshape(-1, 96, 132)
    assert one.model_crack_map.mae == pytest.approx(mae(crack_map(pred), truth), rel=1e-9)
    assert one.model_crack_map.f1 == pytest.approx(one.model.f1)
    assert "model_crack_map" in ev.rollout.mean_mae
    d = ev.to_dict()  # the evaluation.json layout of 0.1.0
    assert set(d["one_step"]) >= {"windows", "model", "zeros", "copy_last", "model_crack_map"}
    assert "thickness_px" in d["one_step"]["model"]
