"""The motion SNN: a spiking network that forecasts the crack tip's motion, not its pixels.

The paper's pixel-vs-vector argument applied to time. A camera frame is reduced to the main
path of its crack (vector encoder); a window of ``n_in`` frames becomes one row of scale-free
motion features (:mod:`edge_shm.firmware_sim.codec`, :mod:`edge_shm.vector.motion`), the row
is stepped through a small spiking network once per frame, and the readout after the window's
last frame corrects the constant-velocity step of the tip::

    tile (B,1,S,S) -> Conv 1->K h1, kernel S x S (dense) -> LIF
                   -> Conv K h1->K h2, 1 x 1 (K blocks)  -> LIF
                   -> Conv K h2->S S, 1 x 1 (K blocks)    -> depth to space -> readout (B,1,S,S)

The row of features is a small square tile (the codec's), so every layer is an ordinary
convolution and the network goes through every backend as the pixel networks do. ``K``
independent members share only the input (the weights between members are zero and stay
zero: their gradients are masked); readout entries 2j and 2j+1 (row-major) are member j's
correction (u along the last motion, v across it, in units of the window's mean advance S).
Their mean moves the tip, their spread is the forecast's uncertainty. A window without growth
(S = 0) forecasts no growth, whatever the network says, and any frame size works: the features
are scale-free. The readout starts at 0.5 (no correction): an untrained network is constant
velocity.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edge_shm.errors import UserError
from edge_shm.firmware_sim.codec import CORRECTION_RANGE, MotionCodec, tile_side
from edge_shm.graph import DepthToSpace
from edge_shm.models.base import Capabilities, ModelConfig, positive
from edge_shm.models.chain import SpikingChain
from edge_shm.models.lif import LIFBox
from edge_shm.models.registry import register


@dataclass
class MotionConfig(ModelConfig):
    """Frames per window, ensemble members, hidden LIF neurons per member (two layers), LIF
    constants (decay per step, threshold, dt in s) and the first layer's initial gain. The
    "frame" is the codec's tile: :func:`tile_side` (n_in, members) on each side."""

    height: int = 0
    width: int = 0
    n_in: int = 3
    members: int = 5
    hidden: tuple[int, ...] = (32, 32)
    decay: float = 0.5
    v_th: float = 1.0
    dt: float = 1e-3
    init_gain: float = 4.0

    def __post_init__(self):
        if self.width == 0 and isinstance(self.n_in, int) and isinstance(self.members, int):
            self.height = self.width = tile_side(max(self.n_in, 2), max(self.members, 1))

    def check(self, where: str) -> None:
        positive(where, members=self.members, hidden=self.hidden, v_th=self.v_th, dt=self.dt)
        positive(where, init_gain=self.init_gain)
        if not 2 <= self.n_in <= 16:
            raise UserError(f"{where}: 'n_in' must lie in 2..16 frames, got {self.n_in}")
        if len(self.hidden) != 2 or max(self.hidden) > 4096 or self.members > 64:
            raise UserError(f"{where}: 'hidden' holds two sizes; at most 64 members")
        side = tile_side(self.n_in, self.members)
        if (self.height, self.width) != (side, side):
            raise UserError(
                f"{where}: the tile is {side} x {side} for n_in {self.n_in} and "
                f"{self.members} members, got {self.height} x {self.width}"
            )
        if not 0 < self.decay <= 1:
            raise UserError(f"{where}: 'decay' must lie in (0, 1], got {self.decay}")


def block_mask(members: int, rows: int, cols: int, rows_used: int | None = None):
    """(members * rows, members * cols) 0/1: member j's rows see only member j's columns;
    with ``rows_used`` the output has that many rows, member j owning rows j*rows..."""
    out = rows_used if rows_used is not None else members * rows
    mask = torch.zeros(out, members * cols)
    for j in range(members):
        mask[j * rows : (j + 1) * rows, j * cols : (j + 1) * cols] = 1.0
    return mask[:, :, None, None]


@register("motion-snn")
class MotionSNN(SpikingChain):
    """Motion SNN: an ensemble of small spiking networks over the crack's motion features
    (vector-encoded frames in, the tip's next step out)."""

    config_class = MotionConfig
    capabilities = Capabilities(spiking=True, targets=("onnx", "nir", "lava", "c"), inputs="motion")

    def __init__(self, config: MotionConfig):
        super().__init__(config)
        c = config
        k, (h1, h2) = c.members, c.hidden
        masks = {
            "hidden2": block_mask(k, h2, h1),
            "readout": block_mask(k, 2, h2, rows_used=c.width**2),
        }
        with torch.no_grad():
            self.hidden1.weight.mul_(c.init_gain)
            # torch's initialisation assumes every input of the dense layer: a member's block
            # has 1 / members of them
            self.hidden2.weight.mul_(c.init_gain * k**0.5)
            for name, mask in masks.items():
                layer = getattr(self, name)
                layer.weight.mul_(mask)
                layer.weight.register_hook(lambda g, m=mask: g * m)
            self.readout.weight.mul_(0.1)
            self.readout.bias.zero_()
            self.readout.bias[: 2 * k] = 0.5

    def build_layers(self, c: MotionConfig):
        h1, h2 = c.hidden

        def lif():
            return LIFBox(decay=c.decay, v_th=c.v_th, dt=c.dt)

        return [
            ("hidden1", nn.Conv2d(1, c.members * h1, c.width)),
            ("lif1", lif()),
            ("hidden2", nn.Conv2d(c.members * h1, c.members * h2, 1)),
            ("lif2", lif()),
            ("readout", nn.Conv2d(c.members * h2, c.width**2, 1)),
        ]

    def build_post(self, c: MotionConfig):
        return [DepthToSpace(c.width)]

    @property
    def codec(self) -> MotionCodec:
        return MotionCodec(self.cfg.n_in, self.cfg.members)

    def corrections(self, tiles: torch.Tensor) -> torch.Tensor:
        """Tiles (B, T, 1, S, S) of windows -> every member's correction after the last
        step, (B, members, 2), unclipped (training)."""
        out = self.forward(tiles)[:, -1, 0].flatten(1)[:, : 2 * self.cfg.members]
        return (out.reshape(out.shape[0], -1, 2) - 0.5) * (2 * CORRECTION_RANGE)
