"""Physics of the crack library: closed forms and invariants that a wrong model would break."""

import numpy as np
import pytest

from edge_shm.data.generators import fcg

pytestmark = pytest.mark.fast


def test_sent_geometry_factor_matches_closed_form():
    for b in (0.1, 0.3, 0.5):
        h = np.pi * b / 2
        expected = (
            np.sqrt(2 / (np.pi * b) * np.tan(h))
            * (0.752 + 2.02 * b + 0.37 * (1 - np.sin(h)) ** 3)
            / np.cos(h)
        )
        assert fcg.sent_geometry_factor(b) == pytest.approx(expected, rel=1e-12)
    # Tabulated values (Tada, Paris & Irwin): F(0.1) ~ 1.19, F(0.3) ~ 1.66, F(0.5) ~ 2.83.
    assert fcg.sent_geometry_factor(0.1) == pytest.approx(1.196, abs=0.01)
    assert fcg.sent_geometry_factor(0.3) == pytest.approx(1.66, abs=0.02)
    assert fcg.sent_geometry_factor(0.5) == pytest.approx(2.83, abs=0.03)


def test_sent_geometry_factor_rejects_out_of_range():
    with pytest.raises(ValueError):
        fcg.sent_geometry_factor(1.0)


def test_paris_growth_per_cycle_equals_c_dk_m():
    p = fcg.FCGParams()
    for dk in (5.0, 12.0, 30.0):
        da_mm = 0.3
        cycles = fcg.paris_cycles(da_mm, dk, p)
        assert da_mm * 1e-3 / cycles == pytest.approx(9.7e-12 * dk**3.0, rel=1e-12)


def test_kink_angle_eq2_agrees_with_erdogan_sih_and_sign():
    for k1, k2 in [(10.0, 1.0), (10.0, 5.0), (3.0, 8.0), (10.0, -4.0)]:
        es = 2 * np.arctan((k1 - np.sqrt(k1**2 + 8 * k2**2)) / (4 * k2))
        assert fcg.kink_angle(k1, k2) == pytest.approx(es, abs=1e-9)
    assert fcg.kink_angle(10.0, 0.0) == 0.0
    assert fcg.kink_angle(1e-9, 1.0) == pytest.approx(-np.arccos(1 / 3), abs=1e-6)  # -70.5 deg
    assert fcg.kink_angle(10.0, 2.0) < 0 < fcg.kink_angle(10.0, -2.0)


def _straight_loads(p, shear):
    return np.tile([200.0, shear], (p.n_segments, 1))


def test_pure_tension_grows_straight_along_mid_height():
    p = fcg.FCGParams()
    hist = fcg.grow_crack(_straight_loads(p, 0.0), p)
    assert np.allclose(hist.nodes_mm[:, 1], p.height_mm / 2)
    assert hist.nodes_mm[-1, 0] > p.stop_x_mm
    assert np.all(np.diff(hist.nodes_mm[:, 0]) > 0)


def test_positive_shear_kinks_towards_minus_y_and_negative_shear_up():
    p = fcg.FCGParams()
    down = fcg.grow_crack(_straight_loads(p, 100.0), p)
    up = fcg.grow_crack(_straight_loads(p, -100.0), p)
    y0 = p.height_mm / 2
    assert down.nodes_mm[2, 1] < y0 and down.nodes_mm[-1, 1] < y0 - 0.5
    assert up.nodes_mm[2, 1] > y0 and up.nodes_mm[-1, 1] > y0 + 0.5
    # Mirror symmetry of the sign convention.
    assert np.allclose(down.nodes_mm[:, 1] - y0, -(up.nodes_mm[:, 1] - y0))


def test_kinked_crack_settles_where_local_k2_vanishes():
    p = fcg.FCGParams(stop_x_mm=9.0)
    hist = fcg.grow_crack(_straight_loads(p, 60.0), p)
    d = np.diff(hist.nodes_mm[-4:], axis=0)
    phi = np.arctan2(d[:, 1], d[:, 0]).mean()
    # tau_nt = tau cos 2phi + sigma/2 sin 2phi = 0  =>  tan 2phi = -2 tau / sigma
    assert phi == pytest.approx(0.5 * np.arctan(-2 * 60.0 / 200.0), abs=np.radians(4))


def test_cycles_increase_and_k1_grows_with_crack_length():
    p = fcg.FCGParams()
    hist = fcg.grow_crack(_straight_loads(p, 0.0), p)
    assert np.all(np.diff(hist.cycles[1:]) > 0)
    assert np.all(np.diff(hist.k1[1:-1]) > 0)


def test_generated_frames_start_at_left_edge_mid_height_and_grow(crack_lib):
    frames = crack_lib.frames
    p = fcg.FCGParams()
    assert frames.shape[1:] == (8, 96, 132)
    assert set(np.unique(frames)) <= {0.0, 1.0}
    mid = p.rows // 2
    for sample in frames:
        rows = np.flatnonzero(sample[0, :, 0])
        assert rows.size and abs(rows.mean() - (mid - 0.5)) <= 1.0
        counts = sample.reshape(8, -1).sum(axis=1)
        assert np.all(np.diff(counts) >= 0)
        assert np.all(sample[1:] >= sample[:-1])  # a crack never heals


def test_frame_tips_sit_on_segment_bounds(crack_lib):
    p = fcg.FCGParams()
    tips = crack_lib.physics["frame_tip_mm"]
    assert np.allclose(tips[:, :, 0], fcg.segment_bounds(p)[None, :], atol=1e-9)
    assert np.all(np.diff(crack_lib.physics["frame_cycles"], axis=1) > 0)


def test_leaving_the_region_is_rejected_not_clipped():
    p = fcg.FCGParams(rows=50)  # a 3.75 mm tall region: most kinked cracks leave it
    rng = np.random.default_rng(0)
    hist, rejected = fcg.simulate_sample(rng, p)
    assert rejected > 0
    assert fcg.fits_roi(hist.frames_nodes[-1], p)


def test_same_seed_same_frames():
    a, _ = fcg.generate(5, seed=11)
    b, _ = fcg.generate(5, seed=11)
    c, _ = fcg.generate(5, seed=12)
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()
