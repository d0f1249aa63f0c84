"""What people look at about a library: numbers with their units in the keys (torch-free).

Frames are read in blocks of at most :data:`BLOCK_BYTES` (whole samples, summed by numpy): a lazy
library larger than memory is summarised in bounded memory, and a million tiny samples take no
million Python steps. The reader has checked that every sample is stored in the file.
"""

from __future__ import annotations

import json

import numpy as np

from edge_shm.data.library import Library

BLOCK_BYTES = 64 * 1024**2


def summary(lib: Library) -> dict:
    """Numbers people look at, each with its unit in the key, in display order.

    Key suffixes: ``_px`` pixels, ``_mm`` millimetres, ``_frames`` frames, ``_1`` intensities
    in [0, 1], ``_pct`` percent, ``_cycles`` load cycles, ``_count`` counts; ``samples``,
    ``train_samples`` and ``test_samples`` count samples. Always: path, kind, generator and
    its version, seed, sample counts, frames per sample, frame size, pixel size, field of view
    (rows, cols) in mm, default windows, mean intensity of all frames and of the last frames.
    Shards add ``shard``; crack libraries add the last-frame crack fraction, the frame timing
    and, when their physics hold them, the median cycles to the last frame, the tip advance
    per frame (10th, 50th, 90th percentiles, px) and the rejected load draws.
    """
    n, t, h, w = lib.frames.shape
    total, last_total, cracked = _intensity_sums(lib.frames)
    out = {
        "path": str(lib.path),
        "kind": lib.kind,
        "generator": lib.generator,
        "generator_version": lib.generator_version,
        "seed": lib.seed,
        "samples": n,
        "train_samples": int((lib.split == 0).sum()),
        "test_samples": int((lib.split == 1).sum()),
        "frames_per_sample": t,
        "frame_rows_px": h,
        "frame_cols_px": w,
        "pixel_size_mm": lib.pixel_mm,
        "field_of_view_mm": [round(h * lib.pixel_mm, 4), round(w * lib.pixel_mm, 4)],
        "window_in_frames": lib.window_in,
        "window_out_frames": lib.window_out,
        "window_skip_frames": lib.window_skip,
        "mean_intensity_1": total / (n * t * h * w),
        "last_frame_mean_intensity_1": last_total / (n * h * w),
    }
    if lib.shard:
        s = lib.shard
        out["shard"] = f"{s['index']}/{s['count']} (samples {s['first']} to {s['first'] + n - 1} "
        out["shard"] += f"of {s['library_samples']})"
    if lib.kind == "fcg":
        out["last_frame_crack_fraction_pct"] = 100 * cracked / (n * h * w)
        if "frame_cycles" in lib.physics:
            c = lib.physics["frame_cycles"][:, -1]
            out["cycles_to_last_frame_median_cycles"] = float(np.median(c))
        out["frame_timing"] = str(lib.params.get("timing", "slices"))
        tips = lib.physics.get("frame_tip_mm")
        if tips is not None and np.ndim(tips) == 3 and tips.shape[1] > 1:
            adv = np.hypot(*np.moveaxis(np.diff(tips, axis=1), 2, 0)) / lib.pixel_mm
            lo, mid, hi = np.percentile(adv, [10, 50, 90])
            out["tip_advance_p10_p50_p90_px_per_frame"] = [
                round(float(v), 2) for v in (lo, mid, hi)
            ]
        if "rejected_draws" in lib.physics:
            out["rejected_load_draws_count"] = int(lib.physics["rejected_draws"].sum())
    return out


def _intensity_sums(frames) -> tuple[float, float, float]:
    """Sum of all pixels, of the last frames' pixels, and count of last-frame pixels > 0.5."""
    n, t, h, w = frames.shape
    step = max(1, BLOCK_BYTES // (4 * t * h * w))
    total = last_total = cracked = 0.0
    for a in range(0, n, step):
        block = np.asarray(frames[a : a + step], dtype=np.float32)
        total += float(block.sum(dtype=np.float64))
        last_total += float(block[:, -1].sum(dtype=np.float64))
        cracked += float(np.count_nonzero(block[:, -1] > 0.5))
    return total, last_total, cracked


def json_dumps(d) -> str:
    """``d`` (a :func:`summary`) as indented JSON; numpy scalars written as numbers."""
    return json.dumps(d, indent=2, default=lambda v: v.item() if isinstance(v, np.generic) else v)
