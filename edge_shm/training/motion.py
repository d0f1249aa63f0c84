"""Training data and loss of the motion SNN: codec rows of every window, and the tip error.

Every window of ``n_in`` frames of a sample (and the frame after it) gives one example: the
codec rows of the window's steps (:meth:`~edge_shm.firmware_sim.codec.MotionCodec.rows`, the
load cycles included where the library has them), and the target: the correction that moves
the constant-velocity tip onto the next frame's tip, with the window's mean advance S (px).
Windows with a frame without a crack, or without growth (S = 0: the forecast is the last
frame whatever the network says), teach nothing and are left out.

The loss is each member's tip error in px, divided by ``S + 1 px`` (so a crack moving 40 px per
frame does not drown one moving 1 px), through ``log(1 + e)`` (a few windows that end in the
final fracture, 10 times faster than the window, would drown the rest), averaged over members
and windows. Augmentation, drawn
from the epoch's seeded generator for the whole global batch: the view mirrored (the crack may
turn either way; mirrored features are ``1 - x``, the v correction changes sign) with
probability :data:`MIRROR_P`, the cycles hidden (the clock entries zeroed) with probability
:data:`DROP_CLOCK_P`, so the network also works where no cycle counter is known.

The last :data:`VALIDATION_SHARE` of the train split's samples are held out: they calibrate the
forecast's uncertainty band (:mod:`edge_shm.evaluation.band_fit`) and are never trained on.
"""

from __future__ import annotations

import numpy as np
import torch

from edge_shm.data.lazy import iter_samples
from edge_shm.data.splits import library_cycles, train_and_validation
from edge_shm.errors import UserError
from edge_shm.firmware_sim.codec import CLOCK
from edge_shm.vector import motion

MIRROR_P = 0.5
DROP_CLOCK_P = 0.3


class MotionDataset(torch.utils.data.Dataset):
    """Examples of the motion SNN from one part of a library (see the module text).

    Item ``i`` is ``(tiles, target)``: the codec's tiles (n_in, 1, S, S) float32, target (3,)
    = the correction (u, v) and S (px). ``samples``: library indices (default: the train split's
    trained-on samples); ``progress(k)`` is called per sample read.
    """

    def __init__(self, lib, codec, samples=None, progress=None):
        self.codec, self.n_in, self.n_out = codec, codec.n_in, 1
        self.samples = train_and_validation(lib)[0] if samples is None else np.asarray(samples)
        if len(self.samples) == 0:
            raise UserError(f"{lib.path}: no samples to train the motion network on")
        if lib.frames.shape[1] < self.n_in + 1:
            raise UserError(
                f"samples of {lib.frames.shape[1]} frames are too short for windows of "
                f"{self.n_in} frames and the next one"
            )
        cycles = library_cycles(lib)
        rows, targets = [], []
        for i, frames in zip(self.samples, iter_samples(lib.frames, self.samples), strict=True):
            obs = [motion.observe(f) for f in frames]
            c = None if cycles is None else cycles[i]
            for t in range(len(obs) - self.n_in):
                window, nxt = obs[t : t + self.n_in], obs[t + self.n_in]
                s = 0.0 if any(o is None for o in window) else motion.scale_px(window)
                if nxt is None or s <= 0:
                    continue
                rows.append(
                    [
                        codec.row(window[: j + 1], None if c is None else c[t : t + j + 2])
                        for j in range(self.n_in)
                    ]
                )
                targets.append([*motion.correction_target(window, nxt), s])
            if progress is not None:
                progress(1)
        if not rows:
            raise UserError(f"{lib.path}: no window of its samples shows a growing crack")
        side = codec.side
        self.rows = torch.from_numpy(
            np.asarray(rows, np.float32).reshape(-1, self.n_in, 1, side, side)
        )
        self.targets = torch.from_numpy(np.asarray(targets, np.float32))

    def __len__(self) -> int:
        return len(self.rows)

    def batch(self, idx, device=None):
        idx = torch.as_tensor(np.asarray(idx), dtype=torch.long)
        x, y = self.rows[idx], self.targets[idx]
        return (x, y) if device is None else (x.to(device), y.to(device))

    def __getitems__(self, idx):
        return self.batch(idx)

    def __getitem__(self, i: int):
        x, y = self.batch([i])
        return x[0], y[0]


def tile_masks(codec) -> tuple[torch.Tensor, torch.Tensor]:
    """(S, S) masks of the tile entries that change to ``1 - x`` in the mirrored view, and of
    the clock entries."""
    signs = motion.mirror_signs(codec.n_in)
    flip, clock = torch.zeros(codec.side**2), torch.zeros(codec.side**2)
    flip[: len(signs)] = torch.as_tensor(signs < 0, dtype=torch.float32)
    clock[len(signs) : len(signs) + CLOCK] = 1.0
    return flip.reshape(codec.side, codec.side), clock.reshape(codec.side, codec.side)


def augment(x, y, codec, gen, part) -> tuple[torch.Tensor, torch.Tensor]:
    """Mirror and hide the clock on a share of the windows (see the module text); the draws
    are made for the whole global batch (``part`` = (first, size)) from ``gen``."""
    lo, size = part if part is not None else (0, len(x))
    draws = torch.rand((size, 2), generator=gen)[lo : lo + len(x)].to(x.device)
    flip, hide = draws[:, 0] < MIRROR_P, draws[:, 1] < DROP_CLOCK_P
    flip_mask, clock = (m.to(x.device) for m in tile_masks(codec))
    moving = (x.abs().sum((-1, -2), keepdim=True) > 0).to(x.dtype)  # zero tiles stay zero
    f = flip[:, None, None, None, None].to(x.dtype)
    x = x + f * flip_mask * moving * (1 - 2 * x)
    x = x * (1 - hide[:, None, None, None, None].to(x.dtype) * clock)
    y = y.clone()
    y[:, 1] = torch.where(flip, -y[:, 1], y[:, 1])
    return x, y


def motion_loss(model, x, y, gen=None, part=None) -> torch.Tensor:
    """Mean over members and windows of log(1 + tip error (px) / (S + 1 px))."""
    if gen is not None:
        x, y = augment(x, y, model.codec, gen, part)
    c = model.corrections(x)  # (B, members, 2)
    s = y[:, 2:3]
    err = (c - y[:, None, :2]) * s[..., None]
    return torch.log1p(torch.sqrt((err**2).sum(-1) + 1e-6) / (s + 1.0)).mean()
