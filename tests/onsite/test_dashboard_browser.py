"""The live dashboard as a site engineer sees it, in a real headless Chromium (Debian's
``chromium``, installed by scripts/setup.sh), while ``forecast --watch --serve`` ingests the
shipped sensor frames: the empty state before the first frame, the chart's axes, ticks, units,
legend and critical line, time to critical in frames, load cycles (with the band) and hours,
the last frame's name, time and cycles, the skipped files' reasons in plain words, the layout
on a phone's width.

The screenshots are kept in ``tests-out/dashboard/`` (gitignored; copied to
``$EDGE_SHM_TEST_ARTEFACTS`` too when set). Synchronisation is on what the command writes (the
dashboard's address, then one line per frame, each after its record is in the loop); the
bounds below only end a failure.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "examples" / "runs" / "motion-snn"
SENSOR = ROOT / "examples" / "sensor"
SHOTS = ROOT / "tests-out" / "dashboard"
CYCLES = str(SENSOR / "cycles.json")
ARGS = [
    "--crack",
    "dark",
    "--a-offset-mm",
    "-1.05",
    "--cycles-file",
    CYCLES,
    "--critical-length",
    "8",
    "--stress-range-mpa",
    "200",
    "--plate-width-mm",
    "10",
    "--frame-interval",
    "600",
]  # fmt: skip  (a frame every 10 minutes)
BOUND = 180.0  # seconds: a failure bound, never a wait
WIDE, NARROW = (1280, 1500), (390, 2000)  # a desk's window and a phone's (px)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("no Chromium on PATH (chromium, chromium-browser or google-chrome): "
                "scripts/setup.sh installs Debian's chromium, as CI does")  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    """``forecast --watch INBOX --serve PORT`` with its stderr read line by line."""

    def __init__(self, tmp: Path, max_frames: int):
        self.inbox, self.out = tmp / "inbox", tmp / "out"
        self.inbox.mkdir()
        cmd = [sys.executable, "-m", "edge_shm", "forecast", str(MODEL), "--watch", str(self.inbox),
               "--serve", str(_free_port()), "--max-frames", str(max_frames), *ARGS,
               "-o", str(self.out)]  # fmt: skip
        env = dict(os.environ, COLUMNS="400")  # one line per note
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, cwd=tmp, env=env)  # fmt: skip
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.said: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # end of file: the command ended

    def wait_for(self, pattern: str) -> re.Match:
        """The first line (from here on) of the command's stderr that matches ``pattern``."""
        while True:
            try:
                line = self.lines.get(timeout=BOUND)
            except queue.Empty:
                raise AssertionError(f"no line {pattern!r} in {BOUND} s: {self.said}") from None
            if line is None:
                raise AssertionError(f"the command ended before {pattern!r}: {self.said}")
            self.said.append(line)
            if m := re.search(pattern, line):
                return m

    def drop(self, name: str, data: bytes) -> None:
        """Write ``name`` into the watched folder whole (a dot file, then renamed)."""
        part = self.inbox / f".{name}.part"
        part.write_bytes(data)
        part.rename(self.inbox / name)

    def frame(self, name: str, data: bytes) -> str:
        """Drop a file and wait for the command's line about it: the record is in the loop."""
        self.drop(name, data)
        return self.wait_for(rf"^frame \d+ {re.escape(name)}: ").string


def _browse(
    chromium: str, url: str, size: tuple[int, int], *what: str
) -> subprocess.CompletedProcess:
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--hide-scrollbars", f"--window-size={size[0]},{size[1]}",
           "--virtual-time-budget=5000", *what, url]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _dom(chromium: str, url: str, size: tuple[int, int] = WIDE) -> str:
    done = _browse(chromium, url, size, "--dump-dom")
    assert done.returncode == 0 and "</html>" in done.stdout, done.stderr[-2000:]
    return done.stdout


def _shot(chromium: str, url: str, name: str, size: tuple[int, int] = WIDE) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    path.unlink(missing_ok=True)
    done = _browse(chromium, url, size, f"--screenshot={path}")
    assert path.is_file(), done.stderr[-2000:]
    keep = os.environ.get("EDGE_SHM_TEST_ARTEFACTS")
    if keep:
        shutil.copy(path, Path(keep) / f"dashboard-{name}")
    print(f"screenshot: {path}")
    return path


def _text(dom: str, id_: str) -> str:
    m = re.search(rf'id="{id_}"[^>]*>([^<]*)<', dom)
    assert m, f"no element {id_!r} in the page"
    return m.group(1).replace("&amp;", "&")


def _chart(dom: str) -> str:
    """The chart as drawn (the page's script, also in the DOM, writes the same tags)."""
    return re.search(r'<svg id="chart".*?</svg>', dom, re.S).group(0)


def _texts(svg: str, cls: str) -> list[str]:
    return re.findall(rf'<text class="{cls}"[^>]*>([^<]*)</text>', svg)


def _attrs(dom: str, id_: str) -> str:
    m = re.search(rf'<\w+ [^>]*id="{id_}"[^>]*>', dom)
    assert m, f"no element {id_!r} in the page"
    return m.group(0)


def test_the_dashboard_a_site_engineer_reads(tmp_path):
    chromium = _chromium()
    from PIL import Image

    frames = sorted((SENSOR / "frames").glob("*.png"))
    run = Run(tmp_path, max_frames=9)  # notes.txt, 6 frames, a broken one, the last frame
    try:
        url = run.wait_for(r"dashboard: (http://\S+/)").group(1)

        # Before the first frame: a clean empty state naming the source, no image to break.
        dom = _dom(chromium, url)
        assert f"waiting for the first frame from {run.inbox}/" in _text(dom, "empty-text")
        assert "hidden" not in _attrs(dom, "empty")
        assert not re.search(r"<img[^>]*\ssrc=", dom), "an <img> with a source before any frame"
        assert _text(dom, "frame-count") == "0" and _text(dom, "last-frame") == "no frame yet"
        _shot(chromium, url, "01-waiting-for-the-first-frame.png")

        # A file that is not an image, then six frames.
        run.frame("notes.txt", b"operator's notes, not a frame\n")
        for f in frames[:6]:
            run.frame(f.name, f.read_bytes())
        run.frame("frame_005b.png", b"\x89PNG\r\n\x1a\n broken")  # a damaged image

        dom = _dom(chromium, url)
        _shot(chromium, url, "02-six-frames.png")
        assert "hidden" in _attrs(dom, "empty")
        assert re.search(r'<img [^>]*id="frame"[^>]*src="/frame.png\?n=6"', dom)
        assert _text(dom, "frame-count") == "6" and _text(dom, "skipped") == "2"
        # the last frame: its name, when it came (wall clock) and its load cycles
        last = _text(dom, "last-frame")
        assert re.fullmatch(r"last frame: frame_005\.png \(frame 6\), received \d\d:\d\d:\d\d "
                            r"\(\d+ s ago\), at 13,442 load cycles", last), last  # fmt: skip
        # time to critical in frames, load cycles with the Paris band, hours
        assert re.match(
            r"\d+\.\d frames; forecast reaches it in \d frame", _text(dom, "time-to-critical")
        )
        cycles = _text(dom, "cycles-to-critical")
        assert re.fullmatch(r"[\d,.]+ cycles \(5-95 % band: [\d,.]+ to [\d,.]+ cycles\)", cycles), (
            cycles
        )
        hours = _text(dom, "hours-to-critical")  # frames x 600 s, cycles at the last interval
        assert re.fullmatch(
            r"[\d.]+ h by the trend; [\d.]+ h by Paris' law \([\d.]+ h to [\d.]+ h\)", hours
        ), hours
        # the skipped files in plain words, with their names
        skips = re.findall(r"<li>([^<]*)</li>", dom)
        assert len(skips) == 2, skips
        assert skips[0].endswith(
            "not a readable image: the file is damaged or not really a PNG image (frame_005b.png)"
        ), skips
        assert skips[1].endswith("not an image file (notes.txt)"), skips
        assert not any(w in " ".join(skips) for w in ("Error", "iomode", "backend", str(tmp_path)))
        # the chart: both axes with ticks and units, cycles under the frames, the critical
        # length labelled, observed and forecast drawn apart, a legend
        chart = _chart(dom)
        y_ticks = [float(t) for t in _texts(chart, "tick tick-y")]
        assert len(y_ticks) >= 4 and y_ticks[0] == 0 and y_ticks[-1] >= 8, y_ticks
        x_ticks = [int(t) for t in _texts(chart, "tick tick-x")]
        assert len(x_ticks) >= 4 and x_ticks == sorted(x_ticks) and x_ticks[0] <= 1, x_ticks
        assert {"0", "9,227", "13,442"} <= set(_texts(chart, "tick tick-cycles"))  # frames 1, 2, 6
        assert _texts(chart, "axis-title") == [
            "crack length a (mm)",
            "frame number (load cycles below, where known)",
        ]
        assert _texts(chart, "row-label") == ["frame", "cycles"]
        assert _texts(chart, "critical-label") == ["critical a = 8 mm"]
        observed = re.search(r'<polyline [^>]*class="observed"[^>]*>', chart).group(0)
        forecast = re.search(r'<polyline [^>]*class="forecast"[^>]*>', chart).group(0)
        assert "stroke-dasharray" not in observed and 'stroke-dasharray="6 4"' in forecast
        assert chart.count('<circle class="observed"') == 6  # one dot per frame
        assert chart.count('<circle class="forecast"') == 4  # --horizon 4
        assert '<polygon class="band"' in chart
        legend = re.search(r'<div class="legend">(.*?)</div>', dom, re.S).group(1)
        for entry in (
            "observed",
            "forecast from the latest frame",
            "forecast band",
            "critical length",
        ):
            assert entry in legend, entry

        # A phone's width: the chart takes the whole width, nothing runs off the side.
        dom = _dom(chromium, url, NARROW)
        width = int(re.search(r'<svg id="chart"[^>]*width="(\d+)"', dom).group(1))
        assert width >= 0.8 * NARROW[0], width
        _shot(chromium, url, "03-phone-width.png", NARROW)

        run.frame(frames[6].name, frames[6].read_bytes())  # the 9th file ends the run
        assert run.proc.wait(timeout=BOUND) == 0, run.said
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()
    for name in ("01-waiting-for-the-first-frame.png", "02-six-frames.png"):
        assert Image.open(SHOTS / name).size == WIDE
    assert Image.open(SHOTS / "03-phone-width.png").size == NARROW
