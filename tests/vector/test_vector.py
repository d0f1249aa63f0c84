"""Vector-graphics crack encoder: skeleton to polyline nodes, and back (edge_shm.vector)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.draw import line
from skimage.metrics import hausdorff_distance
from skimage.morphology import dilation

from edge_shm import vector as V
from edge_shm.data.generators import build_fcg
from edge_shm.data.library import read_library
from edge_shm.errors import UserError

SHAPE = (96, 132)


def draw(points, shape=SHAPE, width: int = 1) -> np.ndarray:
    """Polyline (row, col) drawn as 8-connected lines, widened by a width x width square."""
    img = np.zeros(shape, dtype=bool)
    pts = np.rint(np.asarray(points)).astype(int)
    for (r0, c0), (r1, c1) in zip(pts[:-1], pts[1:], strict=True):
        rr, cc = line(r0, c0, r1, c1)
        img[rr, cc] = True
    if width > 1:
        img = dilation(img, np.ones((width, width), dtype=bool))
    return img.astype(np.float32)


def skeleton_to_polyline_px(frame: np.ndarray, g: V.CrackGeometry) -> float:
    """Symmetric Hausdorff distance between the skeleton and the polylines (dense samples), px."""
    return V.skeleton_hausdorff_px(V.crack_skeleton(frame), g)


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return read_library(build_fcg(tmp_path_factory.mktemp("lib") / "l.h5", 20, 0))


# --- shapes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [1, 2])
@pytest.mark.fast
def test_straight_crack_two_nodes_and_length(width):
    frame = draw([(40, 0), (40, 80)], width=width)
    g = V.encode(frame, pixel_mm=0.075)
    assert g.n_nodes == 2 and not g.branches
    assert abs(V.main_length_mm(g) - 80 * 0.075) <= 0.5 * 0.075
    assert g.nodes[0, 1] < g.nodes[-1, 1]  # mouth at the left edge


@pytest.mark.fast
def test_diagonal_straight_crack_two_nodes():
    g = V.encode(draw([(10, 5), (80, 100)]))
    assert g.n_nodes == 2
    assert abs(V.main_length_mm(g) - np.hypot(70, 95)) <= 0.5


@pytest.mark.fast
def test_mouth_is_the_end_nearest_column_0():
    g = V.encode(draw([(70, 110), (30, 3)]))  # drawn tip-first
    np.testing.assert_array_equal(g.nodes[0], [30, 3])
    np.testing.assert_array_equal(g.nodes[-1], [70, 110])
    np.testing.assert_allclose(V.tip_mm(g), g.to_mm(np.array([[70, 110]]))[0])


@pytest.mark.parametrize("width", [1, 2])
@pytest.mark.fast
def test_l_shaped_crack_within_one_pixel(width):
    frame = draw([(20, 10), (60, 10), (60, 90)], width=width)
    g = V.encode(frame)
    assert skeleton_to_polyline_px(frame, g) <= 1.0
    assert len(g.nodes) in (3, 4)  # skeletonize may chamfer the corner pixel
    kinks = V.kink_angles_deg(g.to_mm(g.nodes))
    assert abs(np.abs(kinks).sum() - 90.0) <= 3.0
    # the same check with scikit-image's Hausdorff distance on rasters
    assert hausdorff_distance(V.crack_skeleton(frame) > 0, V.decode(g) > 0) <= 1.0


@pytest.mark.parametrize("width", [1, 2])
@pytest.mark.fast
def test_arc_crack_within_one_pixel(width):
    s = np.linspace(0.0, 0.8, 200)  # radius 100 px, from the left edge, curving down
    pts = np.stack([148 - 100 * np.cos(s), 100 * np.sin(s)], axis=1)
    frame = draw(pts, width=width)
    g = V.encode(frame)
    assert skeleton_to_polyline_px(frame, g) <= 1.0
    assert 4 <= len(g.nodes) <= 40
    assert not g.branches


@pytest.mark.fast
def test_kink_angle_sign_counter_clockwise_positive():
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 1.0]])  # x, y: turn left
    np.testing.assert_allclose(V.kink_angles_deg(pts), [45.0])
    np.testing.assert_allclose(V.kink_angles_deg(pts * [1, -1]), [-45.0])


@pytest.mark.fast
def test_branch_kept_as_extra_polyline():
    frame = draw([(30, 0), (30, 40), (10, 70)])
    frame = np.maximum(frame, draw([(30, 40), (50, 70)]))
    g = V.encode(frame)
    assert len(g.branches) == 1
    np.testing.assert_array_equal(g.branches[0][0], [30, 40])  # starts at the junction
    assert V.total_length_mm(g) > V.main_length_mm(g) + 30
    assert g.n_nodes == len(g.nodes) + len(g.branches[0])


@pytest.mark.fast
def test_disconnected_components_largest_is_main():
    frame = np.maximum(draw([(30, 0), (30, 90)]), draw([(70, 20), (70, 50)]))
    g = V.encode(frame)
    np.testing.assert_array_equal(g.nodes, [[30, 0], [30, 90]])
    assert len(g.branches) == 1
    np.testing.assert_array_equal(g.branches[0], [[70, 20], [70, 50]])


@pytest.mark.parametrize("spur_px, kept", [(2, False), (3, True)])
@pytest.mark.fast
def test_spurs_shorter_than_min_branch_pruned_and_counted(spur_px, kept):
    frame = draw([(30, 0), (30, 60)], width=1)
    frame[30 - spur_px : 30, 30] = 1
    g = V.encode(frame)  # min_branch_px = 3
    assert len(g.nodes) == 2
    assert (len(g.branches), g.pruned_branches) == ((1, 0) if kept else (0, 1))


# --- library frames, empty frames, decoding ---------------------------------------------------


def test_library_frames_decode_encode_mae(lib):
    frames = lib.frames.reshape(-1, *lib.frame_shape)
    maes = []
    for frame in frames:
        g = V.encode(frame, lib.pixel_mm)
        maes.append(np.abs(V.decode(g, lib.frame_shape) - V.crack_skeleton(frame)).mean())
        assert len(g.nodes) >= 2
    assert max(maes) <= 0.005


@pytest.mark.fast
def test_library_tip_and_length_match_physics(lib):
    p = lib.pixel_mm
    for i in range(lib.frames.shape[0]):
        g = V.encode(lib.frames[i, -1], p)
        tip_true = lib.physics["frame_tip_mm"][i, -1]
        x, _ = V.tip_mm(g)
        assert abs(x - tip_true[0]) <= 2 * p
        assert V.main_length_mm(g) >= tip_true[0] - 2 * p


@pytest.mark.fast
def test_decode_thickness_two_redraws_library_frame(lib):
    frame = lib.frames[3, -1]
    g = V.encode(frame, lib.pixel_mm)
    assert np.abs(V.decode(g, thickness=2) - frame).mean() <= 0.02


@pytest.mark.fast
def test_empty_frame_gives_empty_geometry():
    g = V.encode(np.zeros(SHAPE, np.float32), 0.075)
    assert g.is_empty and g.n_nodes == 0 and g.branches == []
    assert V.main_length_mm(g) == 0.0 and V.total_length_mm(g) == 0.0
    assert np.all(np.isnan(V.tip_mm(g)))
    m = V.measures(g)
    assert m["vector_bytes_B"] == 24 and m["kink_angles_deg"] == []
    assert not V.decode(g, SHAPE).any()
    back = V.CrackGeometry.from_dict(json.loads(json.dumps(g.to_dict())))
    assert back.is_empty and back.shape == SHAPE


@pytest.mark.fast
def test_speckle_removed():
    rng = np.random.default_rng(0)
    frame = np.zeros(SHAPE, np.float32)
    frame[rng.integers(0, 96, 40), rng.integers(0, 132, 40)] = 1.0
    assert V.encode(frame).is_empty
    frame = np.maximum(frame, draw([(50, 0), (50, 100)], width=2))
    g = V.encode(frame)
    assert len(g.nodes) == 2 and not g.branches


@pytest.mark.fast
def test_bad_frames_raise_user_error():
    with pytest.raises(UserError, match="2 dimensions"):
        V.encode(np.zeros(10))
    bad = np.zeros(SHAPE)
    bad[0, 0] = np.nan
    with pytest.raises(UserError, match="NaN"):
        V.encode(bad)
    with pytest.raises(UserError, match="not a crack geometry"):
        V.CrackGeometry.from_dict({"nodes_px": [[1, 2]]})


# --- serialisation and memory --------------------------------------------------------------------


@pytest.mark.fast
def test_json_round_trip(lib):
    frame = np.maximum(lib.frames[0, -1], draw([(10, 60), (10, 100)]))
    g = V.encode(frame, lib.pixel_mm)
    assert g.branches
    back = V.CrackGeometry.from_dict(json.loads(json.dumps(g.to_dict())))
    np.testing.assert_array_equal(back.nodes, g.nodes)
    assert back.nodes.dtype == np.float32 and back.transform.dtype == np.float32
    assert len(back.branches) == len(g.branches)
    for a, b in zip(back.branches, g.branches, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.transform, g.transform)
    assert back.shape == g.shape and back.pruned_branches == g.pruned_branches
    assert V.measures(back) == V.measures(g)


@pytest.mark.fast
def test_byte_formulas():
    assert V.pixel_bytes((96, 132)) == 4 * 96 * 132 == 50_688
    assert V.pixel_bytes((96, 132), np.uint8) == 12_672
    assert [V.vector_bytes(n) for n in (0, 2, 40)] == [24, 40, 344]
    g = V.encode(draw([(20, 0), (20, 90)]))
    m = V.measures(g)
    assert m["nodes_count"] == 2 and m["vector_bytes_B"] == 8 * 2 + 24
    assert m["pixel_bytes_B"] == 50_688
    assert m["compression_ratio_x"] == pytest.approx(50_688 / 40)


@pytest.mark.fast
def test_transform_maps_pixel_centres_to_mm():
    a = V.pixel_transform(SHAPE, 0.1)
    g = V.CrackGeometry(np.zeros((0, 2), np.float32), transform=a, shape=SHAPE)
    np.testing.assert_allclose(
        g.to_mm(np.array([[95, 0], [0, 131]])), [[0.05, 0.05], [13.15, 9.55]], atol=1e-6
    )


# --- predictions ---------------------------------------------------------------------------------


@pytest.mark.fast
def test_compare_geometry_identical_and_shorter(lib):
    p = lib.pixel_mm
    true = lib.frames[2, -1]
    r = V.compare_geometry(true, true, p)
    assert r["length_error_mm"] == 0 and r["tip_error_mm"] == 0
    r = V.compare_geometry(lib.frames[2, -2], true, p)
    assert r["length_bias_mm"] < -0.5 and r["tip_error_mm"] > 0.5
    assert r["length_error_mm"] == pytest.approx(-r["length_bias_mm"])


@pytest.mark.fast
def test_compare_geometry_grey_gappy_speckled_prediction(lib):
    p = lib.pixel_mm
    true = lib.frames[5, -1]
    rng = np.random.default_rng(1)
    pred = 0.7 * true + 0.2 * rng.random(true.shape, dtype=np.float32)
    pred[:, 60:62] = 0.0  # a 2-column gap
    pred[rng.integers(0, 96, 30), rng.integers(0, 132, 30)] = 1.0  # speckle
    r = V.compare_geometry(pred, true, p)
    assert r["length_error_mm"] <= 3 * p
    assert r["tip_error_mm"] <= 2 * p
    assert r["hausdorff_mm"] <= 2 * p


@pytest.mark.fast
def test_compare_geometry_empty_prediction_is_nan(lib):
    true = lib.frames[0, -1]
    r = V.compare_geometry(np.zeros_like(true), true, lib.pixel_mm)
    assert all(np.isnan(r[k]) for k in ("length_error_mm", "length_bias_mm", "tip_error_mm"))
    assert r["pred_length_mm"] == 0.0 and r["true_length_mm"] > 5


# --- property ----------------------------------------------------------------------------------


@st.composite
def polylines(draw_):
    """Crack-like polylines from near the left edge: segments 12-40 px, turns up to 60 deg."""
    r0 = draw_(st.floats(20, 76))
    c0 = draw_(st.floats(0, 10))
    angle = draw_(st.floats(-45, 45))
    pts = [(r0, c0)]
    for k in range(draw_(st.integers(1, 4))):
        length = draw_(st.floats(12, 40))
        if k:
            angle = float(np.clip(angle + draw_(st.floats(-60, 60)), -75, 75))
        r, c = pts[-1]
        a = np.radians(angle)
        pts.append((r - length * np.sin(a), c + length * np.cos(a)))
    pts = np.rint(np.array(pts))
    pts[:, 0] = np.clip(pts[:, 0], 3, 92)
    pts[:, 1] = np.clip(pts[:, 1], 0, 128)
    return pts


@settings(max_examples=100, deadline=None, derandomize=True)
@given(pts=polylines(), width=st.sampled_from([1, 2]))
def test_random_polylines_recovered(pts, width):
    if V.polyline_length(pts) < 12:  # clipping can collapse a path onto the border
        return
    g = V.encode(draw(pts, width=width))
    truth = V.sample_polylines([pts])
    assert V.hausdorff(truth, V.sample_polylines(g.polylines)) <= 2.5
    length = V.polyline_length(pts)
    assert abs(V.main_length_mm(g) - length) <= 2.0 + 0.07 * length
