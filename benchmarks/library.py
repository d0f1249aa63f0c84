"""Benchmark: time to build the full crack and Turing libraries."""

from __future__ import annotations

import time

from benchmarks.run import stamp
from edge_shm.data.generators import build_fcg, build_turing
from edge_shm.data.library import read_library


def run(ctx) -> str:
    t0 = time.perf_counter()
    fcg_path = ctx.work / "fcg-908.h5"
    build_fcg(fcg_path, 908, 0)
    t_fcg = time.perf_counter() - t0
    t0 = time.perf_counter()
    turing_path = ctx.work / "turing-15.h5"
    build_turing(turing_path, 15, 0)
    t_turing = time.perf_counter() - t0
    fcg = read_library(fcg_path)
    turing = read_library(turing_path, load_physics=False)
    return f"""## Digital libraries ({stamp()})

| library | samples | frames x rows x cols | build time | limit | file size |
|---|---|---|---|---|---|
{_row("fcg (`edge-shm library build fcg --samples 908`)", fcg, t_fcg, 60, fcg_path)}
{_row("turing (`edge-shm library build turing`)", turing, t_turing, 120, turing_path)}

Crack library: {int(fcg.physics["rejected_draws"].sum())} load draws were rejected because the crack
would have left the 96-row region (the documented rule: re-simulate with fresh loads).
"""


def _row(name, lib, seconds, limit, path) -> str:
    shape = "x".join(map(str, lib.frames.shape[1:]))
    size = path.stat().st_size / 1e6
    return (
        f"| {name} | {lib.frames.shape[0]} | {shape} | {seconds:.1f} s | {limit} s "
        f"| {size:.2f} MB |"
    )
