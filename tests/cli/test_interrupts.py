"""Ctrl-C, SIGTERM and SIGHUP: one line, exit 128 + the signal, no output, no temporary file,
no child process left.

Each command runs in a subprocess (as a user runs it). The signal is sent once the command shows
it is at work, judged by what it does, never by the clock: its signal handlers are installed
(``SigCgt`` in ``/proc/PID/status``) and it has written its working files or started its Lava
processes. Timeouts are only failure bounds, generous for a busy 2-core machine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

BOUND_S = 600  # a failure bound, never a synchronisation
LINES = {signal.SIGINT: "interrupted", signal.SIGTERM: "stopped by SIGTERM",
         signal.SIGHUP: "stopped by SIGHUP"}  # fmt: skip
LAVA = ("edge_shm.firmware_sim.lava.host", "edge_shm.firmware_sim.lava.fixed", "lava.magma")


def _catches_sigterm(pid: int) -> bool:
    """True once the command installed its SIGTERM handler (edge_shm.signals.install)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def lava_processes() -> set[int]:
    """Pids whose full command line (``/proc/PID/cmdline``, never cut) names a Lava process."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(name in cmd for name in LAVA):
            pids.add(int(entry.name))
    return pids


def _start(args, tmp: Path) -> subprocess.Popen:
    (tmp / "tmpdir").mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "edge_shm", *map(str, args)],
        cwd=tmp,
        env=dict(os.environ, TMPDIR=str(tmp / "tmpdir")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until(proc: subprocess.Popen, ready, what: str) -> None:
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < BOUND_S:
        if _catches_sigterm(proc.pid) and ready():
            return
        time.sleep(0.05)  # polling interval only
    out, err = proc.communicate() if proc.poll() is not None else ("", "(still running)")
    pytest.fail(f"never saw {what}; exit {proc.returncode}: {err[-2000:]}")


def _signal(args, tmp: Path, sig: int, ready, what: str) -> subprocess.CompletedProcess:
    proc = _start(args, tmp)
    try:
        _wait_until(proc, ready, what)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=BOUND_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def _left(tmp: Path) -> list[str]:
    """Everything the command left in its working folder and its TMPDIR (torch keeps a
    compiler cache folder in TMPDIR: that one may stay)."""
    mine = [p.name for p in tmp.iterdir() if p.name not in ("tmpdir", "inputs")]
    temps = [p.name for p in (tmp / "tmpdir").iterdir() if not p.name.startswith("torchinductor")]
    return sorted(mine + temps)


def _check(res, sig: int, logs: bool = False) -> None:
    """Exit 128 + sig and one error line (the last, after the progress log of a command that
    logs its steps), no traceback."""
    assert res.returncode == 128 + sig, res.stderr
    lines = res.stderr.strip().splitlines()
    if logs:
        assert "Traceback" not in res.stderr and lines[-1].startswith("error: "), res.stderr
        assert sum(line.startswith("error: ") for line in lines) == 1, res.stderr
        lines = lines[-1:]
    assert lines == [f"error: {LINES[sig]}"], res.stderr


def _lava_gone(before: set[int]) -> bool:
    """Wait (bounded) for every Lava process started since ``before`` to end."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:
        if not lava_processes() - before:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_library_build_leaves_nothing(tmp_path, sig):
    res = _signal(
        ["library", "build", "turing", "--samples", "400", "-o", "t.h5"],
        tmp_path,
        sig,
        ready=lambda: True,
        what="the build under way",
    )
    _check(res, sig)
    assert _left(tmp_path) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stopped_training_leaves_no_run_folder_and_no_lock(crack_lib_path, tmp_path, sig):
    res = _signal(
        ["train", "-l", crack_lib_path, "-o", "run", "--epochs", "50", "--batch-size", "4"],
        tmp_path,
        sig,
        ready=lambda: any(tmp_path.glob(".run.*.tmp")),
        what="the training's working folder",
    )
    _check(res, sig)
    assert _left(tmp_path) == []  # no run, no .run.lock, no temporary


def test_a_stopped_reproduce_keeps_finished_steps_only(tmp_path):
    out = tmp_path / "repro"
    res = _signal(
        ["reproduce", "--preset", "tiny", "-o", "repro"],
        tmp_path,
        signal.SIGTERM,
        ready=lambda: (out / "fcg.h5").is_file() and any(out.glob("fcg-*")),
        what="reproduce training its first model",
    )
    _check(res, signal.SIGTERM, logs=True)
    assert _left(tmp_path) == ["repro"]
    left = [p.name for p in out.rglob("*") if p.name.endswith((".tmp", ".lock"))]
    assert left == [] and (out / "fcg.h5").is_file()  # resumable: the library stays


@pytest.fixture(scope="module")
def lava_inputs(snn_run_dir, lava_python, tmp_path_factory) -> Path:
    from edge_shm.cli import main

    inputs = tmp_path_factory.mktemp("lava-inputs")
    args = ["export", str(snn_run_dir), "-t", "lava", "-o", str(inputs / "b"), "--no-verify"]
    assert main(args) == 0
    frames = np.random.default_rng(0).random((1, 300, 96, 132), np.float32)
    np.save(inputs / "f.npy", frames)
    return inputs


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_lava_simulation_stops_every_lava_process(lava_inputs, tmp_path, sig):
    before = lava_processes()
    res = _signal(
        ["simulate", lava_inputs / "b", "--frames", lava_inputs / "f.npy", "-o", "sim"],
        tmp_path,
        sig,
        ready=lambda: bool(lava_processes() - before),
        what="a Lava process",
    )
    _check(res, sig)
    assert _lava_gone(before) and _left(tmp_path) == []


def test_a_stopped_lava_export_leaves_nothing(snn_run_dir, lava_python, tmp_path):
    before = lava_processes()
    res = _signal(
        ["export", snn_run_dir, "-t", "lava", "-o", "bundle"],
        tmp_path,
        signal.SIGTERM,
        ready=lambda: bool(lava_processes() - before),
        what="the export's Lava verification",
    )
    _check(res, signal.SIGTERM)
    assert _lava_gone(before) and _left(tmp_path) == []


def test_lava_processes_end_with_a_killed_parent(lava_inputs, tmp_path):
    """SIGKILL cannot be handled: the Lava child asked the kernel to be told (PDEATHSIG)."""
    before = lava_processes()
    proc = _start(
        ["simulate", lava_inputs / "b", "--frames", lava_inputs / "f.npy", "-o", "sim"], tmp_path
    )
    try:
        _wait_until(proc, lambda: bool(lava_processes() - before), "a Lava process")
        proc.kill()
        proc.communicate(timeout=BOUND_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _lava_gone(before), sorted(lava_processes() - before)
