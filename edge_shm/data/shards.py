"""Libraries built in shards by any scheduler, then merged into one file.

``edge-shm library build KIND --samples N --seed S --shard I/N_SHARDS -o part-I.h5`` simulates
the I-th contiguous block of the library's samples (I counts from 0). Sample i always draws
from the stream of (seed, i) (:mod:`edge_shm.data.generators.streams`), so the shards of any
scheduler hold exactly the samples of a build in one process. A shard file is a library file
with four more attributes (``shard_index``, ``shard_count``, ``shard_first``,
``shard_library_samples``); :func:`merge_shards` checks that the shards belong together and
cover every sample once, then copies them sample by sample (memory: one sample at a time).

Attributes only say which block a shard holds; a shard copied, or relabelled as another index by
editing its attributes, would put the same samples twice into the library (a test sample equal to
a train sample). The content gives it away: :func:`merge_shards` refuses any two samples equal in
frames and physics (see there).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import h5py
import numpy as np

from edge_shm.data.lazy import iter_samples
from edge_shm.data.library import Library, create_layout, read_library
from edge_shm.errors import UserError
from edge_shm.outputs import atomic_file


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N) with 0 <= I < N; a one-line error otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not m:
        raise UserError(f"--shard must be I/N (shard I of N, counting from 0), got {text!r}")
    index, count = int(m[1]), int(m[2])
    if count < 1 or index >= count:
        raise UserError(
            f"--shard {text}: the index must lie in 0..{max(count - 1, 0)} for {count} shard(s) "
            "(shards count from 0)"
        )
    return index, count


def shard_range(n_samples: int, index: int, count: int) -> tuple[int, int]:
    """(first, stop) library indices of shard ``index`` of ``count``: contiguous blocks whose
    sizes differ by at most one (as :func:`numpy.array_split`)."""
    if not 0 <= index < count:
        raise UserError(f"shard {index}/{count}: the index must lie in 0..{count - 1}")
    if count > n_samples:
        raise UserError(f"{count} shards of {n_samples} samples: some shards would be empty")
    base, extra = divmod(n_samples, count)
    first = index * base + min(index, extra)
    return first, first + base + (index < extra)


def _same(shards: list[Library], what: str, get) -> None:
    ref = get(shards[0])
    for s in shards[1:]:
        if get(s) != ref:
            raise UserError(
                f"shards were built with different {what}: {ref!r} ({shards[0].path}) and "
                f"{get(s)!r} ({s.path})"
            )


def _params_diff(a: dict, b: dict) -> str | None:
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if not np.array_equal(np.asarray(va), np.asarray(vb)):
            return " ".join(f"{k} {va!r} vs {vb!r}".split())  # arrays: one line
    return None


def check_shards(paths) -> list[Library]:
    """Read shard files lazily and check that together they are one whole library; returns
    them ordered by shard index."""
    if not paths:
        raise UserError("library merge needs at least one shard file")
    shards = [read_library(p, lazy=True) for p in paths]
    for s in shards:
        if s.shard is None:
            raise UserError(f"{s.path}: not a shard file (it was built without --shard)")
    _same(shards, "seeds", lambda s: s.seed)
    _same(shards, "library kinds", lambda s: s.kind)
    _same(shards, "edge-shm versions", lambda s: s.generator_version)
    _same(shards, "shard counts", lambda s: s.shard["count"])
    _same(shards, "library sizes (--samples)", lambda s: s.shard["library_samples"])
    _same(shards, "frame sizes", lambda s: s.frames.shape[1:])
    _same(shards, "pixel sizes (mm)", lambda s: s.pixel_mm)
    for s in shards[1:]:
        diff = _params_diff(shards[0].params, s.params)
        if diff:
            raise UserError(
                f"shards were built with different options: {diff} ({shards[0].path}, {s.path})"
            )
    count, n = shards[0].shard["count"], shards[0].shard["library_samples"]
    by_index: dict[int, Library] = {}
    for s in shards:
        i = s.shard["index"]
        if i in by_index:
            raise UserError(f"shard {i}/{count} is given twice: {by_index[i].path} and {s.path}")
        first, stop = shard_range(n, i, count)
        if (s.shard["first"], len(s.frames)) != (first, stop - first):
            raise UserError(
                f"{s.path}: holds samples {s.shard['first']}.. ({len(s.frames)}) but shard "
                f"{i}/{count} of {n} samples holds {first}..{stop - 1}"
            )
        by_index[i] = s
    if len(by_index) < count:  # at most 5 names: a forged count of 10**12 is no long loop
        missing = [i for i in range(min(count, len(by_index) + 5)) if i not in by_index][:5]
        names = ", ".join(f"{i}/{count}" for i in missing)
        more = " ..." if count - len(by_index) > len(missing) else ""
        raise UserError(
            f"shard{'s' if len(missing) > 1 else ''} {names}{more} missing: nothing merged"
        )
    return [by_index[i] for i in range(count)]


def _merged_physics(shards: list[Library]) -> dict:
    out = {}
    for k, v in shards[0].physics.items():
        parts = [s.physics.get(k) for s in shards]
        if any(p is None for p in parts):
            raise UserError(f"shards disagree on their physics: {k!r} missing in some")
        out[k] = [a for p in parts for a in p] if isinstance(v, list) else np.concatenate(parts)
    return out


def merge_shards(shards, output, progress=None) -> Path:
    """Join shards into one library at ``output`` (atomic; one sample in memory at a time).

    ``shards`` are paths, or the libraries :func:`check_shards` returned. The merged file holds
    the frames, split and physics of a build in one process with the same seed and options,
    byte for byte.

    Duplicates: every sample's frames and physics rows are hashed (sha256) as they are copied;
    two equal samples end the merge with a one-line error naming both shards, and no output is
    written. Rule: no two samples of a library are equal in frames and physics. Generated samples
    draw continuous random loads (cracks) or seed positions and noise (Turing) from their own
    stream, so equal samples come only from a shard copied or relabelled as another index (or
    from options without any randomness, whose duplicates a library should not hold either).
    Frames alone could coincide (a static crack cut before it grew a pixel): physics decide.
    """
    if not all(isinstance(s, Library) for s in shards):
        shards = check_shards(shards)
    ref = shards[0]
    n = ref.shard["library_samples"]
    split = np.concatenate([s.split for s in shards])
    units = _physics_units(ref.path)
    meta = dict(
        kind=ref.kind,
        generator=ref.generator,
        seed=ref.seed,
        pixel_mm=ref.pixel_mm,
        params=ref.params,
        units=ref.units,
        window=(ref.window_in, ref.window_out, ref.window_skip),
        shard=None,
        generator_version=ref.generator_version,
    )
    shape = (n, *ref.frames.shape[1:])
    _check_free_space(output, sum(os.path.getsize(s.path) for s in shards))
    with atomic_file(output) as tmp:
        try:
            with h5py.File(tmp, "w", track_order=True) as f:
                frames = create_layout(f, shape, split, meta, _merged_physics(shards), units)
                _copy_unique(shards, frames, progress)
        except (RuntimeError, ValueError) as e:
            raise UserError(f"{output}: could not be written ({e})") from None
        finally:
            for s in shards:
                s.frames.close()
    return Path(output)


def _check_free_space(output, need: int) -> None:
    """HDF5 on a full disk may crash the process: refuse first when the merged library (about
    the shards' total size) cannot fit."""
    st = os.statvfs(Path(output).resolve().parent)
    free = st.f_bavail * st.f_frsize
    if free < need:
        raise UserError(
            f"{output}: could not be written (about {need / 1e6:,.1f} MB needed, "
            f"{free / 1e6:,.1f} MB free)"
        )


def _copy_unique(shards: list[Library], frames, progress) -> None:
    """Copy every sample into ``frames``, refusing a sample equal to an earlier one."""
    seen: dict[bytes, tuple[Library, int]] = {}
    i = 0
    for s in shards:
        for j, sample in enumerate(iter_samples(s.frames)):
            h = hashlib.sha256(sample.tobytes())
            for k in sorted(s.physics):
                h.update(np.ascontiguousarray(s.physics[k][j]).tobytes())
            first, j0 = seen.setdefault(h.digest(), (s, j))
            if first is not s or j0 != j:
                raise UserError(
                    f"{s.path}: sample {j} equals sample {j0} of {first.path} (library samples "
                    f"{s.shard['first'] + j} and {first.shard['first'] + j0}): a shard copied or "
                    "relabelled as another index; nothing merged"
                )
            frames[i] = sample
            i += 1
            if progress is not None:
                progress()


def _physics_units(path) -> dict:
    with h5py.File(path, "r") as f:
        ph = f.get("physics")
        return {k: str(ph[k].attrs.get("unit", "")) for k in ph} if ph is not None else {}
