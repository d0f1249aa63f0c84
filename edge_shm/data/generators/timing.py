"""When frames are taken: cutting one simulated crack history into the frames of a sample.

A crack history (:class:`~edge_shm.data.generators.fcg.CrackHistory`) holds every growth
increment with the load cycles at which the tip reached it. A camera cuts frames out of it at
its own times; the timings of ``library build fcg --timing``:

- ``slices`` (the paper's): a frame where the tip first crosses each of ``frames`` equal x
  positions from the initial tip to the stop line. The x advance per frame is constant
  (7 slices: 8/7 mm = 15.2 px), whatever the loads do.
- ``cycles``: frames at equal load-cycle intervals from 0 to ``life_fraction`` of the life (the
  cycles at which the tip reaches the stop line), as a camera at a fixed interval under
  constant-rate loading sees it. Growth accelerates as Paris' law says: at the default 97 %,
  about 2 px per frame early and 20 px or more at the end.
- ``static``: one instant repeated: nothing grows between frames.
- ``mixed``: per sample, a timing (:data:`MIXED_CHOICES`), a mean advance per frame
  (log-uniform in :data:`MIXED_ADVANCE_PX`) that sets how much of the path the frames span,
  placed anywhere between the initial tip and the stop line, pauses (with probability
  :data:`MIXED_PAUSE_P`, 1 to T/2 intervals in which nothing grows: a rig stopped while the
  camera runs) and late starts (:func:`mixed_plan`). Cycles-timed spans accelerate within the
  sample, so advances per frame range from under 1 px to over 30 px.

Positions between increments are interpolated linearly (in x for slices, in cycles otherwise),
so every cut is a prefix of the same path: the crack of sample i does not depend on the timing.
"""

from __future__ import annotations

import numpy as np

TIMING_CODES = {"slices": 0, "cycles": 1, "static": 2}
MIXED_CHOICES = (("slices", 0.475), ("cycles", 0.475), ("static", 0.05))
MIXED_ADVANCE_PX = (0.25, 8.0, 40.0)  # half the samples below 8 px per frame, half above
MIXED_PAUSE_P = 0.15
MIXED_WAIT_P = 0.25


def cut_at_x(nodes: np.ndarray, cycles: np.ndarray, xs) -> tuple:
    """Frames where the tip first reaches each x in ``xs`` (mm).

    Returns
    -------
    tips : (T, 2) mm; frame_cycles : (T,); frame_nodes : list of (n_t, 2) mm paths.
    """
    tips, frame_cycles, frame_nodes = [], [], []
    for xb in xs:
        i = int(np.argmax(nodes[:, 0] >= xb - 1e-12))
        if i == 0:
            i = 1
        x0, x1 = nodes[i - 1, 0], nodes[i, 0]
        w = 1.0 if x1 == x0 else (xb - x0) / (x1 - x0)
        tip = nodes[i - 1] + w * (nodes[i] - nodes[i - 1])
        tips.append(tip)
        frame_cycles.append(cycles[i - 1] + w * (cycles[i] - cycles[i - 1]))
        frame_nodes.append(np.vstack([nodes[:i], tip]))
    return np.array(tips), np.array(frame_cycles), frame_nodes


def cut_at_cycles(nodes: np.ndarray, cycles: np.ndarray, at) -> tuple:
    """Frames at the load cycles ``at`` (non-decreasing); returns as :func:`cut_at_x`."""
    tips, frame_nodes = [], []
    for c in at:
        i = int(np.searchsorted(cycles, c, side="right"))  # nodes[:i] reached by cycle c
        i = min(max(i, 2), len(nodes) - 1)
        c0, c1 = cycles[i - 1], cycles[i]
        w = 0.0 if c1 == c0 else float(np.clip((c - c0) / (c1 - c0), 0.0, 1.0))
        tip = nodes[i - 1] + w * (nodes[i] - nodes[i - 1])
        tips.append(tip)
        frame_nodes.append(np.vstack([nodes[:i], tip]))
    return np.array(tips), np.asarray(at, np.float64), frame_nodes


def _steps(rng: np.random.Generator, n: int, pause: bool) -> np.ndarray:
    """``n`` equal positive increments summing to 1, some set to 0 (pauses) when ``pause``."""
    inc = np.ones(n)
    if pause and n > 1:
        k = int(rng.integers(1, max(n // 2, 1) + 1))
        inc[rng.choice(n, size=k, replace=False)] = 0.0
    return inc / inc.sum()


def mixed_plan(rng: np.random.Generator, p) -> tuple[str, float, float, np.ndarray]:
    """One sample's draw of the mixed timing: (timing, x_start, x_end, increments).

    The frames span the part of the path from ``x_start`` to ``x_end`` (mm): a mean advance
    per frame drawn log-uniformly in :data:`MIXED_ADVANCE_PX` times the intervals, placed
    anywhere between the initial tip and the stop line (shortened to fit). ``increments`` (T - 1
    of them, summing to 1) are equal steps of x (slices) or of cycles (cycles); some are 0
    with pauses, and with probability :data:`MIXED_WAIT_P` the crack moves only in the last
    3 to T - 1 frames (the camera ran before the test started, or a crack started late).
    """
    names, weights = zip(*MIXED_CHOICES, strict=True)
    timing = names[int(rng.choice(len(names), p=np.array(weights) / sum(weights)))]
    t = p.n_frames
    moving = int(rng.integers(3, t)) if t > 3 and rng.random() < MIXED_WAIT_P else t
    lo, mid, hi = np.log(MIXED_ADVANCE_PX)
    fast = rng.random() < 0.5
    advance_mm = float(np.exp(rng.uniform(mid, hi) if fast else rng.uniform(lo, mid))) * p.pixel_mm
    room = p.stop_x_mm - p.initial_crack_mm
    if advance_mm * (moving - 1) > room:  # fast: fewer moving frames, not a slower crack
        moving = max(min(int(room / advance_mm) + 1, moving), min(3, t))
    span = min(advance_mm * (moving - 1), room)
    x_start = p.initial_crack_mm + float(rng.uniform(0.0, room - span))
    inc = np.zeros(t - 1)
    inc[t - moving :] = _steps(rng, moving - 1, bool(rng.random() < MIXED_PAUSE_P))
    return timing, x_start, x_start + span, inc


def cut(hist, p, rng: np.random.Generator) -> int:
    """Cut ``hist`` into ``p.n_frames`` frames by ``p.timing``; sets its ``frames_*`` fields
    and returns the timing code (:data:`TIMING_CODES`). ``hist`` arrives cut at the load
    segments (the paper's frames); ``rng`` is drawn from only for ``mixed`` and ``static``."""
    nodes, cyc, t = hist.nodes_mm, hist.cycles, p.n_frames
    life = float(hist.frames_cycles[-1])  # cycles at which the tip reaches the stop line
    x0, x1 = p.initial_crack_mm, p.stop_x_mm
    timing = p.timing
    if timing == "slices" and t == p.n_segments + 1:
        return TIMING_CODES["slices"]  # already cut there: the paper's frames, unchanged
    if timing == "slices":
        result = cut_at_x(nodes, cyc, np.linspace(x0, x1, t))
    elif timing == "cycles":
        result = cut_at_cycles(nodes, cyc, np.linspace(0.0, p.life_fraction * life, t))
    elif timing == "static":
        at = rng.uniform(0.0, p.life_fraction * life)
        result = cut_at_cycles(nodes, cyc, np.full(t, at))
    else:
        timing, xa, xb, inc = mixed_plan(rng, p)
        where = np.concatenate([[0.0], np.cumsum(inc)])
        if timing == "slices":
            result = cut_at_x(nodes, cyc, xa + (xb - xa) * where)
        else:
            ca, cb = cut_at_x(nodes, cyc, [xa, xb])[1]
            moving = where if timing == "cycles" else np.zeros_like(where)
            result = cut_at_cycles(nodes, cyc, ca + (cb - ca) * moving)
    hist.frames_tip_mm, hist.frames_cycles, hist.frames_nodes = result
    return TIMING_CODES[timing]
