"""Reading a library file safely, and its frames read when asked for.

What may be read from a library file at all: a regular file (:func:`check_library_file`; a FIFO
would block HDF5's open), holding its data itself (:func:`check_self_contained`: no links, no
external or virtual datasets), every dataset's claimed shape actually stored
(:func:`check_stored`), per-sample physics checked before use (:func:`read_physics`).

:class:`LazyFrames` stands in for the (N, T, H, W) frame array of a library opened with
``read_library(path, lazy=True)``. It reads through h5py, whose chunk cache holds the few most
recent samples (one chunk per sample), validates every block it returns exactly as the eager
reader validates the whole array, and reopens the file in each process (DataLoader workers).
Torch-free.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterator

import h5py
import numpy as np

from edge_shm.data.frames import check_frames
from edge_shm.errors import UserError

CACHED_SAMPLES = 4


class LazyFrames:
    """The frames dataset of a library file, read block by block.

    Parameters
    ----------
    path : the library file (validated by :func:`edge_shm.data.library.read_library`).
    shape : (N, T, H, W) of its ``frames`` dataset.
    """

    def __init__(self, path, shape: tuple[int, int, int, int]):
        self.path, self.shape = path, tuple(int(s) for s in shape)
        self.dtype, self.ndim = np.dtype(np.float32), 4
        self._file, self._pid = None, None
        self._identity = _identity(path)

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def nbytes(self) -> int:
        """Bytes of the whole array in memory (float32)."""
        return 4 * int(np.prod(self.shape))

    def _dataset(self) -> h5py.Dataset:
        if self._file is None or self._pid != os.getpid():
            if _identity(self.path) != self._identity:
                raise UserError(f"{self.path}: the library file was replaced or changed meanwhile")
            chunk = 4 * int(np.prod(self.shape[1:]))
            try:
                self._file = h5py.File(
                    self.path, "r", rdcc_nbytes=CACHED_SAMPLES * chunk + (1 << 20), rdcc_nslots=521
                )
            except OSError as e:
                raise UserError(f"{self.path}: cannot reopen the library ({e})") from None
            self._pid = os.getpid()
        return self._file["frames"]

    def __getitem__(self, key) -> np.ndarray:
        """Any h5py selection (ints, slices, one sorted index list), checked, as float32."""
        try:
            block = np.asarray(self._dataset()[key])
        except (OSError, KeyError, ValueError, TypeError, RuntimeError) as e:
            raise UserError(f"{self.path}: corrupt or unreadable frames ({e})") from None
        return check_frames(block, f"{self.path}: frames", ndim=None) if block.ndim >= 2 else block

    def window(self, sample: int, start: int, length: int) -> np.ndarray:
        """Frames ``start`` to ``start + length - 1`` of ``sample``: (length, H, W) float32."""
        return self[int(sample), int(start) : int(start) + int(length)]

    def __getstate__(self) -> dict:
        return dict(self.__dict__, _file=None, _pid=None)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None


def _identity(path) -> tuple | None:
    """What names one version of a file: device, inode, size, modification time."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def iter_samples(frames, indices=None) -> Iterator[np.ndarray]:
    """Each sample (T, H, W) float32 of an in-memory array or :class:`LazyFrames`, in order."""
    for i in range(len(frames)) if indices is None else indices:
        yield np.ascontiguousarray(frames[int(i)], dtype=np.float32)


def _fail(path, why: str):
    raise UserError(f"{path}: {' '.join(why.split())}")  # a value's repr: one line


def check_library_file(path) -> None:
    """Refuse what is not a regular file before HDF5 opens it (a FIFO would block the open, a
    device never end); symbolic links are followed."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        _fail(path, "no such file")
    except OSError as e:
        _fail(path, f"cannot be read ({e.strerror})")
    if stat.S_ISDIR(st.st_mode):
        _fail(path, "is a folder, not a library file")
    if not stat.S_ISREG(st.st_mode):
        _fail(path, "not a regular file (a FIFO, device or socket); a library must be one")


def check_self_contained(path, f: h5py.File) -> None:
    """Refuse a file that would make HDF5 read elsewhere: any soft or external link, any
    dataset stored in external files or assembled from others (virtual). A library holds
    its data itself; a link could point at ``/etc/passwd``, ``/dev/zero`` or a FIFO."""
    names: list[bytes] = []
    f.id.links.visit(names.append)  # every link below the root; callbacks must not raise
    for name in names:
        link = f.get(name, getlink=True)
        what = name.decode("utf-8", "replace")
        if not isinstance(link, h5py.HardLink):
            _fail(path, f"{what!r} is a link ({type(link).__name__}); a library may hold none")
        obj = f.get(name)
        if isinstance(obj, h5py.Dataset):
            if obj.is_virtual:
                _fail(path, f"{what!r} is a virtual dataset; a library holds its data itself")
            if obj.id.get_create_plist().get_external_count() > 0:
                _fail(path, f"{what!r} is stored in external files; a library holds its data")


def check_stored(path, ds: h5py.Dataset, name: str) -> None:
    """Refuse a dataset whose shape claims more than the file stores: every chunk (or the
    whole contiguous block) must be written. A forged shape of a million samples in a 1 MB
    file is refused here instead of reading a million samples of fill values."""
    if ds.size == 0:
        return
    layout = ds.id.get_create_plist().get_layout()
    if layout == h5py.h5d.CHUNKED:
        want = math.prod(-(-s // c) for s, c in zip(ds.shape, ds.chunks, strict=True))
        have = ds.id.get_num_chunks()
    elif layout == h5py.h5d.CONTIGUOUS:
        want, have = ds.nbytes, ds.id.get_storage_size()
    else:
        return  # compact: stored inside the object header, at most 64 KiB
    if have < want:
        _fail(path, f"{name!r} claims shape {ds.shape} but the file stores only part of it")


# Per-sample physics the code reads (training, evaluation, on-site forecasts, summaries): name
# -> (shape: N samples, T frames, M ragged rows, None any, an int exactly; value bounds).
# Loads: |load| <= 1e4 MPa and tension > 0 (the generator redraws a non-positive tension);
# cycles: non-negative and non-decreasing along each sample's frames (cumulative load cycles).
PHYSICS = {
    "loads_mpa": (("N", None, 2), -1e4, 1e4),
    "frame_tip_mm": (("N", "T", 2), -1e4, 1e4),
    "frame_cycles": (("N", "T"), 0, 1e15),
    "frame_timing": (("N",), 0, 2),
    "rejected_draws": (("N",), 0, 2**31),
    "path_nodes_mm": (("M", 2), -1e4, 1e4),
    "path_sif_mpa_sqrt_m": (("M", 2), -1e6, 1e6),
}
INTEGER_PHYSICS = ("frame_timing", "rejected_draws")


def read_physics(path, f: h5py.File, nt: tuple[int, int]) -> dict:
    """The per-sample arrays of ``/physics``, each checked before it is read (numbers, shape
    against the frames' (N, T), every byte stored), then its values (finite, :data:`PHYSICS`
    bounds); ragged arrays (``<name>.offsets``) become one array per sample."""
    ph, physics = f.get("physics"), {}
    if not isinstance(ph, h5py.Group):
        return physics
    for k in ph:
        ds, off = ph[k], ph.get(f"{k}.offsets")
        if k.endswith(".offsets") or not isinstance(ds, h5py.Dataset):
            continue
        spec, lo, hi = PHYSICS.get(k, (None, -math.inf, math.inf))
        if spec is None:  # another name: per-sample rows (or ragged), any further axes
            spec = ("M" if off is not None else "N",) + (None,) * max(ds.ndim - 1, 0)
        dims = {"N": nt[0], "T": nt[1], "M": ds.shape[0] if ds.ndim else -1}
        want = tuple(dims.get(d, d) for d in spec)
        if (
            ("M" in spec) != (off is not None)
            or ds.ndim != len(want)
            or any(w is not None and s != w for s, w in zip(ds.shape, want, strict=True))
            or ds.dtype.kind not in ("iu" if k in INTEGER_PHYSICS else "iuf")
        ):
            got = f"{ds.shape} {ds.dtype}" + ("" if off is None else " with offsets")
            _fail(path, f"physics {k!r} must be {_shape_text(spec, want)} numbers, got {got}")
        check_stored(path, ds, f"physics/{k}")
        data, why = ds[()], None
        if not np.all(np.isfinite(data)):
            why = "NaN or infinite values"
        elif data.size and (data.min() < lo or data.max() > hi):
            why = f"values outside {lo:g}..{hi:g}"
        elif k == "loads_mpa" and not np.all(data[..., 0] > 0):
            why = "a tension that is not positive"
        elif k == "frame_cycles" and np.any(np.diff(data, axis=1) < 0):
            why = "cycles that decrease from one frame to the next"
        if why:
            _fail(path, f"physics {k!r} holds {why}")
        physics[k] = data if off is None else _ragged(path, k, data, off, nt[0])
    return physics


def _ragged(path, k: str, data: np.ndarray, off, n: int) -> list:
    if not isinstance(off, h5py.Dataset) or off.shape != (n + 1,) or off.dtype.kind not in "iu":
        _fail(path, f"physics '{k}.offsets' must be {n + 1} integers (one more than samples)")
    check_stored(path, off, f"physics/{k}.offsets")
    o = off[()].astype(np.int64)
    if o[0] != 0 or o[-1] != len(data) or np.any(np.diff(o) < 0):
        _fail(path, f"physics '{k}.offsets' must rise from 0 to {len(data)} (its rows)")
    return [data[a:b] for a, b in zip(o[:-1], o[1:], strict=True)]


def _shape_text(spec, want) -> str:
    dims = ", ".join("any" if w is None else str(w) for w in want)
    names = ", ".join(str(d) for d in spec)
    return f"({dims}) [({names})]"
