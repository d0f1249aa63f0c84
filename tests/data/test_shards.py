"""Sharded generation: shards built apart and merged equal a build in one process."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from edge_shm.app.library import BuildRequest, build_library, merge_library
from edge_shm.cli import main
from edge_shm.data.generators import build
from edge_shm.data.library import read_library
from edge_shm.data.shards import merge_shards, parse_shard, shard_range
from edge_shm.errors import UserError

TURING = dict(size=24, n_frames=22)


@pytest.mark.parametrize("n, count", [(7, 3), (10, 1), (5, 5), (908, 4)])
@pytest.mark.fast
def test_shard_ranges_cover_every_sample_once(n, count):
    blocks = [shard_range(n, i, count) for i in range(count)]
    assert blocks[0][0] == 0 and blocks[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(blocks[:-1], blocks[1:], strict=True))
    sizes = [b - a for a, b in blocks]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


@pytest.mark.parametrize("kind, n, extra", [("fcg", 7, {}), ("turing", 4, TURING)])
def test_three_shards_merge_to_the_single_build(tmp_path, kind, n, extra):
    whole = build(kind, tmp_path / "whole.h5", n, 5, **extra)
    parts = [build(kind, tmp_path / f"p{i}.h5", n, 5, shard=(i, 3), **extra) for i in range(3)]
    merged = merge_shards([parts[2], parts[0], parts[1]], tmp_path / "merged.h5")
    with h5py.File(whole) as a, h5py.File(merged) as b:
        fa, fb = a["frames"][()], b["frames"][()]
        assert fa.dtype == fb.dtype == np.float32 and fa.tobytes() == fb.tobytes()
        assert a["split"][()].tobytes() == b["split"][()].tobytes()
        assert sorted(a["physics"]) == sorted(b["physics"])
        for k in a["physics"]:
            assert a["physics"][k][()].tobytes() == b["physics"][k][()].tobytes(), k
        assert dict(a.attrs) == dict(b.attrs)
    assert read_library(whole).fingerprint() == read_library(merged).fingerprint()
    assert read_library(merged).shard is None
    assert read_library(parts[1]).shard["first"] == shard_range(n, 1, 3)[0]


@pytest.mark.fast
def test_sample_streams_depend_on_seed_and_index_only(tmp_path):
    a = read_library(build("fcg", tmp_path / "a.h5", 6, 9, shard=(1, 2)))
    b = read_library(build("fcg", tmp_path / "b.h5", 6, 9))
    c = read_library(build("fcg", tmp_path / "c.h5", 6, 10))
    assert np.array_equal(a.frames, b.frames[3:])
    assert not np.array_equal(b.frames, c.frames)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    d = tmp_path_factory.mktemp("shards")
    paths = [build("fcg", d / f"p{i}.h5", 6, 2, shard=(i, 3)) for i in range(3)]
    return d, paths


@pytest.mark.fast
def test_missing_and_duplicated_shards_are_refused(shards):
    d, (p0, p1, p2) = shards
    out = d / "m.h5"
    with pytest.raises(UserError, match="shard 1/3 missing"):
        merge_library([p0, p2], out)
    with pytest.raises(UserError, match="shard 1/3 is given twice"):
        merge_library([p0, p1, p1, p2], out)
    assert not out.exists() and not list(d.glob(".m.h5*"))


@pytest.mark.fast
def test_shards_of_other_seeds_or_options_are_refused(shards, tmp_path):
    d, (p0, p1, _) = shards
    other_seed = build("fcg", tmp_path / "s.h5", 6, 3, shard=(2, 3))
    with pytest.raises(UserError, match="different seeds"):
        merge_library([p0, p1, other_seed], d / "m.h5")
    other = build("fcg", tmp_path / "o.h5", 6, 2, shard=(2, 3), tension_mean_mpa=150.0)
    with pytest.raises(UserError, match="different options: tension_mean_mpa"):
        merge_library([p0, p1, other], d / "m.h5")
    whole = build("fcg", tmp_path / "w.h5", 6, 2)
    with pytest.raises(UserError, match="not a shard file"):
        merge_library([p0, whole], d / "m.h5")
    assert not (d / "m.h5").exists()


@pytest.mark.parametrize("shard", ["3/2", "2/2", "1/0", "-1/3", "a/b", "1"])
@pytest.mark.fast
def test_bad_shard_option(tmp_path, shard):
    out = tmp_path / "x.h5"
    with pytest.raises(UserError, match="--shard"):
        build_library(BuildRequest("fcg", out, samples=4, shard=shard))
    assert not out.exists()


@pytest.mark.fast
def test_more_shards_than_samples(tmp_path):
    out = tmp_path / "x.h5"
    with pytest.raises(UserError, match="empty"):
        build_library(BuildRequest("fcg", out, samples=2, shard="0/3"))
    assert not out.exists()


def test_cli_build_and_merge(tmp_path, capsys):
    for i in range(2):
        args = ["library", "build", "fcg", "--samples", "3", "--seed", "4", "--shard", f"{i}/2"]
        assert main([*args, "-o", str(tmp_path / f"p{i}.h5")]) == 0
    assert "0/2 (samples 0 to 1 of 3)" in capsys.readouterr().out
    shards = [str(tmp_path / "p1.h5"), str(tmp_path / "p0.h5")]
    assert main(["library", "merge", *shards, "-o", str(tmp_path / "m.h5")]) == 0
    lib = read_library(tmp_path / "m.h5")
    assert lib.frames.shape[0] == 3 and lib.seed == 4
    with pytest.raises(UserError, match="I/N"):
        parse_shard("1-2")


@pytest.mark.fast
def test_the_python_api_checks_the_shard_index(tmp_path):
    with pytest.raises(UserError, match="0..2"):
        build("fcg", tmp_path / "x.h5", 6, 0, shard=(5, 3))
    assert not (tmp_path / "x.h5").exists()
