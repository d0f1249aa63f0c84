"""Frame timings of the crack library: the paper's slicing unchanged, a camera's equal cycle
intervals, mixed and static; the same cracks under every timing."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from edge_shm.cli import main
from edge_shm.data.generators import build, fcg
from edge_shm.data.library import read_library
from edge_shm.data.shards import merge_shards


def _advance_px(tips_mm: np.ndarray) -> np.ndarray:
    return np.hypot(*np.moveaxis(np.diff(tips_mm, axis=-2), -1, 0)) / 0.075


@pytest.mark.fast
def test_slices_default_is_the_frames_of_edge_shm_0_2_bit_for_bit():
    # sha256 of generate(4, seed=3) frames and sample 1's tips/cycles, made with edge-shm 0.2.0
    # (commit 0e3b221) before the timings existed
    frames, phys = fcg.generate(4, 3)
    assert hashlib.sha256(frames.tobytes()).hexdigest() == (
        "0666652e89b42d531c642b1bcfc828402195cdedd377b3d3797393302298a7d2"
    )
    assert phys["frame_tip_mm"][1, 3] == pytest.approx([4.428571, 8.269689], abs=1e-6)
    assert phys["frame_cycles"][1, -1] == pytest.approx(39545.348, abs=1e-3)
    assert np.all(phys["frame_timing"] == 0)


@pytest.mark.fast
def test_cycles_timing_cuts_the_same_crack_at_equal_intervals_and_speeds_up():
    p = fcg.FCGParams(timing="cycles")
    frames, phys = fcg.generate(12, 3, p)
    _, sliced = fcg.generate(12, 3)
    for a, b in zip(phys["path_nodes_mm"], sliced["path_nodes_mm"], strict=True):
        assert np.array_equal(a, b)  # the timing does not change the crack
    c = phys["frame_cycles"]
    life = sliced["frame_cycles"][:, -1]  # the tip reaches the stop line
    assert np.allclose(np.diff(c, axis=1), (p.life_fraction * life / 7)[:, None], rtol=1e-9)
    assert np.allclose(c[:, -1], p.life_fraction * life)
    adv = _advance_px(phys["frame_tip_mm"]).mean(axis=0)
    # Paris' law with m = 3: the mean advance per frame grows through the life
    assert adv[-1] > 3 * adv[0] and adv[0] < 4.0
    assert np.all(phys["frame_timing"] == 1)
    # frames never heal and the last frame is a prefix of the sliced crack's last frame
    assert np.all(np.diff(frames, axis=1) >= 0)


@pytest.mark.fast
def test_static_timing_repeats_one_instant():
    frames, phys = fcg.generate(5, 4, fcg.FCGParams(timing="static"))
    assert np.all(frames == frames[:, :1]) and frames[:, 0].any(axis=(1, 2)).all()
    assert np.all(phys["frame_cycles"] == phys["frame_cycles"][:, :1])
    assert np.all(phys["frame_timing"] == 2)


@pytest.mark.fast
def test_slices_with_other_frame_counts_advance_evenly_in_x():
    for t, px in ((15, 8 / 0.075 / 14), (5, 8 / 0.075 / 4)):  # 1 mm to 9 mm in T - 1 steps
        _, phys = fcg.generate(6, 2, fcg.FCGParams(frames=t))
        dx = np.diff(phys["frame_tip_mm"][..., 0], axis=1) / 0.075
        assert phys["frame_tip_mm"].shape[1] == t
        assert np.allclose(dx, px, rtol=1e-3)


def test_mixed_timing_spans_still_slow_and_fast_cracks_and_is_seeded():
    p = fcg.FCGParams(timing="mixed")
    frames, phys = fcg.generate(60, 11, p)
    again, _ = fcg.generate(60, 11, p)
    assert frames.tobytes() == again.tobytes()
    adv = _advance_px(phys["frame_tip_mm"])
    assert (adv < 1).mean() > 0.1 and (adv > 30).any()
    assert set(np.unique(phys["frame_timing"])) >= {0, 1}
    assert np.all(np.diff(phys["frame_cycles"], axis=1) >= 0)


@pytest.mark.fast
def test_mixed_shards_merge_to_the_single_build(tmp_path):
    whole = build("fcg", tmp_path / "whole.h5", 6, 5, timing="mixed")
    parts = [
        build("fcg", tmp_path / f"p{i}.h5", 6, 5, shard=(i, 2), timing="mixed") for i in (0, 1)
    ]
    merged = merge_shards(parts, tmp_path / "merged.h5")
    a, b = read_library(whole), read_library(merged)
    assert a.frames.tobytes() == b.frames.tobytes()
    assert np.array_equal(a.physics["frame_timing"], b.physics["frame_timing"])
    assert a.params["timing"] == "mixed"


@pytest.mark.fast
def test_cli_builds_timings_and_refuses_bad_ones(tmp_path, capsys):
    out = tmp_path / "cam.h5"
    assert main(["library", "build", "fcg", "--samples", "3", "--timing", "cycles",
                 "--frames", "10", "-o", str(out)]) == 0  # fmt: skip
    lib = read_library(out)
    assert lib.frames.shape[1] == 10 and lib.params["timing"] == "cycles"
    assert "frame_timing" in capsys.readouterr().out
    for args, word in (
        (["turing", "--timing", "cycles"], "crack"),
        (["fcg", "--frames", "1"], "--frames"),
        (["fcg", "--timing", "hourly"], "hourly"),
    ):
        rc = main(["library", "build", *args, "--samples", "2", "-o", str(tmp_path / "x.h5")])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and word in err[0], err
        assert not (tmp_path / "x.h5").exists()
