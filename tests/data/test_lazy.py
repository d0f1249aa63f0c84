"""Lazy libraries: the same windows, fingerprint and summary as in memory, each block checked."""

from __future__ import annotations

import pickle

import h5py
import numpy as np
import pytest

from edge_shm.data.library import read_library
from edge_shm.data.summary import summary
from edge_shm.data.window_dataset import WindowDataset, open_for_training
from edge_shm.errors import UserError


@pytest.mark.fast
def test_lazy_library_reads_what_the_eager_one_holds(crack_lib_path, crack_lib):
    lazy = read_library(crack_lib_path, lazy=True)
    assert lazy.lazy and not crack_lib.lazy
    assert lazy.frames.shape == crack_lib.frames.shape
    assert np.array_equal(lazy.frames[3], crack_lib.frames[3])
    assert lazy.fingerprint() == crack_lib.fingerprint()
    assert lazy.binary == crack_lib.binary
    a, b = summary(lazy), summary(crack_lib)
    assert a == b
    for split in ("train", "test"):
        x = WindowDataset(lazy, split)
        y = WindowDataset(crack_lib, split)
        idx = np.arange(len(x))[::3]
        assert np.array_equal(x.windows(idx), y.windows(idx))


@pytest.mark.fast
def test_lazy_frames_pickle_without_the_open_file(crack_lib_path):
    frames = read_library(crack_lib_path, lazy=True).frames
    first = frames[0]
    again = pickle.loads(pickle.dumps(frames))
    assert again._file is None and np.array_equal(again[0], first)


@pytest.mark.fast
def test_a_bad_block_is_refused_when_read(tmp_path, crack_lib_path):
    path = tmp_path / "nan.h5"
    path.write_bytes(crack_lib_path.read_bytes())
    with h5py.File(path, "r+") as f:
        f["frames"][5, 2, 10, 10] = np.nan
    lib = read_library(path, lazy=True)  # opening reads no frames
    lib.frames[4]
    with pytest.raises(UserError, match="NaN"):
        lib.frames[5]
    with pytest.raises(UserError, match="NaN"):
        read_library(path)


@pytest.mark.fast
def test_open_for_training_modes(crack_lib_path):
    lib, why = open_for_training(crack_lib_path, "auto")  # small: in memory
    assert not lib.lazy and why is None
    lib, why = open_for_training(crack_lib_path, "lazy")
    assert lib.lazy and why is None
    with pytest.raises(UserError, match="--data"):
        open_for_training(crack_lib_path, "disk")


@pytest.mark.fast
def test_a_library_changed_under_a_worker_is_refused_in_one_line(tmp_path, crack_lib_path):
    import torch

    from edge_shm.data.window_dataset import as_batch
    from edge_shm.training.loop import _batches

    path = tmp_path / "lib.h5"
    path.write_bytes(crack_lib_path.read_bytes())
    data = WindowDataset(read_library(path, lazy=True), "train")
    loader = torch.utils.data.DataLoader(
        data, batch_size=4, num_workers=1, collate_fn=as_batch, shuffle=False
    )
    with h5py.File(path, "r+") as f:  # rebuilt in place while training: refused, not read
        f["frames"][0, 0, 0, 0] = 1.0
    with pytest.raises(UserError) as err:
        list(_batches(loader))
    assert str(err.value) == f"{path}: the library file was replaced or changed meanwhile"


def test_auto_budget_is_shared_by_the_processes_of_a_node(crack_lib_path, monkeypatch):
    import edge_shm.data.generators as gen

    nbytes = read_library(crack_lib_path, lazy=True).frames.nbytes
    monkeypatch.setattr(gen, "memory_bytes", lambda: 8 * nbytes)  # a quarter: 2x the frames
    lib, why = open_for_training(crack_lib_path, "auto")
    assert not lib.lazy and why is None
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")  # half the frames per process
    lib, why = open_for_training(crack_lib_path, "auto")
    assert lib.lazy and "/ 4 processes" in why
