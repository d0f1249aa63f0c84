"""Benchmark: vector-graphics crack encoding over the test split of the full crack library."""

from __future__ import annotations

import numpy as np

from benchmarks.run import stamp
from edge_shm import vector
from edge_shm.data.library import read_library


def run(ctx) -> str:
    lib = read_library(ctx.crack_library(), load_physics=False)
    frames = lib.frames[lib.indices("test")]  # every frame of every test sample
    _, stats = vector.encode_stack(frames, lib.pixel_mm)
    s = vector.summarize(stats, lib.frame_shape, lib.pixel_mm)
    last = stats["vector_bytes"].reshape(frames.shape[:2])[:, -1]
    h, w = lib.frame_shape
    mp = s["pixel_bytes_float32_B"]
    ms = stats["encode_ms"]
    last_txt = f"{last.mean():.1f} B ({mp / last.mean():.0f} x)"
    haus_txt = f"{s['mean_hausdorff_px']:.3f} px ({s['mean_hausdorff_mm'] * 1e3:.1f} um)"
    time_txt = f"{ms.mean():.2f} ms (median {np.median(ms):.2f} ms)"
    return f"""## Vector-graphics crack encoding ({stamp()})

`edge-shm encode` defaults (threshold 0.5, Douglas-Peucker tolerance {vector.TOLERANCE_PX} px,
speckle below {vector.MIN_COMPONENT_PX} px removed, spurs below {vector.MIN_BRANCH_PX:g} px pruned)
over the test split of the 908-sample crack library: {frames.shape[0]} samples x
{frames.shape[1]} frames = {s["frames_count"]} frames of {h} x {w} px.

| quantity | value | paper |
|---|---|---|
| pixel form M_p (float32) | {mp:,} B | 50,688 B |
| mean nodes per frame | {s["mean_nodes_count"]:.1f} nodes | ~40 nodes |
| mean vector form M_v = 8 N_n + 24 | {s["mean_vector_bytes_B"]:.1f} B | ~340 B |
| compression ratio M_p / mean M_v | {s["compression_ratio_x"]:.0f} x | ~138 x |
| last frame only (longest cracks): mean M_v | {last_txt} | |
| reconstruction MAE of decode vs skeleton | {s["reconstruction_mae_1"]:.5f} per px | |
| mean Hausdorff distance, skeleton vs polyline | {haus_txt} | |
| max Hausdorff distance, skeleton vs polyline | {s["max_hausdorff_px"]:.3f} px | |
| encode time per frame (binarise to polylines) | {time_txt} | |
"""
