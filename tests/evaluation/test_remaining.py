"""Remaining life: frames to critical by hand, and the Paris-law fit on known constants."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.draw import line

from edge_shm.data.generators.fcg import FCGParams, grow_crack
from edge_shm.evaluation import remaining
from edge_shm.onsite.loop import ForecastLoop, LoopConfig, geometry
from edge_shm.onsite.outputs import _hours_text
from edge_shm.onsite.sources import Arrival
from edge_shm.onsite.streaming import StreamingForecaster

pytestmark = pytest.mark.fast

PX = 0.075


def straight_crack(cols: int, shape=(96, 132)) -> np.ndarray:
    f = np.zeros(shape, np.float32)
    rr, cc = line(48, 0, 48, cols)
    f[rr, cc] = 1
    f[49, : cols + 1] = 1  # 2 px wide, as the library draws
    return f


class CopyLast:
    """A stepper whose forecast is its last input (enough to drive the loop)."""

    frame_shape = (96, 132)

    def initial_state(self, batch=1):
        return None

    def step(self, frame, state):
        return frame, state


def test_frames_to_critical_on_a_straight_crack_growing_4_px_per_frame():
    cfg = LoopConfig(n_in=3, horizon=2, pixel_mm=PX, critical_mm=6.0)
    loop = ForecastLoop(StreamingForecaster(CopyLast(), 3, 2), cfg)
    recs = [loop.push(Arrival(f"f{t}", straight_crack(20 + 4 * t))) for t in range(6)]
    a = [r["observed"]["a_mm"] for r in recs]
    assert np.allclose(np.diff(a), 4 * PX)  # the encoder sees the 4 px steps exactly
    # By hand: tip column 40 at the last frame, tip x = (40 + 0.5) px; 0.3 mm per frame.
    assert a[-1] == pytest.approx(40.5 * PX, abs=1e-6)
    expected = (6.0 - 40.5 * PX) / (4 * PX)
    assert recs[-1]["frames_to_critical"]["trend"] == pytest.approx(expected, rel=1e-6)
    assert recs[-1]["growth_mm_per_frame"] == pytest.approx(4 * PX, rel=1e-6)
    assert recs[0]["forecast"] == [] and len(recs[2]["forecast"]) == 2


def test_frames_to_critical_rules():
    assert remaining.frames_to_critical(5.0, 4.0, 0.3) == 0.0
    assert remaining.frames_to_critical(3.0, 4.5, 0.3) == pytest.approx(5.0)
    assert remaining.frames_to_critical(3.0, 4.5, 0.0) is None
    assert remaining.first_horizon_reaching([3.0, None, 4.6, 5.0], 4.5) == 3
    assert remaining.warning_level(3.0, 4.5, 4, 5.0, None) == "watch"
    assert remaining.warning_level(3.0, 4.5, 4, 3.0, None) == "alert"
    assert remaining.warning_level(4.6, 4.5, 4, 0.0, 0) == "critical"
    assert remaining.warning_level(None, 4.5, 4, None, None) == "unknown"


@pytest.mark.parametrize("c, m", [(9.7e-12, 3.0), (2e-11, 3.4)])
def test_paris_fit_recovers_known_constants(c, m):
    """A straight crack grown by the library's own physics (constant tension, no shear) in
    0.01 mm increments, cut into its 8 frames: the fit finds C and m within 5 %."""
    p = FCGParams(paris_c=c, paris_m=m, increment_mm=0.01, shear_mean_mpa=0, shear_std_mpa=0)
    hist = grow_crack(np.tile([[180.0, 0.0]], (p.n_segments, 1)), p)
    fit = remaining.fit_paris(hist.frames_tip_mm[:, 0], hist.frames_cycles, 180.0, p.width_mm)
    assert fit.C == pytest.approx(c, rel=0.05)
    assert fit.m == pytest.approx(m, rel=0.05)
    # Cycles from the 4th frame to 8 mm: the fit against the simulation's own count.
    a3 = hist.frames_tip_mm[3, 0]
    got = remaining.cycles_to_critical(fit, a3, 8.0, 180.0, p.width_mm)
    i = int(np.argmax(hist.nodes_mm[:, 0] >= 8.0))
    assert got["cycles"] == pytest.approx(hist.cycles[i] - hist.frames_cycles[3], rel=0.05)
    assert got["low"] <= got["cycles"] <= got["high"]


def test_a_fit_through_three_lengths_has_a_prior_band_not_a_zero_width_one():
    """Two growth steps and two parameters: the fit passes through every point, so its
    residuals say nothing of its uncertainty; the band is the range over the prior exponents
    (each with its best C), and contains the truth of a crack grown with m = 3."""
    p = FCGParams(paris_c=9.7e-12, paris_m=3.0, increment_mm=0.01, shear_mean_mpa=0,
                  shear_std_mpa=0)  # fmt: skip
    hist = grow_crack(np.tile([[180.0, 0.0]], (p.n_segments, 1)), p)
    a, n = hist.frames_tip_mm[:3, 0], hist.frames_cycles[:3]
    fit = remaining.fit_paris(a, n, 180.0, p.width_mm)
    assert fit.points == 3
    got = remaining.cycles_to_critical(fit, a[-1], 8.0, 180.0, p.width_mm, (a, n))
    assert got["band"] == "prior m 2-4" and got["low"] < got["cycles"] < got["high"]
    i = int(np.argmax(hist.nodes_mm[:, 0] >= 8.0))
    assert got["low"] <= hist.cycles[i] - n[-1] <= got["high"]
    blind = remaining.cycles_to_critical(fit, a[-1], 8.0, 180.0, p.width_mm)
    assert blind["band"] == "unknown" and blind["low"] is None
    many = remaining.fit_paris(hist.frames_tip_mm[:, 0], hist.frames_cycles, 180.0, p.width_mm)
    assert remaining.cycles_to_critical(many, a[-1], 8.0, 180.0, p.width_mm)["band"] == "5-95 %"


def test_paris_fit_needs_growth():
    assert remaining.fit_paris([1.0, 1.0], [0, 10], 200, 10) is None


def test_geometry_of_an_empty_frame():
    assert geometry(np.zeros((96, 132), np.float32), PX) == {"crack": False}


def _last_record(interval_s):
    """A crack growing 10 px per frame at 500 cycles per frame, the camera's frame interval
    ``interval_s`` (None: unknown)."""
    physics = dict(cycles_per_frame=500.0, stress_range_mpa=200.0, width_mm=20.0)
    cfg = LoopConfig(n_in=3, horizon=2, pixel_mm=PX, critical_mm=9.0, frame_interval_s=interval_s,
                     **physics)  # fmt: skip
    loop = ForecastLoop(StreamingForecaster(CopyLast(), 3, 2), cfg)
    for t, end in enumerate((20, 30, 40, 50, 60, 70)):
        loop.push(Arrival(f"f{t}", straight_crack(end)))
    return loop.records[-1]


def test_hours_to_critical_are_frames_and_cycles_at_the_frame_interval():
    rec = _last_record(1800.0)  # a frame every half hour
    h, ftc, life = rec["hours_to_critical"], rec["frames_to_critical"], rec["cycles_to_critical"]
    assert h["trend"] == pytest.approx(ftc["trend"] * 0.5)
    assert h["paris"] == pytest.approx(life["cycles"] / 500.0 * 0.5)
    assert h["paris_low"] == pytest.approx(life["low"] / 500.0 * 0.5)
    assert _hours_text(h).startswith(f"trend {h['trend']:.3g} h, Paris")


def test_without_a_frame_interval_hours_are_unknown():
    rec = _last_record(None)
    assert "hours_to_critical" not in rec
    assert _hours_text(rec.get("hours_to_critical")).startswith("unknown: no frame interval")
