"""Hostile library files and import sources: each is refused with one :class:`UserError` (one
line and exit code 2 on the command line), fast, without reading outside the file, decoding
images in vain or merging duplicated samples."""

from __future__ import annotations

import json
import os
import re
import shutil

import h5py
import numpy as np
import pytest
from PIL import Image

from edge_shm.app.library import ImportRequest, import_library, library_info, merge_library
from edge_shm.data.generators import build
from edge_shm.data.library import read_library, write_library
from edge_shm.errors import UserError


def _info_refuses(path, why: str) -> None:
    with pytest.raises(UserError, match=re.escape(why)):
        library_info(path)
    with pytest.raises(UserError, match=re.escape(why)):
        read_library(path, lazy=True)


def _edited(crack_lib_path, tmp_path, edit, name="bad.h5"):
    """A copy of the small valid crack library, changed by ``edit(f)`` through h5py."""
    path = tmp_path / name
    shutil.copy(crack_lib_path, path)
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


def _replace(f, name: str, data) -> None:
    if name in f:
        del f[name]
    f[name] = data


# 1. Nothing is read from outside the file, nor from what is no regular file.


@pytest.mark.parametrize("target", ["file", "/etc/passwd", "/dev/zero", "fifo"])
@pytest.mark.fast
def test_external_storage_is_refused(crack_lib_path, tmp_path, target):
    if target == "file":
        target = tmp_path / "raw.bin"
        target.write_bytes(np.zeros((24, 8, 96, 132), np.float32).tobytes())
    elif target == "fifo":
        target = tmp_path / "fifo"
        os.mkfifo(target)  # read, it would block for ever

    def edit(f):
        shape = f["frames"].shape
        del f["frames"]
        f.create_dataset(
            "frames", shape=shape, dtype=np.float32, external=[(str(target), 0, h5py.h5f.UNLIMITED)]
        )

    _info_refuses(_edited(crack_lib_path, tmp_path, edit), "stored in external files")


@pytest.mark.fast
def test_links_and_virtual_datasets_are_refused(crack_lib_path, tmp_path):
    other = tmp_path / "other.h5"
    shutil.copy(crack_lib_path, other)

    def external_link(f):
        del f["frames"]
        f["frames"] = h5py.ExternalLink(str(other), "/frames")

    def external_physics(f):
        del f["physics/loads_mpa"]
        f["physics/loads_mpa"] = h5py.ExternalLink(str(other), "/physics/loads_mpa")

    def soft_link(f):
        f.move("frames", "stored_frames")
        f["frames"] = h5py.SoftLink("/stored_frames")

    def virtual(f):
        layout = h5py.VirtualLayout(shape=f["frames"].shape, dtype=np.float32)
        layout[...] = h5py.VirtualSource(str(other), "frames", shape=f["frames"].shape)
        del f["frames"]
        f.create_virtual_dataset("frames", layout)

    cases = [
        (external_link, "ExternalLink"),
        (external_physics, "ExternalLink"),
        (soft_link, "SoftLink"),
        (virtual, "virtual dataset"),
    ]
    for i, (edit, why) in enumerate(cases):
        _info_refuses(_edited(crack_lib_path, tmp_path, edit, f"l{i}.h5"), why)


@pytest.mark.fast
def test_a_fifo_or_device_is_no_library(tmp_path):
    fifo = tmp_path / "lib.h5"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        _info_refuses(path, "not a regular file")
    out = tmp_path / "m.h5"
    with pytest.raises(UserError, match="not a regular file"):
        merge_library([fifo], out)
    assert not out.exists()


# 2. Physics, parameters and attributes of the wrong shape, type or range.

N, T = 24, 8  # the small crack library of conftest.py
PHYSICS_EDITS = {
    "cycles (12, 3)": ("physics/frame_cycles", np.zeros((12, 3)), "'frame_cycles' must be"),
    "cycles (N, 3)": ("physics/frame_cycles", np.zeros((N, 3)), "'frame_cycles' must be"),
    "cycles as text": ("physics/frame_cycles", np.full((N, T), b"many"), "'frame_cycles' must"),
    "cycles negative": ("physics/frame_cycles", -np.ones((N, T)), "outside 0..1e+15"),
    "cycles falling": (
        "physics/frame_cycles",
        np.tile(np.arange(T, 0, -1.0), (N, 1)),
        "decrease",
    ),
    "cycles NaN": ("physics/frame_cycles", np.full((N, T), np.nan), "NaN"),
    "loads (12,)": ("physics/loads_mpa", np.ones(12), "'loads_mpa' must be"),
    "loads (N,)": ("physics/loads_mpa", np.ones(N), "'loads_mpa' must be"),
    "loads -1e9": ("physics/loads_mpa", np.full((N, 7, 2), -1e9), "outside -10000..10000"),
    "compressive loads": ("physics/loads_mpa", -np.ones((N, 7, 2)), "tension"),
    "tips 1e300": ("physics/frame_tip_mm", np.full((N, T, 2), 1e300), "'frame_tip_mm' holds"),
    "timing code 7": ("physics/frame_timing", np.full(N, 7, np.int8), "'frame_timing' holds"),
    "timing as floats": ("physics/frame_timing", np.zeros(N), "'frame_timing' must be"),
    "rejected negative": ("physics/rejected_draws", -np.ones(N, np.int64), "'rejected_draws'"),
    "offsets short": ("physics/path_nodes_mm.offsets", np.arange(3), "offsets' must be"),
    "offsets past the rows": (
        "physics/path_nodes_mm.offsets",
        np.arange(N + 1) * 10**6,
        "offsets' must rise",
    ),
    "unknown array of other samples": ("physics/extra", np.zeros(5), "'extra' must be"),
    "split of other samples": ("split", np.zeros(5, np.int8), "'split' must hold"),
}


@pytest.mark.parametrize("case", PHYSICS_EDITS)
@pytest.mark.fast
def test_wrong_physics_is_refused(crack_lib_path, tmp_path, case):
    name, data, why = PHYSICS_EDITS[case]
    path = _edited(crack_lib_path, tmp_path, lambda f: _replace(f, name, data))
    _info_refuses(path, why)


ATTRIBUTE_EDITS = {
    "width as text": ("params", "width_mm", "wide", "'width_mm' must be one number"),
    "width NaN": ("params", "width_mm", np.nan, "must be text or finite"),
    "width negative": ("params", "width_mm", -10.0, "'width_mm' must be one number"),
    "parameter inf": ("params", "paris_m", np.inf, "'paris_m' must be text or finite"),
    "timing a number": ("params", "timing", 3, "'timing' must be text"),
    "pixel 1e300 mm": ("/", "pixel_size_mm", 1e300, "pixel size must lie in"),
    "pixel 1e-9 mm": ("/", "pixel_size_mm", 1e-9, "pixel size must lie in"),
    "seed 2**64 - 1": ("/", "seed", np.uint64(2**64 - 1), "'seed' must lie in"),
    "seed 2**70": ("/", "seed", 2.0**70, "'seed' must be one int"),
    "seed -5": ("/", "seed", -5, "'seed' must be at least -1"),
    "another kind": ("/", "kind", "virus", "unknown library kind"),
    "a million samples claimed": ("/", "n_samples", 10**6, "'n_samples' says 1000000"),
    "shard index past its count": ("/", "shard_index", 5, "inconsistent shard attributes"),
}


@pytest.mark.parametrize("case", ATTRIBUTE_EDITS)
@pytest.mark.fast
def test_wrong_parameters_and_attributes_are_refused(crack_lib_path, tmp_path, case):
    where, key, value, why = ATTRIBUTE_EDITS[case]

    def edit(f):
        f[where].attrs[key] = value
        if key == "shard_index":
            f.attrs.update(shard_count=3, shard_first=0, shard_library_samples=N * 3)

    _info_refuses(_edited(crack_lib_path, tmp_path, edit), why)


# 3. Claimed counts are checked against what the file stores; a summary takes no per-sample
#    Python loop.


@pytest.mark.fast
def test_a_million_samples_claimed_by_the_datasets(crack_lib_path, tmp_path):
    def edit(f):
        frames = f["frames"][()]
        del f["frames"], f["split"]
        shape = (10**6, *frames.shape[1:])
        d = f.create_dataset(
            "frames", shape=shape, dtype="f4", chunks=(1, *shape[1:]), compression=4
        )
        d[: len(frames)] = frames  # the other 999 976 samples: unwritten fill values
        f.create_dataset("split", shape=(10**6,), dtype=np.int8, chunks=(4096,))
        f.attrs["n_samples"] = 10**6

    path = _edited(crack_lib_path, tmp_path, edit)
    assert path.stat().st_size < 2 * 1024**2
    _info_refuses(path, "'frames' claims shape (1000000, 8, 96, 132)")


def test_many_small_samples_are_summarised_at_once(tmp_path):
    rng = np.random.default_rng(0)
    frames = (rng.random((20_000, 4, 2, 3)) > 0.5).astype(np.float32)
    split = np.zeros(len(frames), np.int8)
    split[-1000:] = 1
    path = tmp_path / "many.h5"
    meta = dict(kind="imported", generator="test", seed=None, params={}, units={})
    write_library(path, frames, split, pixel_mm=1.0, window=(3, 1, 0), **meta)
    info = json.loads(library_info(path).to_json())
    assert info["samples"] == 20_000 and info["test_samples"] == 1000
    assert info["mean_intensity_1"] == pytest.approx(frames.mean(dtype=np.float64), rel=1e-12)
    assert info["last_frame_mean_intensity_1"] == pytest.approx(frames[:, -1].mean(), rel=1e-6)


# 4. A shard relabelled as another index: only its content gives it away.


@pytest.mark.fast
def test_a_relabelled_shard_is_refused(tmp_path):
    parts = [build("fcg", tmp_path / f"p{i}.h5", 6, 2, shard=(i, 3)) for i in range(3)]
    fake = tmp_path / "p1-as-2.h5"
    shutil.copy(parts[1], fake)
    with h5py.File(parts[2]) as real, h5py.File(fake, "r+") as f:
        for k in ("shard_index", "shard_first", "n_train", "n_test"):
            f.attrs[k] = real.attrs[k]
        f["split"][...] = real["split"][()]
    out = tmp_path / "m.h5"
    with pytest.raises(UserError, match="p1-as-2.h5: sample 0 equals sample 0 of") as e:
        merge_library([parts[0], parts[1], fake], out)
    assert "p1.h5" in str(e.value)
    assert not out.exists() and not list(tmp_path.glob(".m.h5*"))
    assert merge_library(parts, out).summary["samples"] == 6  # the real ones
    assert read_library(out).frames.shape[0] == 6


@pytest.mark.fast
def test_a_forged_shard_count_ends_at_once(tmp_path):
    part = build("fcg", tmp_path / "p0.h5", 6, 2, shard=(0, 3))
    with h5py.File(part, "r+") as f:
        f.attrs.update(shard_count=10**12, shard_library_samples=2 * 10**12)
    with pytest.raises(UserError, match="shards 1/1000000000000, 2/1000000000000"):
        merge_library([part], tmp_path / "m.h5")


# 5. An import is refused before any image is decoded.


@pytest.fixture
def decoded(monkeypatch):
    """Counts the images decoded (edge_shm.data.frames.read_image calls)."""
    from edge_shm.data import frames

    calls, real = [], frames.read_image
    monkeypatch.setattr(frames, "read_image", lambda p: calls.append(p) or real(p))
    return calls


def _png_tree(root, frames_per_sample, sizes=None):
    for i, t in enumerate(frames_per_sample):
        (root / f"s{i}").mkdir(parents=True)
        for k in range(t):
            shape = (8, 8) if sizes is None else sizes[i]
            Image.fromarray(np.zeros(shape, np.uint8)).save(root / f"s{i}" / f"{k:03d}.png")
    return root


@pytest.mark.parametrize(
    "frames_per_sample, sizes, why",
    [
        ([2, 2, 2], None, "too short"),
        ([5, 5, 4], None, "different numbers of frames"),
        ([5, 5], [(8, 8), (8, 9)], "mixed image sizes"),
    ],
)
@pytest.mark.fast
def test_import_refuses_before_decoding(tmp_path, decoded, frames_per_sample, sizes, why):
    src = _png_tree(tmp_path / "src", frames_per_sample, sizes)
    out = tmp_path / "x.h5"
    with pytest.raises(UserError, match=why):
        import_library(ImportRequest(src, out))
    assert decoded == [] and not out.exists()


@pytest.mark.fast
def test_import_counts_tiff_pages_without_decoding(tmp_path, decoded):
    import tifffile

    for i in range(2):
        (tmp_path / "src" / f"s{i}").mkdir(parents=True)
        with tifffile.TiffWriter(tmp_path / "src" / f"s{i}" / "seq.tif") as tif:
            for _ in range(3):  # three pages: three frames
                tif.write(np.zeros((8, 8), np.uint8))
    with pytest.raises(UserError, match="samples of 3 frames are too short"):
        import_library(ImportRequest(tmp_path / "src", tmp_path / "x.h5"))
    assert decoded == []


@pytest.mark.fast
def test_import_decodes_each_image_once(tmp_path, decoded):
    src = _png_tree(tmp_path / "src", [4, 4, 4])
    lib = read_library(import_library(ImportRequest(src, tmp_path / "x.h5", 0.1)).path)
    assert lib.frames.shape == (3, 4, 8, 8) and len(decoded) == 12


# 6. .npy headers: negative or huge shapes, truncated data, a FIFO.


def _npy_with_shape(path, shape_text: str, data: bytes = b"") -> None:
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_text + ", }"
    header = header.ljust(118) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
    with open(path, "ab") as f:
        f.write(data)


@pytest.mark.parametrize(
    "shape, why",
    [
        ("(-2, -3, 4, 4)", "negative size"),
        ("(2, -1, 4, 4)", "negative size"),
        ("(1000000, 8, 96, 132)", "GiB"),
        ("(2, 8, 4, 4)", "truncated"),
        ("(2, 8, 4)", "4 dimensions"),
    ],
)
@pytest.mark.fast
def test_import_refuses_malformed_npy_headers(tmp_path, shape, why):
    src = tmp_path / "f.npy"
    _npy_with_shape(src, shape, bytes(64))
    out = tmp_path / "x.h5"
    with pytest.raises(UserError, match=re.escape(why)):
        import_library(ImportRequest(src, out))
    assert not out.exists()


@pytest.mark.fast
def test_import_refuses_a_fifo(tmp_path):
    os.mkfifo(tmp_path / "f.npy")
    with pytest.raises(UserError, match="not a regular file"):
        import_library(ImportRequest(tmp_path / "f.npy", tmp_path / "x.h5"))
