"""Frame codecs: how camera frames become a network's input rows and its readout a frame.

A pixel network steps camera frames directly. A *motion* network (``motion-snn``) steps a row
of motion features instead (:mod:`edge_shm.vector.motion`): its deployment graph's "frame" is
that row laid out as a small square tile (S, S) of values in [0, 1] (row-major, zero-padded;
square because NIR 1.0.8 types a convolution by its kernel's first side only), and its readout
tile holds, per ensemble member, the tip correction (u, v). The codec is the fixed, documented
arithmetic around the graph, recorded beside every artefact (the graph's ``codec``: ONNX
metadata, NIR metadata, the bundle manifest, calibration.json) and applied by every backend
alike, as the output operations are:

- **rows** (:meth:`MotionCodec.rows`): row t of a sequence reads the last ``n_in`` frames up to
  t (fewer at the start: the window fill says how many) and the load cycles of those frames and
  of the frame forecast, when known. Each feature is mapped from its range
  (:func:`~edge_shm.vector.motion.feature_ranges`) onto [0, 1]; then 3 clock entries
  (:func:`clock_features`); zeros pad the row.
- **forecast** (:meth:`MotionCodec.forecast`): readout entries ``2 j`` and ``2 j + 1`` (the
  tile row-major) are member
  j's correction, ``c = 4 (r - 0.5)`` (units of the window's mean advance S, so [-2, 2]); the
  members' mean moves the tip (:func:`~edge_shm.vector.motion.next_tip`), their spread is the
  forecast's own uncertainty; the growth is drawn onto the last frame
  (:func:`~edge_shm.vector.motion.draw_extension`). Without growth in the window: the last
  frame.

Torch-free (numpy and scikit-image): it runs on the host around any backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_shm.errors import UserError
from edge_shm.vector import motion

CLOCK = 2
CORRECTION_RANGE = 2.0  # |c| <= 2 S: a readout in [0, 1] maps to [-2, 2]
FORMAT_VERSION = 1


def tile_side(n_in: int, members: int) -> int:
    """Side S of the square tile that holds the row (motion features and clock) and the
    readout (2 entries per member)."""
    return int(np.ceil(np.sqrt(max(motion.feature_count(n_in) + CLOCK, 2 * members))))


def clock_features(cycles) -> np.ndarray:
    """The clock entries from the cycles of the window's frames and the next one: known (0
    or 1), and the spread of the intervals, ``sqrt(std / mean)`` clipped to [0, 1]: 0 for a
    camera at a fixed interval, where Paris' law makes the crack speed up between frames;
    more for frames cut at equal crack increments (the paper's path slicing), where the crack
    advances alike between frames whatever the cycles. How long the next interval is, is not
    given: in sliced frames it would say the opposite of what it says for a camera."""
    out = np.zeros(CLOCK, np.float32)
    if cycles is None:
        return out
    c = np.asarray(cycles, np.float64)
    if len(c) < 3 or not np.all(np.isfinite(c)):
        return out
    d = np.diff(c)
    if np.any(d < 0) or float(np.mean(d)) <= 0:
        return out
    out[0] = 1.0
    out[1] = np.clip(np.sqrt(np.std(d) / np.mean(d)), 0.0, 1.0)
    return out


@dataclass(frozen=True)
class MotionCodec:
    """Frames <-> rows of the motion forecaster (see the module text).

    n_in : frames per forecast window; members : ensemble members in the readout.
    """

    n_in: int
    members: int
    kind: str = "motion"

    @property
    def side(self) -> int:
        return tile_side(self.n_in, self.members)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "format_version": FORMAT_VERSION,
            "n_in": self.n_in,
            "members": self.members,
            "tile_side": self.side,
        }

    # --- frames -> rows -----------------------------------------------------------------
    def row(self, obs: list, cycles=None) -> np.ndarray:
        """The row (S * S,) of the observations seen so far (at most ``n_in``) and their
        cycles plus the next frame's (``len(obs) + 1`` values, or None)."""
        lo, hi = motion.feature_ranges(self.n_in)
        raw = motion.motion_features(obs, self.n_in)
        out = np.zeros(self.side**2, np.float32)
        f = len(raw)
        out[:f] = np.clip((raw - lo) / (hi - lo), 0.0, 1.0)
        if not raw.any():
            out[:f] = 0.0  # no motion to read: the zero row
        out[f : f + CLOCK] = clock_features(cycles)
        return out

    def rows(self, frames: np.ndarray, cycles=None) -> np.ndarray:
        """Tiles (T, S, S) of a sequence (T, H, W): tile t from its last ``n_in`` frames.

        ``cycles``: (T,) or (T + 1,) load cycles of the frames (and of the frame after the
        last); the interval after the last frame is taken equal to the one before it when
        not given (a camera's fixed interval).
        """
        return self.rows_of([motion.observe(f) for f in np.asarray(frames)], cycles)

    def rows_of(self, obs: list, cycles=None) -> np.ndarray:
        """:meth:`rows` from the frames' observations."""
        c = _with_next(cycles, len(obs))
        out = np.zeros((len(obs), self.side**2), np.float32)
        for t in range(len(obs)):
            a = max(0, t - self.n_in + 1)
            out[t] = self.row(obs[a : t + 1], None if c is None else c[a : t + 2])
        return out.reshape(len(obs), self.side, self.side)

    # --- readout -> frame ----------------------------------------------------------------
    def corrections(self, readout) -> np.ndarray:
        """(members, 2) corrections of one readout row (clipped to the codec's range)."""
        r = np.clip(np.asarray(readout, np.float64).reshape(-1)[: 2 * self.members], 0.0, 1.0)
        return (r.reshape(self.members, 2) - 0.5) * 2.0 * CORRECTION_RANGE

    def forecast(self, window: np.ndarray, readout, obs: list | None = None) -> Forecast:
        """The next frame after ``window`` (the last frames, (n, H, W)), from the readout tile
        of its last step; ``obs``: the window's observations when already known."""
        window = np.asarray(window, np.float32)
        obs = obs if obs is not None else [motion.observe(f) for f in window[-self.n_in :]]
        c = self.corrections(readout)
        tip = motion.next_tip(obs, c.mean(axis=0))
        if tip is None:
            return Forecast(window[-1].copy(), None, 0.0, 0.0)
        spread = motion.scale_px(obs) * float(np.sqrt(np.mean(np.sum((c - c.mean(0)) ** 2, 1))))
        frame = motion.draw_extension(window[-1], obs[-1].tip, tip, obs[-1].width)
        return Forecast(frame, tip, spread, motion.scale_px(obs))


@dataclass
class Forecast:
    """One decoded forecast: the frame (H, W); the forecast tip (row, column, px) or None
    when no growth is forecast; the members' spread and the window's mean advance, px."""

    frame: np.ndarray
    tip: np.ndarray | None
    spread_px: float
    scale_px: float


def _with_next(cycles, t: int):
    """Cycles of T frames plus the frame after them (extrapolated at the last interval)."""
    if cycles is None:
        return None
    c = np.asarray(cycles, np.float64).reshape(-1)
    if len(c) == t:
        step = c[-1] - c[-2] if t >= 2 else np.nan
        c = np.append(c, c[-1] + step)
    if len(c) != t + 1:
        raise UserError(f"cycles: {len(c)} values for {t} frames (need {t} or {t + 1})")
    return c


def codec_from_dict(d) -> MotionCodec | None:
    """The codec recorded beside an artefact (None for pixel networks); a one-line error
    for an unknown or malformed one."""
    if d is None:
        return None
    if not isinstance(d, dict) or d.get("kind") != "motion":
        raise UserError(f"unknown frame codec {d!r}")
    if d.get("format_version") != FORMAT_VERSION:
        raise UserError(f"frame codec format {d.get('format_version')!r} is not supported")
    n_in, members = d.get("n_in"), d.get("members")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (n_in, members)):
        raise UserError(f"frame codec: n_in and members must be integers, got {d!r}")
    if not (2 <= n_in <= 16 and 1 <= members <= 64):
        raise UserError(f"frame codec: n_in {n_in} or members {members} out of range")
    codec = MotionCodec(n_in, members)
    if d.get("tile_side") != codec.side:
        raise UserError(f"frame codec: tile side {d.get('tile_side')!r}, expected {codec.side}")
    return codec


class CodecStepper:
    """A Stepper over camera frames around a Stepper over codec rows (any backend).

    The state carries the inner state and, per sequence, the last ``n_in`` observations and
    frames; ``step(frame, state, cycles=None, next_cycles=None)`` takes frames (B, 1, H, W) of
    any size (and their load cycles and the next frames', (B,) each, NaN where unknown) and
    gives the forecast frames (B, 1, H, W). ``last`` holds the decoded :class:`Forecast`
    of each sequence after a step.
    """

    frame_shape = None  # any frame size

    def __init__(self, inner, codec: MotionCodec):
        self.inner, self.codec = inner, codec
        self.last: list[Forecast] = []

    def initial_state(self, batch: int = 1):
        return self.inner.initial_state(batch), [[] for _ in range(batch)]

    def step(self, frame: np.ndarray, state, cycles=None, next_cycles=None):
        inner, seen = state
        frame = np.asarray(frame, np.float32)
        seen = [
            (s + [(motion.observe(f[0]), f[0], _cycle(cycles, b))])[-self.codec.n_in :]
            for b, (s, f) in enumerate(zip(seen, frame, strict=True))
        ]
        side = self.codec.side
        rows = [self._row(s, _cycle(next_cycles, b)) for b, s in enumerate(seen)]
        rows = np.stack(rows).reshape(len(seen), 1, side, side)
        readout, inner = self.inner.step(rows.astype(np.float32), inner)
        readout = np.asarray(readout, np.float32).reshape(len(seen), -1)
        self.last = [
            self.codec.forecast(np.stack([x[1] for x in s]), r, [x[0] for x in s])
            for s, r in zip(seen, readout, strict=True)
        ]
        out = np.stack([f.frame for f in self.last])[:, None]
        return out, (inner, seen)

    def _row(self, seen, next_cycles=None) -> np.ndarray:
        """The tile of a sequence's window; the next frame's cycles extrapolated at the last
        interval unless given."""
        c = [x[2] for x in seen]
        cycles = None
        if not any(v is None for v in c):
            cycles = _with_next(c if next_cycles is None else [*c, next_cycles], len(c))
        return self.codec.row([x[0] for x in seen], cycles)


def _cycle(cycles, b: int):
    if cycles is None:
        return None
    v = np.asarray(cycles, np.float64).reshape(-1)
    return float(v[b]) if np.isfinite(v[b]) else None


def graph_inputs(codec: MotionCodec | None, frames: np.ndarray, cycles=None) -> np.ndarray:
    """What a graph steps for camera sequences (N, T, H, W): the frames themselves without a
    codec, else the codec's tiles (N, T, S, S) (``cycles``: (N, T) or None)."""
    frames = np.asarray(frames, np.float32)
    if codec is None:
        return frames
    return np.stack(
        [codec.rows(seq, None if cycles is None else cycles[i]) for i, seq in enumerate(frames)]
    )


def decode_stream(codec: MotionCodec, frames: np.ndarray, readouts: np.ndarray) -> np.ndarray:
    """Forecast frames (N, T, H, W) of a stream: step t's readout (N, T, S, S) decoded with
    the frames up to t (the last ``n_in`` of them)."""
    frames = np.asarray(frames, np.float32)
    out = np.empty_like(frames)
    for i, seq in enumerate(frames):
        for t in range(seq.shape[0]):
            window = seq[max(0, t - codec.n_in + 1) : t + 1]
            out[i, t] = codec.forecast(window, np.asarray(readouts[i, t]).reshape(-1)).frame
    return out
