"""Ctrl-C: exit 130 with one line, no output, no temporary file, no child process left.

Each command runs in a subprocess (as a user runs it); SIGINT is sent once the command is busy
(its CPU time shows it is past start-up), as a terminal sends it to the foreground process.
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

ROOT = Path(__file__).resolve().parents[2]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _interrupt(args, tmp: Path, busy_s: float, ready=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, TMPDIR=str(tmp / "tmpdir"))
    (tmp / "tmpdir").mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_shm", *map(str, args)],
        cwd=tmp,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    t0 = time.time()
    while proc.poll() is None and time.time() - t0 < 120:
        if _cpu_seconds(proc.pid) > busy_s and (ready is None or ready()):
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the command ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def _check(res, tmp: Path, output: str):
    assert res.returncode == 130, res.stderr
    assert res.stderr.strip().splitlines() == ["error: interrupted"], res.stderr
    left = sorted(p.name for p in tmp.iterdir() if p.name not in ("tmpdir", "inputs"))
    assert output not in left and left == [], left
    # torch keeps a compiler cache folder in TMPDIR; nothing else may remain
    assert [p for p in (tmp / "tmpdir").iterdir() if not p.name.startswith("torchinductor")] == []


def test_interrupted_library_build(tmp_path):
    res = _interrupt(
        ["library", "build", "turing", "--samples", "15", "-o", "t.h5"], tmp_path, busy_s=4.0
    )
    _check(res, tmp_path, "t.h5")


def test_interrupted_training_leaves_no_run_folder(crack_lib_path, tmp_path):
    res = _interrupt(
        ["train", "-l", crack_lib_path, "-o", "run", "--epochs", "50", "--batch-size", "4"],
        tmp_path,
        busy_s=6.0,
    )
    _check(res, tmp_path, "run")


def _lava_children() -> list[str]:
    res = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True)
    return [
        line
        for line in res.stdout.splitlines()
        if "edge_shm.firmware_sim.lava.host" in line or "lava.magma" in line
    ]


def test_interrupted_lava_run_stops_every_lava_process(spiking_snn_run_any, lava_python, tmp_path):
    from edge_shm.cli import main

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    assert (
        main(
            [
                "export",
                str(spiking_snn_run_any),
                "-t",
                "lava",
                "-o",
                str(inputs / "b"),
                "--no-verify",
            ]
        )
        == 0
    )
    np.save(inputs / "f.npy", np.random.default_rng(0).random((1, 300, 96, 132), np.float32))
    before = set(_lava_children())
    res = _interrupt(
        ["simulate", inputs / "b", "--frames", inputs / "f.npy", "-o", "sim"],
        tmp_path,
        busy_s=0.0,
        ready=lambda: len(set(_lava_children()) - before) > 0,
    )
    _check(res, tmp_path, "sim")
    time.sleep(1.0)
    assert set(_lava_children()) - before == set()


@pytest.fixture()
def spiking_snn_run_any(snn_run_dir):
    return snn_run_dir
