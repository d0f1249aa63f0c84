"""Benchmark: time to build the full crack and Turing libraries."""

from __future__ import annotations

import time

from edge_shm.bench import stamp
from edge_shm.library import build_fcg, build_turing, read_library


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
| fcg (`edge-shm library build fcg --samples 908`) | {fcg.frames.shape[0]} | {"x".join(map(str, fcg.frames.shape[1:]))} | {t_fcg:.1f} s | 60 s | {fcg_path.stat().st_size / 1e6:.2f} MB |
| turing (`edge-shm library build turing`) | {turing.frames.shape[0]} | {"x".join(map(str, turing.frames.shape[1:]))} | {t_turing:.1f} s | 120 s | {turing_path.stat().st_size / 1e6:.2f} MB |

Crack library: {int(fcg.physics["rejected_draws"].sum())} load draws were rejected because the crack
would have left the 96-row region (the documented rule: re-simulate with fresh loads).
"""
