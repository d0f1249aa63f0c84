"""Forecasts that know physics: Paris-law extrapolation against the closed form, constant
acceleration on a crack speeding up evenly, and the refusals with their reasons."""

from __future__ import annotations

import numpy as np
import pytest

from edge_shm.evaluation.physics_baselines import (
    ParisForecaster,
    WindowContext,
    constant_acceleration,
)
from edge_shm.evaluation.remaining import paris_cycles_between, paris_extrapolate
from edge_shm.vector.motion import observe

pytestmark = pytest.mark.fast

W = 10.0  # plate width, mm
LOG_C, M = np.log(9.7e-12 * 200.0**3), 3.0  # C' = C d_sigma^m at 200 MPa


def _cycles_to(a_mm):
    return np.array([paris_cycles_between(1.0, a, LOG_C, M, 1.0, W) for a in a_mm])


def test_paris_extrapolation_recovers_the_closed_form_law():
    a = np.linspace(1.0, 6.0, 8)
    n = _cycles_to(a)
    for k in (3, 5, 7):
        got = paris_extrapolate(a[:k], n[:k], n[k], W)
        # fitted C and m reproduce the integral law: the length at the next cycles to 1e-5 mm
        assert got == pytest.approx(a[k], abs=1e-5)


def test_paris_refuses_short_histories_and_reports_why():
    assert paris_extrapolate([1.0, 1.2], [0.0, 10.0], 20.0, W) == "fewer than 3 frames of growth"
    flat = paris_extrapolate([1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 2.0, 3.0], 4.0, W)
    assert flat == "fewer than 3 frames of growth"


def _straight(lengths_px, width=2):
    frames = np.zeros((len(lengths_px), 96, 132), np.float32)
    for f, n in zip(frames, lengths_px, strict=True):
        f[47 : 47 + width, : int(n)] = 1.0
    return frames


def test_constant_acceleration_is_exact_on_a_crack_speeding_up_evenly():
    frames = _straight([20, 24, 32, 44])  # advances 4, 8, 12: constant acceleration
    got = constant_acceleration(frames[None, :3])[0]
    assert abs(observe(got).tip[1] - observe(frames[3]).tip[1]) <= 1.0
    # a slowing crack is never forecast to shrink
    slow = constant_acceleration(_straight([20, 40, 44])[None])[0]
    assert observe(slow).tip[1] >= observe(_straight([44])[0]).tip[1]


def test_paris_forecaster_refuses_without_cycles_or_width_and_counts_it():
    a_mm = np.array([2.0, 2.6, 3.4])
    frames = _straight(np.round(a_mm / 0.075))
    paris = ParisForecaster()
    out = paris(frames[None], None)
    assert np.array_equal(out[0], frames[-1]) and paris.refusals["no cycles known"] == 1
    ctx = WindowContext(cycles=np.array([[0.0, 10.0, 20.0, 30.0]]), pixel_mm=0.075)
    paris(frames[None], ctx)
    assert paris.refusals["plate width unknown"] == 1 and paris.forecasts == 2


def test_paris_forecaster_follows_a_constant_load_crack():
    # 8 frames at equal cycle intervals of a crack growing by the law from 2 mm to 3.4 mm;
    # the fit sees the 4 frames before the window and the window's 3
    n = np.linspace(0.0, 0.8, 8) * float(_cycles_to([8.0])[0] - _cycles_to([2.0])[0])
    n += float(_cycles_to([2.0])[0])
    a_mm = np.array([_a_at(c) for c in n])
    frames = _straight(np.round(a_mm / 0.075) + 1)
    a_seen = [observe(f).tip[1] * 0.075 for f in frames]
    ctx = WindowContext(cycles=n[None, 4:], history=[(a_seen[:4], list(n[:4]))], pixel_mm=0.075,
                        width_mm=W)  # fmt: skip
    paris = ParisForecaster()
    got = paris(frames[None, 4:7], ctx)[0]
    assert paris.refusals == {}
    # whole-pixel lengths limit the fit: within 2 px of the truth
    assert abs(observe(got).tip[1] - observe(frames[7]).tip[1]) <= 2.0


def _a_at(cycles: float) -> float:
    from scipy.optimize import brentq

    return brentq(lambda a: _cycles_to([a])[0] - cycles, 1.0, 0.999 * W)
