"""Base spiking network of the paper (Supplementary Note 1): conv -> LIF -> deconv, 1,477 weights.

    frame (B,1,H,W) -> Conv2d 1->16 k3 -> LIF -> Conv2d 16->4 k3 -> LIF
                    -> ConvTranspose2d 4->16 k3 -> LIF -> ConvTranspose2d 16->1 k3 -> prediction

One SNN step per input frame; the prediction after the last input frame is the forecast of the
next frame. Neurons are Norse's box LIF (:mod:`edge_shm.models.lif`) with decay 0.5 per step
(``dt tau_mem_inv``) and threshold 1. All convolutions are stride 1 with "same" padding.
State: the membranes (v1, v2, v3) of the three LIF layers (lif1, lif2, lif3).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from edge_shm.errors import UserError
from edge_shm.models.base import ModelConfig, positive
from edge_shm.models.chain import SpikingChain
from edge_shm.models.lif import LIFBox
from edge_shm.models.registry import register


@dataclass
class SNNConfig(ModelConfig):
    """Frame size (px), channels of the two hidden convolutions, kernel (px), LIF constants:
    ``decay`` per step (dt tau_mem_inv, in (0, 1]), threshold ``v_th``, step ``dt`` (s)."""

    hidden: tuple[int, ...] = (16, 4)
    kernel: int = 3
    decay: float = 0.5
    v_th: float = 1.0
    dt: float = 1e-3

    def check(self, where: str) -> None:
        positive(where, hidden=self.hidden, kernel=self.kernel, v_th=self.v_th, dt=self.dt)
        if len(self.hidden) != 2 or max(self.hidden) > 4096:
            raise UserError(f"{where}: 'hidden' must be two channel counts up to 4096")
        if self.kernel % 2 == 0 or self.kernel > 31:
            raise UserError(f"{where}: 'kernel' must be odd and at most 31, got {self.kernel}")
        if not 0 < self.decay <= 1:
            raise UserError(f"{where}: 'decay' must lie in (0, 1], got {self.decay}")


def lif_layer(c) -> LIFBox:
    return LIFBox(decay=c.decay, v_th=c.v_th, dt=c.dt)


@register("snn")
class BaseSNN(SpikingChain):
    """The paper's base SNN: four 3 x 3 convolutions with LIF, full resolution (sees 9 x 9 px)."""

    config_class = SNNConfig

    def build_layers(self, c: SNNConfig):
        c1, c2 = c.hidden
        k, pad = c.kernel, c.kernel // 2
        return [
            ("conv1", nn.Conv2d(1, c1, k, padding=pad)),
            ("lif1", lif_layer(c)),
            ("conv2", nn.Conv2d(c1, c2, k, padding=pad)),
            ("lif2", lif_layer(c)),
            ("deconv1", nn.ConvTranspose2d(c2, c1, k, padding=pad)),
            ("lif3", lif_layer(c)),
            ("deconv2", nn.ConvTranspose2d(c1, 1, k, padding=pad)),
        ]
