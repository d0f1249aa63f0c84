"""The forecasting SNN: a multi-scale spiking network that extends the crack, not only copies it.

A crack tip advances 15 to 20 px per frame; the base SNN sees 9 x 9 px and cannot reach it.
This network looks 63 px around every pixel at a quarter of the resolution, where its state is
small enough for a microcontroller::

    frame (B,1,H,W) -> Conv 1->c1 k3 stride 2        -> LIF   (H/2, W/2)
                    -> Conv c1->c2 k3 stride 2       -> LIF   (H/4, W/4)
                    -> Conv c2->c2 k3 dilation 2     -> LIF   (H/4, W/4)
                    -> Conv c2->c2 k3 dilation 4     -> LIF   (H/4, W/4)
                    -> Conv c2->16 k3 (readout)      -> depth-to-space x4 -> growth (H, W)
    forecast = frame + (1 - frame) * growth   (a crack never heals)

Receptive field: 3, 7, 23, 55 and 63 px after each convolution (at strides 2, 4, 4, 4, 4),
four times the per-frame tip advance. Neurons are Norse's box LIF with decay 0.5 per step and
threshold 1, as in the base SNN. The first layer starts with its weights scaled by
``init_gain``: with Torch's default initialisation a crack pixel drives the membrane to about
0.3 and nothing would spike.

The readout's 16 channels are a 4 x 4 block of the output frame (``pixel_shuffle`` order), and
the union with the last frame is a fixed element-wise operation: both are output operations of
the deployment graph, recorded beside it and applied identically by every backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edge_shm.errors import UserError
from edge_shm.graph import DepthToSpace, KeepCracked
from edge_shm.models.base import ModelConfig, positive
from edge_shm.models.chain import SpikingChain
from edge_shm.models.lif import LIFBox
from edge_shm.models.registry import register

FACTOR = 4  # two stride-2 convolutions


@dataclass
class ForecastConfig(ModelConfig):
    """Frame size (px, sides divisible by 4), channels at half and quarter resolution, the two
    dilations of the context layers, LIF constants (decay per step, threshold, dt in s) and the
    initial gain of the first layer."""

    channels: tuple[int, ...] = (16, 24)
    dilations: tuple[int, ...] = (2, 4)
    decay: float = 0.5
    v_th: float = 1.0
    dt: float = 1e-3
    init_gain: float = 4.0

    def check(self, where: str) -> None:
        positive(
            where,
            channels=self.channels,
            dilations=self.dilations,
            v_th=self.v_th,
            dt=self.dt,
            init_gain=self.init_gain,
        )
        if len(self.channels) != 2 or len(self.dilations) != 2 or max(self.channels) > 1024:
            raise UserError(f"{where}: 'channels' and 'dilations' must hold two sizes each")
        if self.height % FACTOR or self.width % FACTOR:
            raise UserError(
                f"{where}: frame sides must divide by {FACTOR}, got {self.height}x{self.width} px"
            )
        if not 0 < self.decay <= 1:
            raise UserError(f"{where}: 'decay' must lie in (0, 1], got {self.decay}")


@register("forecast-snn")
class ForecastSNN(SpikingChain):
    """Forecasting SNN: strided and dilated spiking convolutions (sees 63 x 63 px), a
    depth-to-space readout united with the last frame."""

    config_class = ForecastConfig

    def build_layers(self, c: ForecastConfig):
        c1, c2 = c.channels
        d1, d2 = c.dilations

        def lif():
            return LIFBox(decay=c.decay, v_th=c.v_th, dt=c.dt)

        down1 = nn.Conv2d(1, c1, 3, stride=2, padding=1)
        with torch.no_grad():
            down1.weight.mul_(c.init_gain)
        return [
            ("down1", down1),
            ("lif1", lif()),
            ("down2", nn.Conv2d(c1, c2, 3, stride=2, padding=1)),
            ("lif2", lif()),
            ("context1", nn.Conv2d(c2, c2, 3, padding=d1, dilation=d1)),
            ("lif3", lif()),
            ("context2", nn.Conv2d(c2, c2, 3, padding=d2, dilation=d2)),
            ("lif4", lif()),
            ("readout", nn.Conv2d(c2, FACTOR * FACTOR, 3, padding=1)),
        ]

    def build_post(self, c: ForecastConfig):
        return [DepthToSpace(FACTOR), KeepCracked()]
