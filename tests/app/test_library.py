"""The library use cases called directly: build, merge, import, info and preview return typed
results, report progress through the caller's stages, and refuse bad requests in one line
before any work, writing nothing."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from edge_shm.app.library import (
    BuildRequest,
    FrameTiming,
    ImportRequest,
    LibraryKind,
    build_library,
    import_library,
    library_info,
    library_output,
    merge_library,
    preview_library,
)
from edge_shm.data.generators import KINDS
from edge_shm.data.library import read_library
from edge_shm.errors import UserError

pytestmark = pytest.mark.fast


def _refused(call, why: str) -> str:
    with pytest.raises(UserError, match=why) as e:
        call()
    assert "\n" not in str(e.value)
    return str(e.value)


def test_build_reports_progress_and_returns_the_summary(tmp_path, stages):
    out = tmp_path / "l.h5"
    result = build_library(BuildRequest("fcg", out, samples=3, seed=2), progress=stages)
    assert result.path == out and out.exists()
    assert stages.seen == [("building fcg library", 3, 3)]
    s = result.summary
    assert (s["samples"], s["seed"], s["frames_per_sample"]) == (3, 2, 8)
    assert (s["frame_rows_px"], s["frame_cols_px"], s["frame_timing"]) == (96, 132, "slices")
    assert s["path"] == str(out) and json.loads(result.to_json())["samples"] == 3


def test_enum_members_and_their_values_build_the_same_library(tmp_path):
    """Members or values, the request reaches the generator unchanged."""
    a = build_library(BuildRequest(LibraryKind.fcg, tmp_path / "a.h5", 2, 1, 5, FrameTiming.cycles))
    b = build_library(BuildRequest("fcg", tmp_path / "b.h5", 2, 1, 5, "cycles"))
    assert a.summary["frame_timing"] == b.summary["frame_timing"] == "cycles"
    assert read_library(a.path).fingerprint() == read_library(b.path).fingerprint()


def test_the_choices_name_what_the_generators_accept():
    from edge_shm.data.generators.fcg import TIMINGS

    assert tuple(k.value for k in LibraryKind) == KINDS
    assert tuple(t.value for t in FrameTiming) == TIMINGS


def test_a_small_turing_library(tmp_path):
    request = BuildRequest("turing", tmp_path / "t.h5", samples=2, frames=22, size=24)
    s = build_library(request).summary
    assert (s["kind"], s["samples"], s["frames_per_sample"], s["frame_rows_px"]) == (
        "turing",
        2,
        22,
        24,
    )
    assert "frame_timing" not in s


@pytest.mark.parametrize(
    "fields, why",
    [
        (dict(kind="fcg", size=40), "--size applies to turing"),
        (dict(kind="turing", timing="cycles"), "--timing applies to crack"),
        (dict(kind="fcg", seed=-1), "--seed must be an integer"),
        (dict(kind="fcg", seed=2**63), "--seed must be an integer"),
        (dict(kind="fcg", samples=0), "--samples must be a positive integer, got 0"),
        (dict(kind="fcg", samples=4, shard="2/2"), "--shard 2/2"),
        (dict(kind="fcg", samples=2, shard="0/3"), "empty"),
        (dict(kind="fcg", samples=2, shard=(5, 3)), "0..2"),
        (dict(kind="granite"), "unknown library kind 'granite'"),
        (dict(kind="fcg", timing="hourly"), "unknown timing 'hourly'"),
        (dict(kind="fcg", frames=1), "frames"),
        (dict(kind="fcg", samples=10**12), "GiB"),
    ],
)
def test_bad_builds_are_refused_before_any_work(tmp_path, fields, why, stages):
    out = tmp_path / "x.h5"
    _refused(lambda: build_library(BuildRequest(output=out, **fields), progress=stages), why)
    assert stages.seen == [] and not out.exists()


def test_an_output_that_is_no_library_is_not_replaced(tmp_path):
    (tmp_path / "notes.h5").write_text("mine")
    _refused(lambda: library_output(tmp_path / "notes.h5"), "refusing to replace")
    request = BuildRequest("fcg", tmp_path / "notes.h5", samples=2)
    _refused(lambda: build_library(request), "refusing to replace")
    assert (tmp_path / "notes.h5").read_text() == "mine"


def test_shards_built_apart_merge_to_the_one_process_build(tmp_path, stages):
    whole = build_library(BuildRequest("fcg", tmp_path / "w.h5", samples=3, seed=4))
    parts = []
    for i in (1, 0):
        stages.opened.clear()
        request = BuildRequest("fcg", tmp_path / f"p{i}.h5", samples=3, seed=4, shard=f"{i}/2")
        parts.append(build_library(request, progress=stages).path)
        assert stages.seen[0][:2] == (f"building fcg library shard {i}/2", 2 - i)
    assert library_info(parts[1]).summary["shard"].startswith("0/2 (samples 0 to 1 of 3)")
    stages.opened.clear()
    merged = merge_library(parts, tmp_path / "m.h5", progress=stages)
    assert stages.seen == [("merging 2 shards", 3, 3)]
    assert merged.summary["samples"] == 3 and "shard" not in merged.summary
    assert read_library(merged.path).fingerprint() == read_library(whole.path).fingerprint()
    _refused(lambda: merge_library(parts[:1], tmp_path / "n.h5"), "shard 0/2 missing")
    _refused(lambda: merge_library([whole.path], tmp_path / "n.h5"), "not a shard file")
    _refused(lambda: merge_library(parts, parts[0]), "also an input")
    assert not (tmp_path / "n.h5").exists()


def test_import_an_array(tmp_path):
    frames = np.random.default_rng(0).random((5, 4, 6, 7)).astype(np.float32)
    np.save(tmp_path / "f.npy", frames)
    result = import_library(ImportRequest(tmp_path / "f.npy", tmp_path / "i.h5", 0.1, n_test=2))
    s = result.summary
    assert (s["kind"], s["samples"], s["test_samples"], s["pixel_size_mm"]) == (
        "imported",
        5,
        2,
        0.1,
    )
    assert s["field_of_view_mm"] == [0.6, 0.7]
    assert np.array_equal(read_library(result.path).frames, frames)


@pytest.mark.parametrize(
    "fields, why",
    [
        (dict(mouth="right"), "--mouth, --crack and --channel apply with --camera"),
        (dict(camera=True, crack="grey"), "--crack must be bright or dark"),
        (dict(camera=True), "--camera reads folders of images, not an array"),
        (dict(pixel_mm=0.0), "--pixel-mm must be a positive number"),
        (dict(n_test=5), r"--n-test must lie in \[0, 4\]"),
    ],
)
def test_bad_imports_are_refused(tmp_path, fields, why):
    np.save(tmp_path / "f.npy", np.zeros((5, 4, 6, 7), np.float32))
    out = tmp_path / "i.h5"
    _refused(lambda: import_library(ImportRequest(tmp_path / "f.npy", out, **fields)), why)
    assert not out.exists()


def test_import_camera_folders(tmp_path):
    """Two samples of the shipped camera frames, read as the on-site loop reads a camera."""
    import shutil
    from pathlib import Path

    camera = Path(__file__).resolve().parents[2] / "examples" / "camera"
    for case in ("notch_left_bright", "ruler_left_bright"):
        (tmp_path / "src" / case).mkdir(parents=True)
        for f in (camera / case).glob("*.png"):
            shutil.copy(f, tmp_path / "src" / case / f.name)
    request = ImportRequest(tmp_path / "src", tmp_path / "c.h5", 0.05, n_test=1, camera=True)
    s = import_library(request).summary
    assert (s["samples"], s["frames_per_sample"], s["test_samples"]) == (2, 12, 1)
    frames = read_library(tmp_path / "c.h5").frames
    assert set(np.unique(frames)) <= {0.0, 1.0} and frames[:, -1].sum() > frames[:, 0].sum()


def test_info_of_the_tiny_library(tiny_library):
    result = library_info(tiny_library)
    assert result.path == tiny_library
    s = result.summary
    assert (s["kind"], s["samples"], s["train_samples"], s["test_samples"]) == ("imported", 8, 6, 2)
    assert (s["window_in_frames"], s["window_out_frames"], s["pixel_size_mm"]) == (3, 1, 0.05)
    frames = read_library(tiny_library).frames
    assert s["mean_intensity_1"] == pytest.approx(frames.mean(dtype=np.float64))
    info = json.loads(result.to_json())
    assert list(info) == list(s) and info["samples"] == 8


def test_info_refuses_what_is_no_library(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    _refused(lambda: library_info(tmp_path / "a.txt"), "not an HDF5")
    with h5py.File(tmp_path / "f.h5", "w") as f:
        f["x"] = np.zeros(2)
    _refused(lambda: library_info(tmp_path / "f.h5"), "not an edge-shm library")


def test_preview(tiny_library, tmp_path):
    png = preview_library(tiny_library, tmp_path / "p.png", samples=2)
    assert png == tmp_path / "p.png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _refused(lambda: preview_library(tiny_library, tmp_path / "q.png", 0), "--samples")
    _refused(lambda: preview_library(tiny_library, tiny_library), "also an input")
    assert not (tmp_path / "q.png").exists()
