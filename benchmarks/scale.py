"""Benchmark: beyond one process, every figure measured here, on this machine.

1. Generation throughput: the full crack library (908 samples) and a Turing library, built by
   one process and by two shard processes at once (`library build --shard I/2`), then merged;
   the merged frames are checked byte-identical to the one-process build.
2. Training step throughput of the base SNN and LSTM on the crack library: one process (torch's
   default threads, and one thread), and two gloo processes under torchrun with the same global
   batch (one thread each, torchrun's default).
3. Peak memory of training (proportional set size summed over the process and its workers,
   sampled every 50 ms) on the bench library and on one 4x larger, its frames in memory and
   read lazily from the file (`--data lazy`, 2 workers).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py

from benchmarks.run import stamp

CLI = [sys.executable, "-m", "edge_shm"]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
BATCH, STEPS = 32, 12
TURING = ["--samples", "8", "--size", "128"]


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _kib(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(cmd: list[str], env: dict | None = None) -> tuple[float, float, float]:
    """(wall seconds, peak PSS of the process tree, peak RSS of the process; MiB) of a command
    that must succeed."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    pss = rss = 0
    while proc.poll() is None:
        tree, todo = [], [proc.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += _children(pid)
        pss = max(pss, sum(_kib(f"/proc/{p}/smaps_rollup", "Pss:") for p in tree))
        rss = max(rss, _kib(f"/proc/{proc.pid}/status", "VmRSS:"))
        time.sleep(0.05)
    err = proc.stderr.read().decode(errors="replace")
    if proc.returncode:
        raise SystemExit(f"bench scale: {' '.join(cmd)} failed:\n{err[-3000:]}")
    return time.perf_counter() - t0, pss / 1024, rss / 1024


def _parallel(cmds: list[list[str]]) -> float:
    t0 = time.perf_counter()
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for c in cmds]
    for p, c in zip(procs, cmds, strict=True):
        if p.wait():
            raise SystemExit(f"bench scale: {' '.join(c)} failed:\n{p.stderr.read().decode()}")
    return time.perf_counter() - t0


def _same_frames(a: Path, b: Path) -> bool:
    with h5py.File(a) as fa, h5py.File(b) as fb:
        return fa["frames"][()].tobytes() == fb["frames"][()].tobytes()


def _generation(tmp: Path) -> list[str]:
    rows = []
    for kind, opts, n in (("fcg", ["--samples", "908"], 908), ("turing", TURING, 8)):
        build = [*CLI, "library", "build", kind, *opts, "--seed", "0"]
        one, *_ = run_measured([*build, "-o", str(tmp / f"{kind}-one.h5")])
        parts = [str(tmp / f"{kind}-part{i}.h5") for i in range(2)]
        two = _parallel([[*build, "--shard", f"{i}/2", "-o", p] for i, p in enumerate(parts)])
        merged = tmp / f"{kind}-merged.h5"
        merge, *_ = run_measured([*CLI, "library", "merge", *parts, "-o", str(merged)])
        same = "yes" if _same_frames(tmp / f"{kind}-one.h5", merged) else "NO"
        rows.append(
            f"| {kind} ({n} samples) | {one:.1f} s ({n / one:.2f} samples/s) | {two:.1f} s "
            f"({n / two:.2f} samples/s) | {one / two:.2f}x | {merge:.1f} s | {same} |"
        )
    return rows


def _train_cmd(lib: Path, out: Path, model: str, extra=()) -> list[str]:
    return ["train", "-m", model, "-l", str(lib), "-o", str(out), "--epochs", "1",
            "--batch-size", str(BATCH), "--max-windows", str(BATCH * STEPS), *extra]  # fmt: skip


def _seconds(run: Path) -> float:
    return json.loads((run / "metrics.json").read_text())["history"][0]["seconds"]


def _training(lib: Path, tmp: Path) -> list[str]:
    rows = []
    one_thread = dict(os.environ, OMP_NUM_THREADS="1")
    for model in ("snn", "lstm"):
        times = {}
        for name, cmd, env in (
            ("1 process, default threads", CLI, None),
            ("1 process, 1 thread", CLI, one_thread),
            ("2 processes (torchrun, gloo, 1 thread each)", [*TORCHRUN, "--nproc-per-node=2",
                                                            "-m", "edge_shm"], None),
        ):  # fmt: skip
            out = tmp / f"train-{model}-{len(times)}"
            run_measured([*cmd, *_train_cmd(lib, out, model)], env)
            times[name] = _seconds(out)
        base = times["1 process, default threads"]
        for name, s in times.items():
            rows.append(
                f"| {model} | {name} | {BATCH * STEPS / s:.1f} windows/s "
                f"| {s / STEPS * 1e3:.0f} ms | {base / s:.2f}x |"
            )
    return rows


PROBE = """
import sys
from edge_shm.data.window_dataset import WindowDataset, open_for_training
lib, _ = open_for_training(sys.argv[1], "lazy")
lib.fingerprint()
WindowDataset(lib, "train").windows(range(64))
"""


def _memory(lib: Path, big: Path, tmp: Path) -> list[str]:
    """Two runs of each (peak memory varies from run to run with the allocator and the
    workers' timing), and the data side alone: a lazy library opened, fingerprinted (every
    sample read) and indexed, without a model."""
    rows = []
    for path, label in ((lib, "bench library"), (big, "4x larger")):
        gib = 4 * h5py.File(path)["frames"].size / 1024**3
        for data in ("memory", "lazy"):
            runs = []
            for i in range(2):
                out = tmp / f"mem-{label[0]}-{data}-{i}"
                runs.append(run_measured([*CLI, *_train_cmd(path, out, "snn", ["--data", data])]))
            rss, pss = (" / ".join(f"{r[k]:.0f}" for r in runs) for k in (2, 1))
            wall = sum(r[0] for r in runs) / 2
            rows.append(
                f"| {label} ({gib:.2f} GiB of frames) | {data} | {rss} MiB | {pss} MiB "
                f"| {wall:.1f} s |"
            )
        _, pss, rss = run_measured([sys.executable, "-c", PROBE, str(path)])
        rows.append(
            f"| {label} | lazy, data side only (no model) | {rss:.0f} MiB | {pss:.0f} MiB | - |"
        )
    return rows


def run(ctx) -> str:
    with tempfile.TemporaryDirectory(dir=ctx.work) as t:
        tmp = Path(t)
        gen = _generation(tmp)
        lib = tmp / "fcg-one.h5"
        big = tmp / "fcg-4x.h5"
        parts = [str(tmp / f"big{i}.h5") for i in range(2)]
        build = [*CLI, "library", "build", "fcg", "--samples", str(4 * 908), "--seed", "1"]
        _parallel([[*build, "--shard", f"{i}/2", "-o", p] for i, p in enumerate(parts)])
        run_measured([*CLI, "library", "merge", *parts, "-o", str(big)])
        train = _training(lib, tmp)
        memory = _memory(lib, big, tmp)
    return f"""## Beyond one process: shards, torchrun, lazy libraries ({stamp()})

Machine: {os.cpu_count()} cores. Commands as a user runs them (`edge-shm ...`, `torchrun ...`),
each timed from outside (wall time, Python start included).

**Generation**, one process vs two shard processes at once (`library build --shard I/2`), then
`library merge`; the last column checks the merged frames against the one-process build, byte
for byte. Turing: `{" ".join(TURING)}` x 68 frames.

| library | 1 process | 2 shard processes | speed-up | merge | merged = single build |
|---|---|---|---|---|---|
{chr(10).join(gen)}

**Training step throughput** on the crack library (908 samples), {STEPS} steps of a global batch
of {BATCH} windows (time of the epoch as the run records it, without start-up):

| model | processes | throughput | per step | vs 1 process |
|---|---|---|---|---|
{chr(10).join(train)}

**Peak memory of training** (base SNN, {STEPS} steps of {BATCH} windows, 1 process; the 4x
library has {4 * 908} samples, built in 2 shards and merged). `lazy` reads windows from the
file with 2 worker processes, so its memory is set by the batch, not by the library. PSS
counts pages shared between the processes once (torch's libraries), so it is what they take
together; most of it is torch and the SNN's activations over a batch of 32 windows:

| library | frames | peak RSS of the process (2 runs) | peak PSS with workers (2 runs) | wall |
|---|---|---|---|---|
{chr(10).join(memory)}
"""
