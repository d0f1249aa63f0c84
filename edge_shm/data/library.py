"""Digital libraries on disk: a self-describing HDF5 file (format in docs/library-format.md).

Torch-free: the Lava environment reads libraries too. Reading validates everything a later stage
relies on (datasets, their shapes and types, every attribute and its range), so that a corrupt
or foreign file is refused here in one line and never reaches training or export.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from edge_shm import __version__
from edge_shm.data.frames import check_frames
from edge_shm.data.lazy import (
    LazyFrames,
    check_library_file,
    check_self_contained,
    check_stored,
    iter_samples,
    read_physics,
)
from edge_shm.errors import UserError
from edge_shm.outputs import atomic_file

FORMAT_NAME = "edge-shm-library"
FORMAT_VERSION = 1
MAX_FRAME_PIXELS = 4096 * 4096
KINDS = ("fcg", "turing", "imported")
PIXEL_MM_RANGE = (1e-6, 1e3)  # a pixel edge of 1 nm .. 1 m is no camera's: refused
MAX_SEED = 2**63 - 1


@dataclass
class Library:
    """A digital library loaded in memory.

    Attributes
    ----------
    path : the file it was read from.
    frames : (N, T, H, W) float32 in [0, 1]
    split : (N,) int8, 0 = train, 1 = test
    kind : ``fcg``, ``turing`` or ``imported``
    pixel_mm : pixel size in mm
    params, units : physical parameters and their units
    window_in, window_out, window_skip : default windows (frames in, frames out, frames skipped
        at the start of each sample)
    physics : per-sample arrays (names carry their units)
    shard : for a shard file (``library build --shard``): ``index``, ``count`` (0-based index of
        ``count`` shards), ``first`` (library index of its first sample), ``library_samples``
    """

    path: Path
    frames: np.ndarray
    split: np.ndarray
    kind: str
    generator: str
    generator_version: str
    seed: int | None
    pixel_mm: float
    params: dict
    units: dict
    window_in: int
    window_out: int
    window_skip: int
    physics: dict = field(default_factory=dict)
    shard: dict | None = None

    @property
    def frame_shape(self) -> tuple[int, int]:
        return tuple(self.frames.shape[2:])

    @property
    def lazy(self) -> bool:
        """True when the frames are read from the file on demand (:class:`LazyFrames`)."""
        return isinstance(self.frames, LazyFrames)

    @property
    def binary(self) -> bool:
        """True when every pixel is 0 or 1 (crack libraries)."""
        return all(np.isin(s, (0.0, 1.0)).all() for s in iter_samples(self.frames))

    def indices(self, which: str) -> np.ndarray:
        """Sample indices of ``train``, ``test`` or ``all`` (a held-out library of another
        seed: every sample is unseen)."""
        if which == "all":
            return np.arange(len(self.split))
        if which not in ("train", "test"):
            raise UserError(f"unknown split {which!r}; choose train, test or all")
        return np.flatnonzero(self.split == (0 if which == "train" else 1))

    def split_frames(self, which: str) -> np.ndarray:
        """(N_split, T, H, W) frames of one split; a one-line error when the split is empty."""
        idx = self.indices(which)
        if len(idx) == 0:
            raise UserError(f"{self.path}: the library has no {which} samples")
        return self.frames[idx]

    def fingerprint(self) -> str:
        """sha256 of the frames and split: names the data a model was trained on (read sample
        by sample: the same digest for an in-memory and a lazy library)."""
        h = hashlib.sha256()
        for sample in iter_samples(self.frames):
            h.update(sample.tobytes())
        h.update(self.split.tobytes())
        return h.hexdigest()[:16]


def paper_split(n: int, n_test_full: int, n_full: int) -> np.ndarray:
    """Train/test flags with the paper's proportion; the test samples are the last ones."""
    n_test = n_test_full if n == n_full else max(1, round(n * n_test_full / n_full)) if n > 1 else 0
    split = np.zeros(n, dtype=np.int8)
    if n_test:
        split[n - n_test :] = 1
    return split


def write_library(
    path: str | Path,
    frames: np.ndarray,
    split: np.ndarray,
    *,
    kind: str,
    generator: str,
    seed: int | None,
    pixel_mm: float,
    params: dict,
    units: dict,
    window: tuple[int, int, int],
    physics: dict | None = None,
    physics_units: dict | None = None,
    shard: dict | None = None,
) -> Path:
    """Write a library atomically. ``physics`` values may be arrays or lists of ragged arrays.

    The HDF5 file is assembled in memory and then written as plain bytes: a full disk is then
    an ordinary write error (one line), never a failure inside the HDF5 library.
    """
    frames = check_frames(frames)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", track_order=True) as f:
        d = create_layout(
            f,
            frames.shape,
            split,
            dict(
                kind=kind,
                generator=generator,
                seed=seed,
                pixel_mm=pixel_mm,
                params=params,
                units=units,
                window=window,
                shard=shard,
            ),
            physics or {},
            physics_units or {},
        )
        d[...] = frames
    with atomic_file(path) as tmp:
        tmp.write_bytes(buffer.getbuffer())
    return Path(path)


def create_layout(f: h5py.File, shape, split, meta: dict, physics: dict, physics_units: dict):
    """Write everything of a library but its frames into the open file ``f``; returns the
    empty (N, T, H, W) float32 frames dataset (gzip, one chunk per sample) to fill.

    ``meta`` holds kind, generator, seed, pixel_mm, params, units, window and shard (or None),
    and optionally generator_version (default: this edge-shm's).
    """
    window, seed = meta["window"], meta["seed"]
    f.attrs.update(
        format=FORMAT_NAME,
        format_version=FORMAT_VERSION,
        kind=meta["kind"],
        generator=meta["generator"],
        generator_version=meta.get("generator_version", __version__),
        seed=-1 if seed is None else int(seed),
        pixel_size_mm=float(meta["pixel_mm"]),
        window_in=window[0],
        window_out=window[1],
        window_skip=window[2],
        n_samples=shape[0],
        n_train=int((split == 0).sum()),
        n_test=int((split == 1).sum()),
    )
    if meta.get("shard"):
        f.attrs.update({f"shard_{k}": int(v) for k, v in meta["shard"].items()})
    d = f.create_dataset(
        "frames",
        shape=tuple(shape),
        dtype=np.float32,
        chunks=(1, *shape[1:]),
        compression="gzip",
        compression_opts=4,
        shuffle=True,
    )
    d.attrs.update(axes="sample,time,row,column", unit="1 (normalised intensity)")
    f.create_dataset("split", data=split.astype(np.int8)).attrs["meaning"] = "0 train, 1 test"
    g = f.create_group("params")
    for k, v in meta["params"].items():
        g.attrs[k] = v
        g.attrs[f"{k}.unit"] = meta["units"].get(k, "1")
    ph = f.create_group("physics")
    for k, v in physics.items():
        if isinstance(v, list):  # ragged per-sample arrays: concatenated plus offsets
            offsets = np.cumsum([0] + [len(a) for a in v])
            ds = ph.create_dataset(k, data=np.concatenate(v))
            ph.create_dataset(f"{k}.offsets", data=offsets)
        else:
            ds = ph.create_dataset(k, data=np.asarray(v))
        ds.attrs["unit"] = physics_units.get(k, "")
    return d


def _fail(path, why: str):
    raise UserError(f"{path}: {' '.join(why.split())}")  # a value's repr: one line


def _scalar(path, attrs, name: str, kind: type, lo=None):
    """An attribute that must be one number (or string) of ``kind``, at least ``lo``."""
    if name not in attrs:
        _fail(path, f"library lacks the attribute {name!r}")
    v = _plain(attrs[name])
    if kind is str:
        if not isinstance(v, str):
            _fail(path, f"attribute {name!r} must be text, got {type(v).__name__}")
        return v
    ok = isinstance(v, int) if kind is int else isinstance(v, int | float)
    if isinstance(v, bool) or not ok or (kind is float and not math.isfinite(v)):
        _fail(path, f"attribute {name!r} must be one {kind.__name__}, got {v!r}")
    if lo is not None and v < lo:
        _fail(path, f"attribute {name!r} must be at least {lo}, got {v!r}")
    return kind(v)


def _dataset(path, f, name: str):
    obj = f.get(name)
    if not isinstance(obj, h5py.Dataset):
        _fail(path, f"library lacks its {name!r} dataset")
    return obj


def read_library(path: str | Path, load_physics: bool = True, lazy: bool = False) -> Library:
    """Read and validate a library written by :func:`write_library`.

    ``lazy=True`` leaves the frames in the file (:class:`LazyFrames`; each block is validated
    when read), for libraries larger than memory.
    """
    path = Path(path)
    check_library_file(path)
    if not h5py.is_hdf5(path):
        _fail(path, "not an HDF5 file")
    try:
        with h5py.File(path, "r") as f:
            return _read(path, f, load_physics, lazy)
    except UserError:
        raise
    except MemoryError:
        _fail(path, "too large to read into this machine's memory")
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as e:
        _fail(path, f"corrupt or unreadable library ({type(e).__name__}: {e})")


def _read(path: Path, f: h5py.File, load_physics: bool, lazy: bool) -> Library:
    if f.attrs.get("format") != FORMAT_NAME:
        _fail(path, f"not an edge-shm library (HDF5 without format='{FORMAT_NAME}')")
    version = _scalar(path, f.attrs, "format_version", int)
    if version != FORMAT_VERSION:
        _fail(path, f"library format version {version} is not supported")
    check_self_contained(path, f)
    fr, sp = _dataset(path, f, "frames"), _dataset(path, f, "split")
    if fr.ndim != 4:
        _fail(path, f"'frames' must be (N, T, H, W), got shape {fr.shape}")
    if fr.shape[2] * fr.shape[3] > MAX_FRAME_PIXELS:
        _fail(path, f"frames of {fr.shape[2]}x{fr.shape[3]} px are larger than supported")
    if not (np.issubdtype(fr.dtype, np.floating) or np.issubdtype(fr.dtype, np.integer)):
        _fail(path, f"'frames' must hold real numbers, got {fr.dtype}")
    if 0 in fr.shape:
        _fail(path, f"frames are empty: shape {fr.shape}")
    check_stored(path, fr, "frames")
    n = fr.shape[0]
    a = f.attrs
    if sp.shape != (n,) or sp.dtype.kind not in "iu":
        _fail(path, f"'split' must hold one integer per sample ({n}), got {sp.shape} {sp.dtype}")
    check_stored(path, sp, "split")
    split = sp[()]
    if not np.isin(split, (0, 1)).all():
        _fail(path, "'split' must hold one 0 (train) or 1 (test) per sample")
    if _scalar(path, a, "n_samples", int) != n:  # n_train, n_test: informative, unread
        _fail(path, f"attribute 'n_samples' says {a['n_samples']} but 'frames' holds {n}")
    window = [
        _scalar(path, a, k, int, lo)
        for k, lo in (("window_in", 1), ("window_out", 1), ("window_skip", 0))
    ]
    if sum(window) > fr.shape[1]:
        _fail(
            path,
            f"windows of {window[0]} + {window[1]} frames after {window[2]} skipped do "
            f"not fit samples of {fr.shape[1]} frames",
        )
    pixel_mm = _scalar(path, a, "pixel_size_mm", float)
    if not PIXEL_MM_RANGE[0] <= pixel_mm <= PIXEL_MM_RANGE[1]:
        lo, hi = PIXEL_MM_RANGE
        _fail(path, f"pixel size must lie in {lo:g}..{hi:g} mm, got {pixel_mm:g} mm")
    seed = _scalar(path, a, "seed", int, -1)
    if seed > MAX_SEED:
        _fail(path, f"attribute 'seed' must lie in -1..2**63-1, got {seed}")
    kind = _scalar(path, a, "kind", str)
    if kind not in KINDS:
        _fail(path, f"unknown library kind {kind!r} (expected one of {', '.join(KINDS)})")
    params, units = _params(path, f.get("params"))
    frames = LazyFrames(path, fr.shape) if lazy else check_frames(fr[()], f"{path}: frames")
    return Library(
        path=path,
        frames=frames,
        split=split.astype(np.int8),
        kind=kind,
        generator=_scalar(path, a, "generator", str),
        generator_version=_scalar(path, a, "generator_version", str),
        seed=None if seed < 0 else seed,
        pixel_mm=pixel_mm,
        params=params,
        units=units,
        window_in=window[0],
        window_out=window[1],
        window_skip=window[2],
        physics=read_physics(path, f, fr.shape[:2]) if load_physics else {},
        shard=_shard(path, a, n),
    )


def _shard(path, attrs, n: int) -> dict | None:
    """The shard attributes of a shard file (``library build --shard``), else None."""
    keys = ("index", "count", "first", "library_samples")
    if not any(f"shard_{k}" in attrs for k in keys):
        return None
    s = {k: _scalar(path, attrs, f"shard_{k}", int, 0) for k in keys}
    if not (
        s["index"] < s["count"] <= s["library_samples"] and s["first"] + n <= s["library_samples"]
    ):
        _fail(path, f"inconsistent shard attributes {s} for a file of {n} samples")
    return s


def _params(path, group) -> tuple[dict, dict]:
    """Generator parameters and their units: text, or finite numbers; ``width_mm`` (read by
    evaluation and on-site forecasts) one number in (0, 1e4] mm, ``timing`` text."""
    params, units = {}, {}
    if not isinstance(group, h5py.Group):
        return params, units
    for k, v in group.attrs.items():
        v = _plain(v)
        if k.endswith(".unit"):
            units[k[:-5]] = str(v)
            continue
        kind = np.asarray(v).dtype.kind
        if kind not in "biufUS" or (kind in "biuf" and not np.all(np.isfinite(v))):
            _fail(path, f"parameter {k!r} must be text or finite numbers, got {v!r}")
        params[k] = v
    w = params.get("width_mm")
    if w is not None and (not _number(w) or not 0 < w <= 1e4):
        _fail(path, f"parameter 'width_mm' must be one number in (0, 1e4] mm, got {w!r}")
    if not isinstance(params.get("timing", ""), str):
        _fail(path, f"parameter 'timing' must be text, got {params['timing']!r}")
    return params, units


def _plain(v):
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v[()]
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    return v.item() if isinstance(v, np.generic) else v


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def is_library(path: str | os.PathLike) -> bool:
    """True for an HDF5 file that says it is an edge-shm library (a cheap check; a FIFO or
    device is no library and is never opened)."""
    if not os.path.isfile(path):
        return False
    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("format") == FORMAT_NAME
    except Exception:  # noqa: BLE001 - anything unreadable is simply not a library
        return False
