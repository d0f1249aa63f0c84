"""On site with the shipped motion SNN: frames to critical on a steadily growing crack, no
warning for a crack that does not grow, and every forecast with its band and the baselines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge_shm.cli import main
from edge_shm.evaluation.remaining import forecast_within_band

RUN = Path(__file__).resolve().parents[2] / "examples" / "runs" / "motion-snn"
PIXEL_MM = 0.075


def _forecast(tmp_path, frames: np.ndarray, *extra) -> list[dict]:
    np.save(tmp_path / "f.npy", frames)
    out = tmp_path / "out"
    args = ["forecast", str(RUN), "--frames", str(tmp_path / "f.npy"), "--pixel-mm",
            str(PIXEL_MM), "--critical-length", "8", "-o", str(out), *extra]  # fmt: skip
    assert main(args) == 0
    return [json.loads(line) for line in (out / "forecast.jsonl").read_text().splitlines()]


def _straight(lengths):
    frames = np.zeros((len(lengths), 96, 132), np.float32)
    for f, n in zip(frames, lengths, strict=True):
        f[47:49, : min(int(n), 132)] = 1.0
    return frames


def test_frames_to_critical_within_one_frame_on_a_crack_growing_8_px_per_frame(tmp_path):
    records = _forecast(tmp_path, _straight(13 + 8 * np.arange(14)))
    judged = 0
    for r in records:
        a = r["observed"]["a_mm"]
        truth = (8.0 - a) / (8 * PIXEL_MM)  # frames until a reaches 8 mm
        ahead = r["frames_to_critical"]["forecast"]
        if r["forecast"] and 0 < truth <= len(r["forecast"]):
            assert ahead is not None and abs(ahead - truth) <= 1.0, (a, ahead, truth)
            judged += 1
        elif r["forecast"] and truth > len(r["forecast"]) + 1:
            assert ahead is None  # not within the horizon: no forecast alarm
    assert judged >= 3


def test_a_crack_that_does_not_grow_never_raises_the_warning(tmp_path):
    records = _forecast(tmp_path, _straight([70] * 10), "--cycles-per-frame", "500")
    assert [r["warning"] for r in records] == ["ok"] * 10
    fc = [f for r in records for f in r["forecast"]]
    assert fc and all(f["a_mm"] == records[-1]["observed"]["a_mm"] for f in fc)


def test_every_forecast_carries_its_band_and_the_baselines(tmp_path):
    records = _forecast(
        tmp_path, _straight(13 + 6 * np.arange(8)), "--cycles-per-frame", "1000",
        "--plate-width-mm", "10",
    )  # fmt: skip
    last = records[-1]
    bands = [f["band_mm"] for f in last["forecast"]]
    assert all(b > 0 for b in bands) and bands == sorted(bands)  # wider further ahead
    assert all(f["spread_mm"] >= 0 and f["window_advance_mm"] > 0 for f in last["forecast"])
    base = last["baselines_a_mm"]
    assert base["constant_velocity"][0] == pytest.approx(last["observed"]["a_mm"] + 6 * PIXEL_MM)
    assert len(base["constant_acceleration"]) == 4 and len(base["paris"]) == 4
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    skill = summary["skill_on_site"]
    assert [s["horizon"] for s in skill] == [1, 2, 3, 4] and skill[0]["forecasts"] >= 3
    assert "How the forecasts did" in (tmp_path / "out" / "REPORT.md").read_text()


@pytest.mark.fast
def test_the_warning_uses_a_forecast_only_within_its_band_of_the_trend():
    # growing 0.5 mm/frame from 5 mm: a forecast of 9 mm one frame ahead is clipped to 5.7 mm
    assert forecast_within_band([9.0], 5.0, 0.5, [0.2]) == [pytest.approx(5.7)]
    assert forecast_within_band([5.6], 5.0, 0.5, [0.2]) == [pytest.approx(5.6)]
    assert forecast_within_band([9.0], 5.0, 0.5, [None]) == [pytest.approx(5.5)]  # no band
    assert forecast_within_band([9.0, 9.5], 5.0, 0.0, [2.0, 3.0]) == [5.0, 5.0]  # no growth
    assert forecast_within_band([9.0], 5.0, None, [2.0]) == [5.0]


@pytest.mark.fast
def test_the_frames_forecast_follow_the_known_schedule_or_the_last_interval():
    from edge_shm.onsite.streaming import schedule

    assert schedule([0.0, 100.0, 250.0], 3) == [400.0, 550.0, 700.0]  # a camera's interval
    assert schedule([0.0, 100.0], 2, [130.0, 140.0]) == [130.0, 140.0]  # a cycles file
    assert schedule([0.0, 100.0], 2, [130.0]) == [200.0, 300.0]  # the file ends: extrapolate
    assert schedule([None, 100.0], 2) == [None, None]
