"""HDF5 library format: self-description, round trip, import, determinism, bad input."""

import h5py
import numpy as np
import pytest
from PIL import Image

from edge_shm.data.generators import build_fcg, build_turing
from edge_shm.data.importing import import_library
from edge_shm.data.library import paper_split, read_library
from edge_shm.data.window_dataset import WindowDataset
from edge_shm.errors import UserError

pytestmark = pytest.mark.fast


def test_library_is_self_describing(crack_lib_path):
    with h5py.File(crack_lib_path) as f:
        assert f.attrs["format"] == "edge-shm-library"
        assert f.attrs["format_version"] == 1
        assert f.attrs["generator"] == "edge_shm.fcg"
        assert f.attrs["seed"] == 3
        assert f.attrs["pixel_size_mm"] == pytest.approx(0.075)
        assert f["frames"].shape == (24, 8, 96, 132)
        params = f["params"].attrs
        assert params["paris_c"] == pytest.approx(9.7e-12)
        assert params["paris_m"] == 3.0
        assert "MPa" in params["tension_mean_mpa.unit"]
        for k in params:
            if not k.endswith(".unit"):
                assert f"{k}.unit" in params, f"parameter {k} has no unit"
        for name in ("loads_mpa", "frame_tip_mm", "frame_cycles", "path_sif_mpa_sqrt_m"):
            assert f["physics"][name].attrs["unit"]


def test_physics_per_sample(crack_lib):
    ph = crack_lib.physics
    n = crack_lib.frames.shape[0]
    assert ph["loads_mpa"].shape == (n, 7, 2)
    assert ph["frame_cycles"].shape == (n, 8)
    assert len(ph["path_nodes_mm"]) == n and ph["path_nodes_mm"][0].shape[1] == 2
    assert len(ph["path_sif_mpa_sqrt_m"]) == n
    assert np.all(ph["loads_mpa"][:, :, 0] > 0)


def test_same_seed_gives_identical_frames(tmp_path):
    a = build_fcg(tmp_path / "a.h5", 6, 5)
    b = build_fcg(tmp_path / "b.h5", 6, 5)
    assert read_library(a).frames.tobytes() == read_library(b).frames.tobytes()
    assert a.read_bytes() == b.read_bytes()


def test_paper_split_and_windows(crack_lib):
    assert paper_split(908, 108, 908).sum() == 108
    assert paper_split(15, 5, 15).sum() == 5
    n_train, n_test = (crack_lib.split == 0).sum(), (crack_lib.split == 1).sum()
    assert len(WindowDataset(crack_lib, "train")) == 5 * n_train
    assert len(WindowDataset(crack_lib, "test")) == 5 * n_test
    x, y = WindowDataset(crack_lib, "train")[6]
    assert x.shape == (3, 1, 96, 132) and y.shape == (1, 1, 96, 132)
    s = crack_lib.indices("train")[1]
    assert np.array_equal(x[:, 0].numpy(), crack_lib.frames[s, 1:4])
    assert np.array_equal(y[0, 0].numpy(), crack_lib.frames[s, 4])


def test_full_size_window_counts_match_the_paper():
    from edge_shm.data.windows import window_starts

    assert 800 * len(window_starts(8, 3, 1, 0)) == 4000
    assert 108 * len(window_starts(8, 3, 1, 0)) == 540
    assert 10 * len(window_starts(68, 10, 10, 1)) == 480
    assert 5 * len(window_starts(68, 10, 10, 1)) == 240


def test_turing_library_windows(tmp_path):
    path = build_turing(tmp_path / "t.h5", 3, 0, size=32, n_frames=25)
    lib = read_library(path)
    assert lib.frames.shape == (3, 25, 32, 32) and lib.split.sum() == 1
    ds = WindowDataset(lib, "train")
    assert len(ds) == 2 * (25 - 20)
    x, y = ds[0]
    assert x.shape == (10, 1, 32, 32) and y.shape == (10, 1, 32, 32)


def test_import_npy_and_image_folder_round_trip(tmp_path):
    frames = np.random.default_rng(0).random((3, 4, 10, 12)).astype(np.float32)
    np.save(tmp_path / "f.npy", frames)
    lib = read_library(import_library(tmp_path / "f.npy", tmp_path / "a.h5", 0.1))
    assert np.array_equal(lib.frames, frames) and lib.kind == "imported"
    src = tmp_path / "imgs"
    for i, sample in enumerate((frames * 255).round().astype(np.uint8)):
        (src / f"s{i}").mkdir(parents=True)
        for t, img in enumerate(sample):
            Image.fromarray(img).save(src / f"s{i}" / f"frame_{t:02d}.png")
    lib2 = read_library(import_library(src, tmp_path / "b.h5", 0.1, n_test=1))
    assert np.allclose(lib2.frames, frames, atol=1 / 255)
    assert lib2.split.tolist() == [0, 0, 1]


def test_import_rejects_mixed_sizes_and_non_images(tmp_path):
    src = tmp_path / "mixed"
    (src / "a").mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(src / "a" / "0.png")
    Image.fromarray(np.zeros((8, 9), np.uint8)).save(src / "a" / "1.png")
    with pytest.raises(UserError, match="mixed image sizes"):
        import_library(src, tmp_path / "x.h5", 0.1)
    src2 = tmp_path / "text"
    (src2 / "a").mkdir(parents=True)
    (src2 / "a" / "notes.txt").write_text("hello")
    with pytest.raises(UserError, match="not a PNG, TIFF, JPEG, BMP or GIF"):
        import_library(src2, tmp_path / "x.h5", 0.1)
    assert not (tmp_path / "x.h5").exists()


def test_import_rejects_nan_and_bad_shapes(tmp_path):
    bad = np.zeros((2, 3, 4, 4), np.float32)
    bad[0, 0, 0, 0] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(UserError, match="NaN"):
        import_library(tmp_path / "nan.npy", tmp_path / "x.h5", 0.1)
    np.save(tmp_path / "flat.npy", np.zeros((4, 4)))
    with pytest.raises(UserError, match="4 dimensions"):
        import_library(tmp_path / "flat.npy", tmp_path / "x.h5", 0.1)
    assert not (tmp_path / "x.h5").exists()


def test_read_rejects_foreign_and_corrupt_files(tmp_path):
    (tmp_path / "t.txt").write_text("not hdf5")
    with pytest.raises(UserError, match="not an HDF5 file"):
        read_library(tmp_path / "t.txt")
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f["data"] = np.zeros(3)
    with pytest.raises(UserError, match="not an edge-shm library"):
        read_library(tmp_path / "foreign.h5")
    with pytest.raises(UserError, match="no such file"):
        read_library(tmp_path / "missing.h5")


def test_truncated_library_is_reported(crack_lib_path, tmp_path):
    data = crack_lib_path.read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError):
        read_library(tmp_path / "cut.h5")
