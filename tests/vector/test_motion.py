"""The crack's motion read from frames: observations, scale-free features, the drawn growth."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.draw import line
from skimage.morphology import dilation

from edge_shm.vector import motion as M

pytestmark = pytest.mark.fast


def _polyline_frame(points, shape=(96, 132), width=2):
    img = np.zeros(shape, bool)
    for (r0, c0), (r1, c1) in zip(points[:-1], points[1:], strict=True):
        rr, cc = line(r0, c0, r1, c1)
        img[rr, cc] = True
    return dilation(img, np.ones((width, width), bool)).astype(np.float32)


def _track(tips, shape=(96, 132)):
    return [M.observe(_polyline_frame([(shape[0] // 2, 0), *t], shape)) for t in tips]


@pytest.mark.parametrize("target", [(48, 70), (40, 66), (60, 75), (30, 64), (70, 90)])
def test_drawn_growth_lands_where_asked(target):
    frame = _polyline_frame([(48, 0), (48, 40)])
    tip = M.observe(frame).tip
    out = M.draw_extension(frame, tip, np.array(target, float), width=2)
    got = M.observe(out).tip
    assert np.hypot(*(got - target)) <= 1.5  # whole pixels: within one diagonal step
    assert np.all(out >= frame)  # a crack never heals


def test_observation_of_a_straight_crack():
    o = M.observe(_polyline_frame([(48, 0), (48, 50)]))
    assert 47.0 <= o.tip[0] <= 49.0 and 49.0 <= o.tip[1] <= 51.0  # a 2 px line's skeleton
    assert o.mouth[1] == 0.0 and o.direction == pytest.approx([0.0, 1.0], abs=1e-9)
    assert o.width == pytest.approx(2.0, abs=0.1)
    assert M.observe(np.zeros((96, 132), np.float32)) is None


def test_features_are_scale_free_and_mirror_by_their_signs():
    tips = [[(48, 20)], [(44, 50)], [(36, 86)]]
    obs = _track(tips)
    f = M.motion_features(obs, 3)
    # the same motion, twice as fast on a frame twice as large: only the speed entry changes
    # (beyond whole-pixel rounding of the tips)
    big = _track([[(96, 40)], [(88, 100)], [(72, 172)]], (192, 264))
    fb = M.motion_features(big, 3)
    keep = np.arange(len(f)) != 1
    assert np.allclose(f[keep], fb[keep], atol=0.08) and fb[1] > f[1]
    # mirrored up-down: the flipped entries change sign, the others stay
    mirrored = [M.observe(_polyline_frame([(47, 0), (95 - t[0][0], t[0][1])])) for t in tips]
    fm = M.motion_features(mirrored, 3)
    assert np.allclose(fm, f * M.mirror_signs(3), atol=0.08)
    lo, hi = M.feature_ranges(3)
    assert len(lo) == len(f) == M.feature_count(3) and np.all(lo < hi)


def test_a_still_crack_is_forecast_not_to_move():
    obs = _track([[(48, 40)]] * 3)
    assert M.scale_px(obs) == 0.0
    assert M.next_tip(obs, [1.5, -1.0]) is None


def test_correction_target_and_next_tip_are_inverse():
    obs = _track([[(48, 30)], [(47, 38)], [(44, 47)]])
    nxt = _track([[(40, 57)]])[0]
    c = M.correction_target(obs, nxt)
    assert M.next_tip(obs, c) == pytest.approx(nxt.tip, abs=1e-9)
    assert M.next_tip(obs, [0.0, 0.0]) == pytest.approx(2 * obs[-1].tip - obs[-2].tip)
