"""Physics generators of digital libraries: fatigue cracks (``fcg``) and Turing patterns.

:func:`build` simulates one kind and writes the library; it refuses, before any work, a request
whose frames would not fit in memory.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

from edge_shm.data.library import paper_split, write_library
from edge_shm.errors import UserError

KINDS = ("fcg", "turing")
DEFAULT_SAMPLES = {"fcg": 908, "turing": 15}


def memory_bytes() -> int:
    """Physical memory of this machine in bytes (8 GiB when the OS does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3


def check_size(n_samples: int, frames: int, rows: int, cols: int) -> None:
    """Refuse libraries whose float32 frames would take more than half of the memory."""
    if n_samples <= 0:
        raise UserError(f"--samples must be a positive integer, got {n_samples}")
    need = 4 * n_samples * frames * rows * cols
    if need > memory_bytes() // 2:
        raise UserError(
            f"{n_samples:,} samples of {frames} x {rows} x {cols} px need "
            f"{need / 1024**3:,.1f} GiB of frames, more than half of this machine's "
            f"{memory_bytes() / 1024**3:,.0f} GiB"
        )


def params_for(kind: str, **overrides):
    """The parameter dataclass of ``kind`` with ``overrides``, validated."""
    from edge_shm.data.generators import fcg, turing

    if kind not in KINDS:
        raise UserError(f"unknown library kind {kind!r}; choose one of {', '.join(KINDS)}")
    cls = fcg.FCGParams if kind == "fcg" else turing.TuringParams
    p = cls(**overrides)
    p.validate()
    return p


def build(
    kind: str,
    path,
    n_samples: int | None = None,
    seed: int = 0,
    progress=None,
    shard: tuple[int, int] | None = None,
    **overrides,
) -> Path:
    """Simulate ``n_samples`` samples of ``kind`` (default: the paper's 908 / 15) and write them.

    Cracks: 8 frames of 96 x 132 px, split 800/108 at full size, windows 3 -> 1. Turing: 68
    frames of 200 x 200 px, split 10/5, windows 10 -> 10 after frame 0. ``shard=(I, N)``
    writes only the I-th of N contiguous blocks of samples, as a shard file
    (:mod:`edge_shm.data.shards`).
    """
    from edge_shm.data.generators import fcg, turing
    from edge_shm.data.shards import shard_range

    p = params_for(kind, **overrides)
    n = DEFAULT_SAMPLES[kind] if n_samples is None else n_samples
    if n <= 0:
        raise UserError(f"--samples must be a positive integer, got {n}")
    first, stop = (0, n) if shard is None else shard_range(n, *shard)
    part = dict(first=first, progress=progress)
    if kind == "fcg":
        check_size(stop - first, p.n_frames, p.rows, p.cols)
        frames, phys = fcg.generate(stop - first, seed, p, **part)
        extra = dict(window=(3, 1, 0), physics=phys, physics_units=fcg.PHYSICS_UNITS)
        split = paper_split(n, 108, 908)[first:stop]
    else:
        check_size(stop - first, p.n_frames, p.size, p.size)
        frames, _ = turing.generate(stop - first, seed, p, **part)
        extra = dict(window=(10, 10, 1))
        split = paper_split(n, 5, 15)[first:stop]
    if shard is not None:
        extra["shard"] = dict(index=shard[0], count=shard[1], first=first, library_samples=n)
    return write_library(
        path,
        frames,
        split,
        kind=kind,
        generator=f"edge_shm.{kind}",
        seed=seed,
        pixel_mm=p.pixel_mm,
        params=asdict(p),
        units=p.units(),
        **extra,
    )


def build_fcg(path, n_samples: int = 908, seed: int = 0, progress=None, **overrides) -> Path:
    """The crack library (default: the paper's 908 samples)."""
    return build("fcg", path, n_samples, seed, progress, **overrides)


def build_turing(path, n_samples: int = 15, seed: int = 0, progress=None, **overrides) -> Path:
    """The Turing library (default: 15 samples x 68 frames)."""
    return build("turing", path, n_samples, seed, progress, **overrides)
