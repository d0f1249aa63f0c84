"""A forecast's length comes from the pixels the pictures draw (gaps bridged), and a crack that
reaches the view's border says it has left the view (its length a lower bound)."""

from __future__ import annotations

import numpy as np
import pytest

from edge_shm.onsite import outputs
from edge_shm.onsite.loop import ForecastLoop, LoopConfig, geometry
from edge_shm.onsite.skill import onsite_skill
from edge_shm.onsite.sources import Arrival
from edge_shm.onsite.streaming import StreamingForecaster
from edge_shm.onsite.view import bridge_gaps, left_view, measure

pytestmark = pytest.mark.fast

PX = 0.075
SHAPE = (96, 132)  # a view 9.9 mm wide


def band(end: int, rows: int = 2, gap=(), top: int = 47) -> np.ndarray:
    """A straight crack from the mouth (column 0) to column ``end``, ``rows`` px wide, with
    the columns ``gap`` missing."""
    f = np.zeros(SHAPE, np.float32)
    f[top : top + rows, : end + 1] = 1
    f[:, list(gap)] = 0
    return f


def tip_col(geom: dict, offset: float = 0.0) -> float:
    return (geom["a_mm"] - offset) / PX - 0.5


class Fixed:
    """A stepper whose every forecast is one fixed frame."""

    frame_shape = SHAPE

    def __init__(self, forecast):
        self.forecast = np.asarray(forecast, np.float32)[None, None]

    def initial_state(self, batch=1):
        return None

    def step(self, frame, state):
        return self.forecast, state


class CopyLast(Fixed):
    def __init__(self):
        pass

    def step(self, frame, state):
        return frame, state


# --- 1. the forecast's length reaches every piece the picture draws --------------------------


@pytest.mark.parametrize(("rows", "gap"), [(7, [41]), (5, [41, 42])])
def test_a_gap_in_a_wide_forecast_does_not_stop_its_length(rows, gap):
    # The skeleton of a wide piece ends about half its width short of its rim: across one
    # missing column the two skeletons lie 7 px apart, beyond the encoder's 6 px joins.
    gapped = band(80, rows, gap)
    assert tip_col(geometry(gapped, PX)) < 41  # the encoder alone stops at the gap
    got = measure(gapped, PX, bridge=True)
    assert tip_col(got) >= 80 - rows  # the far piece, to within the skeleton's retreat
    solid = measure(band(80, rows), PX)
    assert got["a_mm"] == pytest.approx(solid["a_mm"], abs=PX)  # as if there were no gap


def test_the_loop_measures_the_forecast_the_gif_draws():
    """The records' forecast length reaches the far piece of a forecast with a gap."""
    gapped = band(80, 7, [41])
    loop = ForecastLoop(
        StreamingForecaster(Fixed(gapped), 3, 2),
        LoopConfig(n_in=3, horizon=2, pixel_mm=PX, critical_mm=20.0, a_offset_mm=0.5),
    )
    rec = [loop.push(Arrival(f"f{t}", band(20 + 4 * t, 2))) for t in range(3)][-1]
    drawn = np.unpackbits(loop.forecast_maps[-1][0], count=SHAPE[0] * SHAPE[1])
    far = np.nonzero(drawn.reshape(SHAPE).any(0))[0].max()  # the farthest pixel drawn
    for f in rec["forecast"]:
        assert far - 7 <= tip_col(f, 0.5) <= far
        assert f["left_view"] is False


def test_pieces_are_joined_only_across_a_few_pixels():
    two = band(80, 2, range(41, 46))  # 5 columns missing: nearest pixels 6 px apart
    joined = bridge_gaps(two > 0.5)
    assert joined[47:49, 41:46].any() and (joined & ~(two > 0.5)).sum() == 5  # one 1-px line
    far = band(80, 2, range(41, 48))  # 7 missing: 8 px apart, two cracks
    assert np.array_equal(bridge_gaps(far > 0.5), far > 0.5)
    one = band(60, 3) > 0.5
    assert bridge_gaps(one) is not None and np.array_equal(bridge_gaps(one), one)


# --- 2. a crack at the view's border has left the view ---------------------------------------


def test_a_tip_at_the_far_edge_or_heading_out_by_the_top_has_left_the_view():
    assert measure(band(131), PX)["left_view"] is True  # reaches the last column
    assert measure(band(129), PX)["left_view"] is True  # within 2 px of it
    assert measure(band(120), PX)["left_view"] is False
    assert left_view(np.array([[48.0, 0.0], [20.0, 60.0], [1.0, 70.0]]), SHAPE)  # out at the top
    assert not left_view(np.array([[1.0, 0.0], [1.0, 70.0]]), SHAPE)  # along the top, inside
    assert not left_view(np.array([[50.0, 0.0], [94.0, 70.0], [80.0, 90.0]]), SHAPE)  # turns back


def _run(ends, critical=20.0, horizon=2, **cfg):
    loop = ForecastLoop(
        StreamingForecaster(CopyLast(), 3, horizon),
        LoopConfig(n_in=3, horizon=horizon, pixel_mm=PX, critical_mm=critical, **cfg),
    )
    for t, end in enumerate(ends):
        loop.push(Arrival(f"f{t}", band(end)))
    return loop


def test_records_say_the_crack_left_the_view_and_life_from_it_is_a_lower_bound():
    loop = _run(
        [90, 100, 110, 120, 131, 131],
        cycles_per_frame=1000.0,
        stress_range_mpa=200.0,
        width_mm=20.0,
        a_offset_mm=-1.0,
    )
    recs = loop.records
    assert all(r["view_a_mm"] == pytest.approx(132 * PX - 1.0) for r in recs)
    assert [r["observed"]["left_view"] for r in recs] == [False] * 4 + [True] * 2
    inside, out = recs[3], recs[5]
    assert inside["frames_to_critical"]["a_lower_bound"] is False
    assert inside["cycles_to_critical"]["a_lower_bound"] is False
    assert all(f["left_view"] for f in out["forecast"])  # the copy of a frame that left it
    assert out["frames_to_critical"]["a_lower_bound"] is True
    assert out["cycles_to_critical"]["a_lower_bound"] is True
    assert out["observed"]["a_mm"] < out["view_a_mm"]  # measured in the view: a lower bound


def test_a_forecast_leaving_the_view_short_of_critical_says_the_forecast_is_a_bound():
    loop = _run([60, 70, 131], critical=20.0)  # copy-last: the forecasts show the last frame
    rec = loop.records[-1]
    assert rec["frames_to_critical"]["forecast"] is None
    assert rec["frames_to_critical"]["a_lower_bound"] is True
    low = _run([60, 70, 131], critical=5.0).records[-1]  # reached: no bound to speak of
    assert low["warning"] == "critical" and low["frames_to_critical"]["a_lower_bound"] is False


def test_the_report_and_the_plot_mark_the_crack_beyond_the_view(tmp_path):
    loop = _run([100, 110, 120, 131], critical=20.0, cycles_per_frame=1000.0)
    summ = outputs.summary(loop, "end of the frames")
    text = outputs.report(loop, summ)
    assert "| crack length a (projected) | beyond the view (>= 9.9 mm) |" in text
    row = next(line for line in text.splitlines() if line.startswith("| 3 |"))
    assert row.count("beyond the view (>= 9.9)") == 3  # observed and both forecasts
    assert "(a is a lower bound)" in row
    assert "a lower bound; critical may come sooner" in text
    assert summ["last"]["view_a_mm"] == pytest.approx(9.9)
    outputs.plot(loop, tmp_path / "forecast.png")  # draws the bound markers and the edge
    assert (tmp_path / "forecast.png").stat().st_size > 0


def test_records_without_the_view_keys_still_report_and_score():
    loop = _run([60, 70, 80, 90], critical=20.0)
    for r in loop.records:  # records written before the view keys
        r.pop("view_a_mm")
        r["frames_to_critical"].pop("a_lower_bound")
        for g in [r["observed"], *r["forecast"]]:
            g.pop("left_view")
    text = outputs.report(loop, outputs.summary(loop, "end of the frames"))
    assert "beyond the view" not in text and "| 3 | f3 | 6.79 |" in text


def test_no_forecast_is_scored_against_a_crack_that_left_the_view():
    ends = [60, 70, 80, 90, 131]
    recs = _run(ends, critical=20.0, horizon=1).records
    skill = onsite_skill(recs, 1)[0]
    assert skill["forecasts"] == 1 and skill["beyond_view"] == 1  # frame 3's, against frame 4


def test_a_crack_that_left_the_view_raises_the_warning_to_alert():
    """Critical length (20 mm) far beyond the 9.9 mm view, growth stalled at the edge: the
    trend alone says ok; the crack beyond the view may be critical, so alert with a reason."""
    recs = _run([90, 100, 131, 131, 131, 131]).records
    assert recs[1]["warning"] in ("ok", "watch") and "warning_reason" not in recs[1]
    assert recs[5]["observed"]["left_view"] and recs[5]["warning"] == "alert"
    assert "left the view" in recs[5]["warning_reason"]
