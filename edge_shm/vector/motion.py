"""Crack motion from frames: the tip track a motion forecaster reads, and the frame it draws.

A forecast in the vector representation (the paper's pixel-vs-vector argument applied to time):
each frame is reduced to an :class:`Observation` of its main path (tip, length, direction near
the tip, crack width); a window of observations becomes a short row of scale-free motion
features (:func:`motion_features`); a forecaster answers with the next tip displacement, and
:func:`draw_extension` draws that growth onto the last frame as the library draws cracks.

Conventions: positions in px as (row, column) of the frame, displacements in px per frame. The
*scale* ``S`` of a window is its mean tip advance per frame (px); features and corrections are
divided by it, so one forecaster serves cracks moving 0.3 px or 40 px per frame, and a window
without growth (``S = 0``) forecasts no growth whatever the forecaster answers.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

SPEED_REF_PX = 100.0  # the speed feature is log1p(S) / log1p(SPEED_REF_PX)
STILL_PX = 0.5  # a displacement shorter than this has no direction of its own


@dataclass(frozen=True)
class Observation:
    """The main path of one frame's crack (px).

    tip : (2,) row, column of the tip; mouth : (2,) of the other end of the main path;
    length : main-path length; direction : (2,) unit vector of the path's last
    ``DIRECTION_PX`` px, mouth to tip; width : crack pixels per px of skeleton (the drawn
    width).
    """

    tip: np.ndarray
    mouth: np.ndarray
    length: float
    direction: np.ndarray
    width: float


DIRECTION_PX = 6.0


_CACHE: OrderedDict = OrderedDict()
CACHE_SIZE = 4096


def observe(frame: np.ndarray) -> Observation | None:
    """The :class:`Observation` of an (H, W) frame (crack > 0.5), None without a crack.

    The main path is the vector encoder's, as ``evaluate`` encodes frames
    (:func:`edge_shm.vector.encode_for_comparison`: skeleton gaps up to 6 px joined).
    Observations of the last :data:`CACHE_SIZE` distinct frames are kept (by content): a
    window is read by every forecaster beside the model.
    """
    frame = np.ascontiguousarray(frame, np.float32)
    key = (frame.shape, hashlib.blake2b(frame.tobytes(), digest_size=16).digest())
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    obs = _observe(frame)
    _CACHE[key] = obs
    if len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return obs


def _observe(frame: np.ndarray) -> Observation | None:
    from edge_shm.vector.encode import encode
    from edge_shm.vector.geometry import GAP_PX
    from edge_shm.vector.measures import polyline_length

    # as encode_for_comparison, without the polyline simplification: it keeps both ends
    g = encode(frame, 1.0, gap_px=GAP_PX, tolerance=0.0)
    if g.is_empty:
        return None
    nodes = g.nodes.astype(np.float64)
    tip = nodes[-1]
    # the direction over the last few px of the path (a skeleton's last step is too coarse)
    seg = np.cumsum(np.hypot(*np.diff(nodes[::-1], axis=0).T))
    k = int(np.searchsorted(seg, DIRECTION_PX)) + 1 if len(seg) else 0
    back = nodes[::-1][min(k, len(nodes) - 1)]
    d = tip - back
    n = float(np.hypot(*d))
    direction = d / n if n > 0 else np.array([0.0, 1.0])
    length = polyline_length(nodes)
    cracked = float((np.asarray(frame) > 0.5).sum())
    width = cracked / max(length + 1.0, 1.0)
    return Observation(tip, nodes[0], length, direction, width)


def _basis(obs: list[Observation]) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (u along the last motion, v to its left) of a window of observations."""
    d = obs[-1].tip - obs[-2].tip if len(obs) > 1 else np.zeros(2)
    n = float(np.hypot(*d))
    u = d / n if n >= STILL_PX else obs[-1].direction
    return u, np.array([-u[1], u[0]])


def scale_px(obs: list[Observation]) -> float:
    """Mean tip advance per frame over the window, px (0 for fewer than two frames)."""
    if len(obs) < 2:
        return 0.0
    tips = np.array([o.tip for o in obs])
    return float(np.hypot(*np.diff(tips, axis=0).T).mean())


def feature_count(n_in: int) -> int:
    """Length of the feature row of windows of ``n_in`` frames."""
    return 6 + 2 * max(n_in - 2, 0) + max(n_in - 1, 0)


def mirror_signs(n_in: int) -> np.ndarray:
    """(F,) +1 / -1: the feature row of the mirrored view is the row times these signs (the
    sine of the last motion against the axis, and the v components, change sign)."""
    signs = np.ones(feature_count(n_in), np.float32)
    signs[4] = -1.0
    signs[7 : 6 + 2 * max(n_in - 2, 0) : 2] = -1.0
    return signs


def feature_ranges(n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) of every feature, (F,) each: the span a device maps onto [0, 1]. Ranges of
    the features that :func:`mirror_signs` flips are symmetric (lo = -hi)."""
    k = float(max(n_in - 1, 1))  # a displacement is at most (n_in - 1) S long
    lo = [0.0, 0.0, -1.0, -1.0, -1.0, 0.0] + [-k] * (2 * max(n_in - 2, 0) + max(n_in - 1, 0))
    hi = [1.0, 1.0, k - 1.0, 1.0, 1.0, 2.0] + [k] * (2 * max(n_in - 2, 0) + max(n_in - 1, 0))
    return np.array(lo, np.float32), np.array(hi, np.float32)


def motion_features(obs: list[Observation | None], n_in: int) -> np.ndarray:
    """The feature row (F,) float32 of the observations seen so far in a window.

    Parameters
    ----------
    obs : the window's observations so far, oldest first (1 to ``n_in``); a window holding a
        frame without a crack gives the zero row (no motion to read).
    n_in : frames per window (fixes the row's length, :func:`feature_count`).

    Returns
    -------
    (F,) float32, every entry of order 1, independent of the view's position, rotation and
    (up to the signs of :func:`mirror_signs`) mirroring: [0] window fill (frames seen - 1) /
    (n_in - 1); [1] speed scale log1p(S) / log1p(100 px); [2] last advance / S - 1; [3, 4] the
    last motion's direction u against the crack's axis (mouth to tip): cosine and sine;
    [5] crack width / 4 px; [6, 7], [8, 9], ...: the earlier displacements, newest first, in
    the (u, v) frame of the last one, over S; then every displacement's advance along the
    axis (the growth of the projected length a), newest first, over S.
    """
    row = np.zeros(feature_count(n_in), np.float32)
    if not obs or any(o is None for o in obs) or len(obs) > n_in:
        return row
    u, v = _basis(obs)
    s = scale_px(obs)
    axis = obs[-1].tip - obs[-1].mouth
    n = float(np.hypot(*axis))
    axis = axis / n if n > 0 else u
    row[0] = (len(obs) - 1) / max(n_in - 1, 1)
    row[1] = np.log1p(s) / np.log1p(SPEED_REF_PX)
    if s > 0:
        row[2] = np.hypot(*(obs[-1].tip - obs[-2].tip)) / s - 1.0
    row[3] = np.dot(u, axis)
    row[4] = axis[0] * u[1] - axis[1] * u[0]  # the sign of v relative to the axis
    row[5] = min(obs[-1].width, 8.0) / 4.0
    k = 6
    for j in range(len(obs) - 2, 0, -1):  # earlier displacements, newest first
        if s > 0:
            d = obs[j].tip - obs[j - 1].tip
            row[k], row[k + 1] = np.dot(d, u) / s, np.dot(d, v) / s
        k += 2
    k = 6 + 2 * max(n_in - 2, 0)
    for j in range(len(obs) - 1, 0, -1):  # advances along the axis, newest first
        if s > 0:
            row[k] = np.dot(obs[j].tip - obs[j - 1].tip, axis) / s
        k += 1
    return row


def next_tip(obs: list[Observation | None], correction) -> np.ndarray | None:
    """The forecast tip (2,) px: the last tip moved by the last displacement plus
    ``correction`` (u, v components in units of the window's scale); None without growth."""
    if len(obs) < 2 or any(o is None for o in obs):
        return None
    s = scale_px(obs)
    if s <= 0:
        return None
    u, v = _basis(obs)
    last = obs[-1].tip - obs[-2].tip
    c = np.asarray(correction, np.float64)
    return obs[-1].tip + last + s * (c[0] * u + c[1] * v)


def correction_target(obs: list[Observation], true_next: Observation) -> np.ndarray:
    """The correction (2,) that makes :func:`next_tip` land on ``true_next``'s tip."""
    s = scale_px(obs)
    u, v = _basis(obs)
    e = true_next.tip - obs[-1].tip - (obs[-1].tip - obs[-2].tip)
    return np.array([np.dot(e, u) / s, np.dot(e, v) / s]) if s > 0 else np.zeros(2)


def _segment(shape, a, b, width: int) -> np.ndarray:
    from skimage.draw import line
    from skimage.morphology import dilation

    img = np.zeros(shape, bool)
    (r0, c0), (r1, c1) = np.rint(a).astype(int), np.rint(b).astype(int)
    rr, cc = line(r0, c0, r1, c1)
    ok = (rr >= 0) & (rr < shape[0]) & (cc >= 0) & (cc < shape[1])
    img[rr[ok], cc[ok]] = True
    if width > 1:
        img = dilation(img, np.ones((width, width), bool))
    return img


def draw_extension(frame: np.ndarray, tip, target, width: float = 2.0) -> np.ndarray:
    """``frame`` (H, W) with a straight crack from ``tip`` to ``target`` (px) drawn
    ``width`` px wide (a square dilation, as the crack library draws), crack 1.

    The segment is placed so that the vector encoder finds the new tip at ``target``: drawn
    once, encoded, and shifted by the whole pixels it missed by (the skeleton of a dilated
    line sits off its centre line).
    """
    frame = np.asarray(frame, np.float32)
    tip, target = np.asarray(tip, np.float64), np.asarray(target, np.float64)
    w = int(np.clip(np.rint(width), 1, 16))
    out = np.maximum(frame, _segment(frame.shape, tip, target, w).astype(np.float32))
    seen = observe(out)
    if seen is not None:
        off = np.rint(target - seen.tip)
        if np.abs(off).max() >= 1 and np.abs(off).max() <= w + 1:
            seg = _segment(frame.shape, tip + off, target + off, w)
            out = np.maximum(frame, seg.astype(np.float32))
    return out
