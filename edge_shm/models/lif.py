"""Norse's box LIF as a thin module over its pure step function, with explicit state.

``v_pre = v + dt tau_mem_inv ((i + v_leak) - v)``; spike ``z = v_pre > v_th`` (SuperSpike
surrogate gradient, ``1 / (|v - v_th| + 1)^2`` in norse 1.1.0, which ignores its alpha); then
``v = v_reset`` where it spiked. ``decay = dt tau_mem_inv`` is the fraction of the gap to the
input that closes per step: with 0.5, ``v <- 0.5 v + 0.5 i``.
"""

from __future__ import annotations

import torch
from norse.torch.functional.lif_box import (
    LIFBoxFeedForwardState,
    LIFBoxParameters,
    lif_box_feed_forward_step,
)
from torch import nn


class LIFBox(nn.Module):
    """A LIF population without synaptic current; no parameters, no hidden state."""

    def __init__(
        self,
        decay: float = 0.5,
        v_th: float = 1.0,
        dt: float = 1e-3,
        v_leak: float = 0.0,
        v_reset: float = 0.0,
    ):
        super().__init__()
        self.dt, self.decay = float(dt), float(decay)
        self.p = LIFBoxParameters(
            tau_mem_inv=torch.as_tensor(decay / dt),
            v_leak=torch.as_tensor(float(v_leak)),
            v_th=torch.as_tensor(float(v_th)),
            v_reset=torch.as_tensor(float(v_reset)),
            method="super",
        )

    def forward(self, current: torch.Tensor, v: torch.Tensor):
        """(current, v) -> (spikes z, new v); both (B, C, H, W)."""
        z, s = lif_box_feed_forward_step(current, LIFBoxFeedForwardState(v), self.p, self.dt)
        return z, s.v

    def v_pre(self, current: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """The membrane before the threshold, by Norse's own expression (bit-identical)."""
        return v + self.dt * self.p.tau_mem_inv * (current + self.p.v_leak - v)

    @property
    def tau(self) -> float:
        """The membrane time constant in s, 1 / tau_mem_inv."""
        return 1.0 / float(self.p.tau_mem_inv)

    @property
    def v_th(self) -> float:
        return float(self.p.v_th)
