"""Digital libraries on disk: a self-describing HDF5 file (format in docs/library-format.md).

Functions here are torch-free: the Lava environment reads libraries too.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import h5py
import numpy as np

from edge_shm import __version__
from edge_shm.atomic import atomic_file
from edge_shm.errors import UserError

FORMAT_NAME = "edge-shm-library"
FORMAT_VERSION = 1
IMAGE_SUFFIXES = {".png", ".tif", ".tiff"}


@dataclass
class Library:
    """A digital library loaded in memory.

    Attributes
    ----------
    frames : (N, T, H, W) float32 in [0, 1]
    split : (N,) int8, 0 = train, 1 = test
    kind : ``fcg``, ``turing`` or ``imported``
    pixel_mm : pixel size in mm
    params, units : physical parameters and their units
    window_in, window_out, window_skip : default windows (frames in, frames out, frames skipped
        at the start of each sample)
    physics : per-sample arrays (names carry their units)
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

    @property
    def frame_shape(self) -> tuple[int, int]:
        return tuple(self.frames.shape[2:])

    def indices(self, which: str) -> np.ndarray:
        return np.flatnonzero(self.split == (0 if which == "train" else 1))

    def fingerprint(self) -> str:
        """sha256 of the frames and split: names the data a model was trained on."""
        import hashlib

        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.frames).tobytes())
        h.update(self.split.tobytes())
        return h.hexdigest()[:16]


def paper_split(n: int, n_test_full: int, n_full: int) -> np.ndarray:
    """Train/test flags with the paper's proportion; the test samples are the last ones."""
    n_test = n_test_full if n == n_full else max(1, round(n * n_test_full / n_full)) if n > 1 else 0
    split = np.zeros(n, dtype=np.int8)
    if n_test:
        split[n - n_test :] = 1
    return split


def check_frames(frames: np.ndarray, what: str = "frames") -> np.ndarray:
    """Validate a (N, T, H, W) stack: finite and in [0, 1]; returns it as float32."""
    frames = np.asarray(frames)
    if frames.ndim != 4:
        raise UserError(f"{what} must have 4 dimensions (N, T, H, W), got shape {frames.shape}")
    if 0 in frames.shape:
        raise UserError(f"{what} are empty: shape {frames.shape}")
    frames = frames.astype(np.float32, copy=False)
    if not np.all(np.isfinite(frames)):
        raise UserError(f"{what} contain NaN or infinite values")
    if frames.min() < 0 or frames.max() > 1:
        raise UserError(f"{what} must lie in [0, 1], got [{frames.min():.3g}, {frames.max():.3g}]")
    return frames


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
) -> Path:
    """Write a library atomically. ``physics`` values may be arrays or lists of ragged arrays."""
    frames = check_frames(frames)
    path = Path(path)
    with atomic_file(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as f:
            f.attrs.update(
                format=FORMAT_NAME,
                format_version=FORMAT_VERSION,
                kind=kind,
                generator=generator,
                generator_version=__version__,
                seed=-1 if seed is None else int(seed),
                pixel_size_mm=float(pixel_mm),
                window_in=window[0],
                window_out=window[1],
                window_skip=window[2],
                n_samples=frames.shape[0],
                n_train=int((split == 0).sum()),
                n_test=int((split == 1).sum()),
            )
            d = f.create_dataset(
                "frames",
                data=frames,
                chunks=(1, *frames.shape[1:]),
                compression="gzip",
                compression_opts=4,
                shuffle=True,
            )
            d.attrs.update(axes="sample,time,row,column", unit="1 (normalised intensity)")
            f.create_dataset("split", data=split.astype(np.int8)).attrs["meaning"] = (
                "0 train, 1 test"
            )
            g = f.create_group("params")
            for k, v in params.items():
                g.attrs[k] = v
                g.attrs[f"{k}.unit"] = units.get(k, "1")
            ph = f.create_group("physics")
            for k, v in (physics or {}).items():
                unit = (physics_units or {}).get(k, "")
                if isinstance(v, list):  # ragged per-sample arrays: concatenated plus offsets
                    offsets = np.cumsum([0] + [len(a) for a in v])
                    ds = ph.create_dataset(k, data=np.concatenate(v))
                    ph.create_dataset(f"{k}.offsets", data=offsets)
                else:
                    ds = ph.create_dataset(k, data=np.asarray(v))
                ds.attrs["unit"] = unit
    return path


def _fail(path, why: str):
    raise UserError(f"{path}: {why}")


def read_library(path: str | Path, load_physics: bool = True) -> Library:
    """Read and validate a library written by :func:`write_library`."""
    path = Path(path)
    if not path.is_file():
        _fail(path, "no such file")
    if not h5py.is_hdf5(path):
        _fail(path, "not an HDF5 file")
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT_NAME:
                _fail(path, f"not an edge-shm library (HDF5 without format='{FORMAT_NAME}')")
            version = int(f.attrs.get("format_version", -1))
            if version != FORMAT_VERSION:
                _fail(path, f"library format version {version} is not supported")
            if "frames" not in f or "split" not in f:
                _fail(path, "library lacks its 'frames' or 'split' dataset")
            frames = check_frames(f["frames"][()], f"{path}: frames")
            split = f["split"][()]
            if split.shape != (frames.shape[0],):
                _fail(path, "split length differs from the number of samples")
            params = {k: _py(v) for k, v in f["params"].attrs.items() if not k.endswith(".unit")}
            units = {k[:-5]: str(v) for k, v in f["params"].attrs.items() if k.endswith(".unit")}
            physics = {}
            if load_physics and "physics" in f:
                ph = f["physics"]
                for k in ph:
                    if k.endswith(".offsets"):
                        continue
                    data = ph[k][()]
                    if f"{k}.offsets" in ph:
                        off = ph[f"{k}.offsets"][()]
                        data = [data[a:b] for a, b in zip(off[:-1], off[1:], strict=True)]
                    physics[k] = data
            a = f.attrs
            seed = int(a["seed"])
            return Library(
                path=path,
                frames=frames,
                split=split,
                kind=str(a["kind"]),
                generator=str(a["generator"]),
                generator_version=str(a["generator_version"]),
                seed=None if seed < 0 else seed,
                pixel_mm=float(a["pixel_size_mm"]),
                params=params,
                units=units,
                window_in=int(a["window_in"]),
                window_out=int(a["window_out"]),
                window_skip=int(a["window_skip"]),
                physics=physics,
            )
    except (OSError, KeyError, ValueError) as e:
        _fail(path, f"corrupt or unreadable library ({type(e).__name__}: {e})")


def _py(v):
    return v.item() if isinstance(v, np.generic) else v


# --- building ----------------------------------------------------------------------------------


def build_fcg(path, n_samples: int = 908, seed: int = 0, progress=None, **overrides) -> Path:
    """Simulate the crack library and write it; default is the paper's 908 samples, 800/108."""
    from edge_shm import fcg

    p = fcg.FCGParams(**overrides)
    frames, phys = fcg.generate(n_samples, seed, p, progress=progress)
    return write_library(
        path,
        frames,
        paper_split(n_samples, 108, 908),
        kind="fcg",
        generator="edge_shm.fcg",
        seed=seed,
        pixel_mm=p.pixel_mm,
        params=asdict(p),
        units=p.units(),
        window=(3, 1, 0),
        physics=phys,
        physics_units={
            "loads_mpa": "MPa (tension, shear) per load segment",
            "frame_tip_mm": "mm (x, y) of the tip at each frame",
            "frame_cycles": "cycles at each frame",
            "rejected_draws": "load draws rejected because the crack left the region",
            "path_nodes_mm": "mm (x, y) of every growth increment",
            "path_sif_mpa_sqrt_m": "MPa*sqrt(m) (K_I, K_II) at every node",
        },
    )


def build_turing(path, n_samples: int = 15, seed: int = 0, progress=None, **overrides) -> Path:
    """Simulate the Turing library and write it; default 15 samples x 68 frames, split 10/5."""
    from edge_shm import turing

    p = turing.TuringParams(**overrides)
    frames, _ = turing.generate(n_samples, seed, p, progress=progress)
    return write_library(
        path,
        frames,
        paper_split(n_samples, 5, 15),
        kind="turing",
        generator="edge_shm.turing",
        seed=seed,
        pixel_mm=p.pixel_mm,
        params=asdict(p),
        units=p.units(),
        window=(10, 10, 1),
    )


# --- importing ---------------------------------------------------------------------------------


def _read_image(path: Path) -> np.ndarray:
    from skimage import io
    from skimage.color import rgb2gray, rgba2rgb

    try:
        img = io.imread(path)
    except Exception as e:  # imageio/tifffile raise many types for broken files
        raise UserError(f"{path}: not a readable image ({type(e).__name__})") from None
    if img.ndim == 3 and img.shape[-1] == 4:
        img = rgba2rgb(img)
    if img.ndim == 3 and img.shape[-1] == 3:
        img = rgb2gray(img)
    elif np.issubdtype(img.dtype, np.integer):
        img = img.astype(np.float64) / np.iinfo(img.dtype).max
    if img.ndim != 2:
        raise UserError(f"{path}: expected a 2-D grey or RGB image, got shape {img.shape}")
    return img.astype(np.float32)


def load_image_folder(src: Path) -> np.ndarray:
    """Frames (N, T, H, W) from one sub-folder per sample (frames in name order)."""
    subdirs = sorted(d for d in src.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not subdirs:
        raise UserError(f"{src}: no sample sub-folders (one folder of frames per sample)")
    samples = []
    for d in subdirs:
        files = sorted(f for f in d.iterdir() if not f.name.startswith("."))
        bad = [f for f in files if f.suffix.lower() not in IMAGE_SUFFIXES]
        if bad:
            raise UserError(f"{bad[0]}: not a PNG or TIFF image")
        if not files:
            raise UserError(f"{d}: empty sample folder")
        samples.append([_read_image(f) for f in files])
    shapes = {im.shape for s in samples for im in s}
    if len(shapes) > 1:
        raise UserError(f"{src}: mixed image sizes {sorted(shapes)}")
    lengths = {len(s) for s in samples}
    if len(lengths) > 1:
        raise UserError(f"{src}: samples have different numbers of frames {sorted(lengths)}")
    return np.stack([np.stack(s) for s in samples])


def load_frames_any(src: str | Path) -> np.ndarray:
    """Frames from a .npy (N, T, H, W) array or an image folder tree."""
    src = Path(src)
    if not src.exists():
        raise UserError(f"{src}: no such file or folder")
    if src.is_dir():
        return load_image_folder(src)
    if src.suffix.lower() == ".npy":
        try:
            arr = np.load(src, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise UserError(f"{src}: not a readable .npy array ({e})") from None
        if not np.issubdtype(arr.dtype, np.number):
            raise UserError(f"{src}: array dtype {arr.dtype} is not numeric")
        return arr
    raise UserError(f"{src}: expected a .npy file or a folder of image sequences")


def import_library(
    src, path, pixel_mm: float, n_test: int | None = None, window: tuple[int, int, int] = (3, 1, 0)
) -> Path:
    """Import experimental frames into a library (kind ``imported``)."""
    frames = check_frames(load_frames_any(src), f"{src}")
    n = frames.shape[0]
    if not (pixel_mm > 0 and math.isfinite(pixel_mm)):
        raise UserError(f"--pixel-mm must be a positive number, got {pixel_mm}")
    if n_test is None:
        split = paper_split(n, 108, 908)
    else:
        if not 0 <= n_test < n:
            raise UserError(f"--n-test must lie in [0, {n - 1}], got {n_test}")
        split = np.zeros(n, dtype=np.int8)
        split[n - n_test :] = 1
    return write_library(
        path,
        frames,
        split,
        kind="imported",
        generator="edge_shm.library.import",
        seed=None,
        pixel_mm=pixel_mm,
        params={"source": str(Path(src).name)},
        units={"source": "path"},
        window=window,
    )


def summary(lib: Library) -> dict:
    """Numbers people look at, each with its unit in the key."""
    n, t, h, w = lib.frames.shape
    last = lib.frames[:, -1]
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
        "mean_intensity_1": float(lib.frames.mean()),
        "last_frame_mean_intensity_1": float(last.mean()),
    }
    if lib.kind == "fcg":
        out["last_frame_crack_fraction_pct"] = float(100 * (last > 0.5).mean())
        if "frame_cycles" in lib.physics:
            c = lib.physics["frame_cycles"][:, -1]
            out["cycles_to_last_frame_median_cycles"] = float(np.median(c))
        if "rejected_draws" in lib.physics:
            out["rejected_load_draws_count"] = int(lib.physics["rejected_draws"].sum())
    return out


def json_dumps(d) -> str:
    return json.dumps(d, indent=2, default=_py)
