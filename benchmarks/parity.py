"""Benchmark: how closely 2 gloo processes train what 1 process trains (torchrun).

The same global batch (4 windows) and seed, 1, 2 and 4 steps, on a small crack library (base
SNN, the forecasting SNN) and a small Turing library (ConvLSTM, STCLIF); the largest
|weight difference| between the two runs' weights, and the same between one process with 1
and with 2 threads (the float rounding that any change of reduction order brings).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from benchmarks.run import stamp
from edge_shm.data.generators import build

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
STEPS = (1, 2, 4)
BATCH = 4


def _train(launcher: list[str], lib: Path, out: Path, model: str, steps: int, threads: int):
    windows = ["--batch-size", str(BATCH), "--max-windows", str(BATCH * steps)]
    cmd = [*launcher, "-m", "edge_shm", "train", "-m", model, "-l", str(lib), "-o", str(out),
           "--epochs", "1", *windows]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode:
        raise SystemExit(f"bench parity: {' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return load_file(str(out / "weights.safetensors"))


def _diff(a: dict, b: dict) -> float:
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


def run(ctx) -> str:
    rows = []
    with tempfile.TemporaryDirectory(dir=ctx.work) as t:
        tmp = Path(t)
        fcg = build("fcg", tmp / "fcg.h5", 12, 1)
        turing = build("turing", tmp / "turing.h5", 12, 1, size=32, n_frames=26)
        for model, lib in (("snn", fcg), ("forecast-snn", fcg), ("convlstm", turing),
                           ("stclif", turing)):  # fmt: skip
            procs, threads = [], []
            for s in STEPS:
                one = _train([sys.executable], lib, tmp / f"{model}-1-{s}", model, s, 1)
                two_threads = _train([sys.executable], lib, tmp / f"{model}-t-{s}", model, s, 2)
                two = _train(TORCHRUN, lib, tmp / f"{model}-2-{s}", model, s, 1)
                procs.append(f"{_diff(one, two):.1e}")
                threads.append(f"{_diff(one, two_threads):.1e}")
            rows.append(f"| {model} | {' / '.join(procs)} | {' / '.join(threads)} |")
    return f"""## 1 vs 2 processes: the same training? ({stamp()})

Largest |weight difference| after {" / ".join(map(str, STEPS))} steps of a global batch of
{BATCH} windows (seed 0; crack library 12 samples; Turing library 12 samples of 26 frames at
32 x 32 px). 1 process with 1 thread against 2 gloo processes (torchrun, 1 thread each), and
against 1 process with 2 threads. The acceptance bound is 1e-5 after a few steps.

| model | 1 vs 2 processes | 1 vs 2 threads |
|---|---|---|
{chr(10).join(rows)}

A spiking model amplifies rounding: when a membrane lies within rounding of its threshold, one
run spikes and the other does not, and the runs drift apart from there, whether the rounding
comes from a second process or a second thread.
"""
