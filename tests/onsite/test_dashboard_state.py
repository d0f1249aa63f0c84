"""What ``/state.json`` tells the page: when each frame arrived (the server notes each record as
it appears; a record's own ``received`` wins), the latest skipped files with their reasons,
newest first, and the last frame's name and load cycles."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from types import SimpleNamespace

import pytest

from edge_shm.onsite.dashboard import SKIPS, Clock, Dashboard, snapshot

pytestmark = pytest.mark.fast


def _loop(records: list) -> SimpleNamespace:
    return SimpleNamespace(
        lock=threading.Lock(),
        records=records,
        frames=[],
        forecast_maps=[],
        shape=None,
        info={"model": "m", "backend": "torch", "source": "watching /x/"},
        cfg=SimpleNamespace(critical_mm=8.0, horizon=4),
        energy=None,
    )


def _ok(i: int, name: str, cycles: float | None = None, **more) -> dict:
    return {"frame": i, "name": name, "status": "ok", "cycles": cycles, "warning": "ok",
            "observed": {"crack": True, "a_mm": 1.0 + i}, "forecast": [],
            "frames_to_critical": {"trend": 3.0, "forecast": None}, **more}  # fmt: skip


def _skip(i: int, name: str) -> dict:
    return {"frame": i, "name": name, "status": "skipped", "error": f"not an image file ({name})"}


def test_each_record_is_timed_when_it_appears():
    records = [_skip(0, "notes.txt")]
    loop, clock = _loop(records), Clock()
    before = time.time()
    s = snapshot(loop, clock)
    assert s["last"] is None and before <= s["skips"][0]["received"] <= s["now"]
    first = clock.times[0]
    records.append(_ok(1, "frame_000.png", 0.0))
    s = snapshot(loop, clock)
    assert clock.times[0] == first  # a record keeps the time it was first seen
    assert s["last"]["name"] == "frame_000.png" and s["last"]["cycles"] == 0.0
    assert first <= s["last"]["received"] <= s["now"]


def test_a_records_own_time_wins():
    iso = "2024-05-01T14:32:05+02:00"
    loop = _loop([_ok(0, "a.png", received=iso), _ok(1, "b.png", received=1.7e9)])
    s = snapshot(loop, Clock())
    assert s["last"]["received"] == 1.7e9
    loop.records.pop()
    assert snapshot(loop, Clock())["last"]["received"] == datetime.fromisoformat(iso).timestamp()


def test_the_latest_skipped_files_newest_first():
    loop = _loop([_skip(i, f"n{i}.txt") for i in range(SKIPS + 2)] + [_ok(SKIPS + 2, "a.png")])
    s = snapshot(loop, Clock())
    assert [k["name"] for k in s["skips"]] == [f"n{i}.txt" for i in range(SKIPS + 1, 1, -1)]
    assert s["skips"][0]["reason"] == f"not an image file (n{SKIPS + 1}.txt)"
    assert s["last_error"] == s["skips"][0]["reason"] and s["skipped"] == SKIPS + 2


def test_the_server_times_records_without_a_request():
    """The server notes new records on each of its polls, a page open or not."""
    loop = _loop([])
    dash = Dashboard(loop, 0, any_port=True)
    try:
        loop.records.append(_ok(0, "a.png"))
        dash.server.service_actions()  # what serve_forever calls every POLL_S
        assert len(dash.clock.times) == 1
    finally:
        dash.close()
