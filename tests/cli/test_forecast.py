"""``edge-shm forecast``: the on-site loop end to end, its bad inputs, --watch and the dashboard
in a real headless Chromium (the system package; scripts/setup.sh installs it)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge_shm.cli import main

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "examples" / "runs" / "forecast-snn"
SENSOR = ROOT / "examples" / "sensor"
CLI = [sys.executable, "-m", "edge_shm"]
SENSOR_ARGS = ["--roi", "center", "--crack", "dark"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_forecast_on_sensor_images_writes_records_plots_and_report(tmp_path):
    out = tmp_path / "out"
    rc = main(["forecast", str(SHIPPED), "--frames", str(SENSOR / "frames"), *SENSOR_ARGS,
               "--cycles-file", str(SENSOR / "cycles.json"), "--stress-range-mpa", "200",
               "--plate-width-mm", "10", "--horizon", "3", "-o", str(out)])  # fmt: skip
    assert rc == 0
    recs = _lines(out / "forecast.jsonl")
    assert len(recs) == 8 and all(r["status"] == "ok" for r in recs)
    assert [len(r["forecast"]) for r in recs] == [0, 0, 3, 3, 3, 3, 3, 3]
    a = [r["observed"]["a_mm"] for r in recs]
    assert np.all(np.diff(a) > 0.9)  # the crack grows about 1.1 mm per frame
    assert recs[4]["forecast"][0]["a_mm"] == pytest.approx(a[5], abs=0.3)  # tip within 4 px
    assert recs[-1]["paris"]["C"] > 0 and recs[-1]["cycles"] == 13448.5
    assert recs[-1]["warning"] == "critical"
    # Remaining life after 3 frames: the band holds the true cycles to 8 mm (the crossing of
    # the measured lengths, interpolated in cycles), and is not of zero width.
    n = [r["cycles"] for r in recs]
    k = next(i for i, x in enumerate(a) if x >= 8.0)
    truth = np.interp(8.0, [a[k - 1], a[k]], [n[k - 1], n[k]]) - n[2]
    life = recs[2]["cycles_to_critical"]
    assert life["band"] == "prior m 2-4" and life["low"] < life["high"]
    assert life["low"] <= truth <= life["high"], (life, truth)
    for name in ("forecast.png", "forecast.gif", "REPORT.md", "summary.json"):
        assert (out / name).stat().st_size > 100, name
    assert Image.open(out / "forecast.gif").n_frames == 8


def _bad_folder(tmp_path, kind):
    d = tmp_path / kind
    d.mkdir()
    if kind == "truncated":
        shutil.copy(SENSOR / "frames" / "frame_000.png", d / "a.png")
        (d / "b.png").write_bytes((SENSOR / "frames" / "frame_001.png").read_bytes()[:300])
    elif kind == "sizes":
        Image.fromarray(np.zeros((96, 132), np.uint8)).save(d / "a.png")
        Image.fromarray(np.zeros((100, 140), np.uint8)).save(d / "b.png")
    return d


@pytest.mark.parametrize(
    "case, args, words",
    [
        ("empty", ["--frames", "{empty}"], "no images"),
        ("truncated", ["--frames", "{truncated}"], "not a readable image"),
        ("sizes", ["--frames", "{sizes}"], "choose --roi"),
        ("horizon", ["--frames", "{sensor}", "--horizon", "-1"], "--horizon must be positive"),
        ("critical", ["--frames", "{sensor}", "--critical-length", "-2"], "--critical-length"),
        ("both", ["--frames", "{sensor}", "--watch", "{sensor}"], "exactly one of"),
        ("backend", ["--frames", "{sensor}", "--backend", "onnx"], "export it first"),
        ("roi", ["--frames", "{sensor}", "--roi", "crop:500,0"], "does not fit"),
        ("offset_nan", ["--frames", "{sensor}", "--a-offset-mm", "nan"], "--a-offset-mm"),
        ("offset_neg", ["--frames", "{sensor}", "--a-offset-mm", "-100"], "wide view"),
        ("offset_huge", ["--frames", "{sensor}", "--a-offset-mm", "1e9"], "within +-10000"),
        ("window_cap", ["--frames", "{sensor}", "--window", "1000000"], "at most 1024"),
        ("window_long", ["--frames", "{sensor}", "--window", "9"], "the source has 8"),
        ("horizon_cap", ["--frames", "{sensor}", "--horizon", "1000"], "at most 64"),
        ("cycles_short", ["--frames", "{sensor}", "--cycles-file", "{short}"], "2 cycle counts"),
        ("cycles_zero", ["--frames", "{sensor}", "--cycles-file", "/dev/zero"], "regular file"),
        ("cycles_fifo", ["--frames", "{sensor}", "--cycles-file", "{fifo}"], "regular file"),
        ("out_in_frames", ["--frames", "{empty}", "-o", "{empty}/out"], "inside the image folder"),
        ("out_dash", ["--frames", "{sensor}", "-o", "-"], "not to standard output"),
        ("long_name", ["--frames", "{sensor}", "-o", "{long}"], "too long"),
    ],
)
@pytest.mark.fast
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, case, args, words):
    folders = {"empty": tmp_path / "empty", "sensor": SENSOR / "frames"}
    folders["empty"].mkdir()
    folders["short"] = tmp_path / "short.json"
    folders["short"].write_text('{"cycles": [0, 100]}')
    folders["fifo"] = tmp_path / "fifo.json"
    os.mkfifo(folders["fifo"])  # reading it would block forever
    if case in ("truncated", "sizes"):
        folders[case] = _bad_folder(tmp_path, case)
    out = tmp_path / "out"
    folders["long"] = tmp_path / ("n" * 245)
    argv = [a.format(**folders) for a in args]
    extra = [] if case in ("empty", "sizes") else SENSOR_ARGS
    default_out = [] if "-o" in argv else ["-o", str(out)]
    rc = main(["forecast", str(SHIPPED), *extra, *argv, *default_out])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and words in err[0], err
    assert not out.exists()


@pytest.mark.fast
def test_port_in_use_is_one_line_exit_2(tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        rc = main(["forecast", str(SHIPPED), "--frames", str(SENSOR / "frames"), *SENSOR_ARGS,
                   "--serve", str(port), "-o", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "in use" in err[0]
    assert not (tmp_path / "out").exists()


def _write_png(src: Path, dst: Path) -> None:
    """Write as a camera would: straight into the watched folder (not renamed into place)."""
    dst.write_bytes(src.read_bytes())


def _state(url: str) -> dict:
    with urllib.request.urlopen(url + "state.json", timeout=5) as r:
        return json.loads(r.read())


def _wait(pred, timeout: float = 180.0, proc=None):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"forecast exited early: {proc.stderr.read()}")
        try:
            v = pred()
        except OSError:
            v = None
        if v:
            return v
        time.sleep(0.3)
    raise AssertionError("timed out")


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is not installed (scripts/setup.sh installs Debian's chromium)")
    return path


def test_watch_with_live_dashboard_in_headless_chromium(tmp_path):
    chromium = _chromium()
    inbox, out, port = tmp_path / "inbox", tmp_path / "out", _free_port()
    inbox.mkdir()
    url = f"http://127.0.0.1:{port}/"
    frames = sorted((SENSOR / "frames").glob("*.png"))
    proc = subprocess.Popen(
        [*CLI, "forecast", str(SHIPPED), "--watch", str(inbox), "--max-frames", "7",
         *SENSOR_ARGS, "--serve", str(port), "--cycles-file", str(SENSOR / "cycles.json"),
         "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        for f in frames[:4]:
            _write_png(f, inbox / f.name)
            time.sleep(0.5)
        (inbox / "frame_004_bad.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
        _wait(lambda: _state(url)["frames"] >= 4, proc=proc)
        dom = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--virtual-time-budget=5000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120,
        ).stdout  # fmt: skip
        count = re.search(r'id="frame-count"[^>]*>(\d+)<', dom)
        ttc = re.search(r'id="time-to-critical"[^>]*>([^<]*)<', dom)
        assert count and int(count.group(1)) >= 4, dom[:2000]
        assert ttc and re.match(r"\d+(\.\d+)? frames", ttc.group(1)), ttc and ttc.group(1)
        # the next frame's forecast with its tip band (the run's evaluation: its p90 tip error)
        nxt = re.search(r'id="next"[^>]*>([^<]*)<', dom)
        assert nxt and re.match(r"[\d.]+ mm \+- [\d.]+ mm", nxt.group(1)), nxt and nxt.group(1)
        shot = tmp_path / "dashboard.png"
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--virtual-time-budget=5000", "--window-size=1280,900", f"--screenshot={shot}", url],
            capture_output=True, timeout=120, check=True,
        )  # fmt: skip
        assert Image.open(shot).size == (1280, 900)
        keep = os.environ.get("EDGE_SHM_TEST_ARTEFACTS")
        if keep:
            shutil.copy(shot, Path(keep) / "dashboard.png")
        req = urllib.request.Request(url + "state.json", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=5)
        assert e.value.code == 405  # read-only
        for f in frames[4:6]:
            _write_png(f, inbox / f.name)
        assert proc.wait(timeout=180) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    recs = _lines(out / "forecast.jsonl")
    assert len(recs) == 7
    bad = [r for r in recs if r["status"] == "skipped"]
    assert len(bad) == 1 and "frame_004_bad.png" in bad[0]["error"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 6 and summary["stopped_by"] == "--max-frames"


@pytest.mark.parametrize("sig, code, line", [
    (signal.SIGINT, 130, "error: interrupted"),
    (signal.SIGTERM, 143, "error: stopped by SIGTERM"),
    (signal.SIGHUP, 129, "error: stopped by SIGHUP"),
])  # fmt: skip
def test_a_signal_ends_a_watch_with_its_outputs_written(tmp_path, sig, code, line):
    """The records appear in the output folder as they are made (synchronised on them, not on
    the clock); a signal ends the watch with one line and 128 + its number, everything of the
    frames so far written, no temporary left."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    proc = subprocess.Popen(
        [*CLI, "forecast", str(SHIPPED), "--watch", str(inbox), *SENSOR_ARGS, "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        for f in sorted((SENSOR / "frames").glob("*.png"))[:3]:
            _write_png(f, inbox / f.name)
        _wait(lambda: (out / "forecast.jsonl").read_text().count("\n") >= 3, proc=proc)
        assert json.loads((out / "summary.json").read_text())["stopped_by"] == "still running"
        proc.send_signal(sig)
        assert proc.wait(timeout=120) == code
        assert proc.stderr.read().strip().splitlines()[-1:] == [line]
    finally:
        if proc.poll() is None:
            proc.kill()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_by"] == signal.Signals(sig).name and summary["frames"] == 3
    assert len(_lines(out / "forecast.jsonl")) == 3 and (out / "REPORT.md").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inbox", "out"]  # no temporary


HOSTILE_NAMES = [
    b"0_<img src=x onerror=alert(1)>.png",
    b"1_a|b.png",
    b"2_[x](javascript:alert(1)).png",
    b"3_\x1b[31mred\x1b[0m.png",
    b"4_$x^$.png",
    b"5_\xff\xfe.png",
    b"6_[bold]x.png",
    b"7_*_`.png",
]


def test_hostile_frame_names_are_shown_inert(tmp_path, capsys):
    """Names go into REPORT.md, the plots, the terminal: no HTML, links, table breaks, markup or
    escape bytes get through, and a name that is not UTF-8 does not stop anything."""
    frames = tmp_path / "frames"
    frames.mkdir()
    for src, name in zip(sorted((SENSOR / "frames").iterdir()), HOSTILE_NAMES, strict=True):
        shutil.copy(src, os.path.join(os.fsencode(frames), name))
    out = tmp_path / "out"
    rc = main(["forecast", str(SHIPPED), "--frames", str(frames), *SENSOR_ARGS, "-o", str(out)])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    assert "\x1b" not in printed.out + printed.err
    recs = _lines(out / "forecast.jsonl")
    assert [r["status"] for r in recs] == ["ok"] * 8
    report = (out / "REPORT.md").read_text()
    assert "\x1b" not in report and "<img" not in report and "](javascript" not in report
    rows = [line for line in report.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) == 8 and all(re.sub(r"\\\|", "", r).count("|") == 8 for r in rows), rows
