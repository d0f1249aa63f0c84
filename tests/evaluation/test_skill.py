"""Forecast-skill metrics and the naive forecasts on hand-made cracks with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.draw import line
from skimage.morphology import dilation

from edge_shm.evaluation.baselines import constant_velocity, copy_last, shift, zeros
from edge_shm.evaluation.skill import ErrorStats, forecast_scores, skill, tolerant_f1
from edge_shm.vector import compare_geometry

pytestmark = pytest.mark.fast

PIXEL_MM = 0.075


def crack(end_col: int, row: int = 48, slope: float = 0.0, shape=(96, 132)) -> np.ndarray:
    """A crack drawn as the library draws them: a line from the left edge, 2 px wide."""
    img = np.zeros(shape, bool)
    rr, cc = line(row, 0, int(round(row + slope * end_col)), end_col)
    img[rr, cc] = True
    return dilation(img, np.ones((2, 2), bool)).astype(np.float32)


def test_a_tip_3_px_off_is_0_225_mm():
    assert compare_geometry(crack(60), crack(63), PIXEL_MM)["tip_error_mm"] == pytest.approx(
        3 * PIXEL_MM, abs=1e-6
    )


def test_a_crack_shifted_by_1_px_keeps_tolerant_f1_at_1():
    true = crack(60)
    moved = np.roll(true, 1, axis=0)
    assert tolerant_f1(moved[None], true[None]) == (1.0, 1.0, 1.0)
    exact = (moved > 0.5) & (true > 0.5)  # the exact-overlap F1 is far from 1
    assert exact.sum() / true.sum() < 0.6
    far = np.roll(true, 4, axis=0)  # 3 and 4 px away: beyond the 2 px tolerance
    assert tolerant_f1(far[None], true[None])[2] < 0.1


def test_constant_velocity_is_exact_on_a_straight_crack_at_constant_speed():
    frames = np.stack([crack(10 + 16 * k) for k in range(5)])
    for k in range(2, 4):
        forecast = constant_velocity(frames[None, k - 2 : k + 1])[0]
        assert np.array_equal(forecast, frames[k + 1])
    s = forecast_scores(constant_velocity(frames[None, 1:4]), frames[None, 4], PIXEL_MM)
    assert s.tip_error_mm.median == 0.0 and s.tolerant_f1 == 1.0 and s.mae_raw == 0.0


def test_constant_velocity_keeps_the_direction_of_a_sloped_crack():
    frames = np.stack([crack(10 + 16 * k, row=30, slope=0.5) for k in range(4)])
    s = forecast_scores(constant_velocity(frames[None, :3]), frames[None, 3], PIXEL_MM)
    assert s.tip_error_mm.median < 2 * PIXEL_MM
    copy = forecast_scores(copy_last(frames[None, :3]), frames[None, 3], PIXEL_MM)
    assert copy.tip_error_mm.median > 15 * PIXEL_MM  # the tip moved about 18 px


def test_naive_forecasts_and_edge_cases():
    w = np.stack([crack(10), crack(10), crack(10)])[None]
    assert np.array_equal(constant_velocity(w)[0], w[0, -1])  # no growth: copy-last
    assert zeros(w).max() == 0.0
    m = np.zeros((4, 5), bool)
    m[1, 1] = True
    assert shift(m, 2, 3)[3, 4] and shift(m, -1, -1)[0, 0] and not shift(m, 9, 0).any()


def test_missing_forecasts_count_as_infinite_in_median_and_p90():
    s = ErrorStats.of([0.1, 0.2, float("nan"), 0.3])
    assert s.missing == 1 and s.mean == pytest.approx(0.2)
    assert s.median == 0.3 and s.p90 == float("inf")
    empty = forecast_scores(np.zeros((2, 96, 132)), np.stack([crack(40)] * 2), PIXEL_MM)
    assert empty.tip_error_mm.missing == 2 and empty.tolerant_f1 == 0.0


def test_skill_against_copy_last():
    assert skill(0.2, 1.0) == pytest.approx(0.8)
    assert skill(2.0, 1.0) == pytest.approx(-1.0)
    assert np.isnan(skill(float("inf"), 1.0))


def test_binary_rollouts_feed_back_the_crack_map():
    from edge_shm.evaluation.horizons import rollouts

    seen = []

    def soft(windows, ctx=None):  # forecasts 0.6 everywhere; records what it was fed
        seen.append(windows[:, -1].copy())
        return np.full(windows.shape[:1] + windows.shape[2:], 0.6, np.float32)

    frames = np.zeros((1, 5, 4, 4), np.float32)
    preds, _, valid = rollouts({"soft": soft}, frames, 3, horizons=2, binary=True)
    assert np.all(preds["soft"][valid] == np.float32(0.6))  # scored as forecast
    # no true frame to score: not forecast, the window's last frame (the fed-back crack map)
    assert np.all(preds["soft"][~valid] == 1.0)
    assert np.all(seen[1][0] == 1.0)  # fed back as crack map
    seen.clear()
    rollouts({"soft": soft}, frames, 3, horizons=2, binary=False)
    assert np.all(seen[1][0] == np.float32(0.6))
