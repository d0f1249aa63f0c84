"""Base spiking network of the paper (Supplementary Note 1): conv -> LIF -> deconv, 1,477 weights.

    frame (B,1,H,W) -> Conv2d 1->16 k3 -> LIF -> Conv2d 16->4 k3 -> LIF
                    -> ConvTranspose2d 4->16 k3 -> LIF -> ConvTranspose2d 16->1 k3 -> prediction

One SNN step per input frame; the prediction after the last input frame is the forecast of the
next frame. Neurons are Norse's box LIF (no synaptic current): v <- v + dt/tau (x - v), so with
dt * tau_mem_inv = 0.5 the membrane decays by 0.5 per step (v <- 0.5 v + 0.5 x); spike when
v > 1, then v = 0. All convolutions are stride 1 with "same" padding. The surrogate gradient
is Norse 1.1.0's SuperSpike, d z / d v = 1 / (|v - v_th| + 1)^2 (that release ignores the alpha
parameter of its "super" method).

State is explicit: ``step(frame, state) -> (prediction, state)`` is a pure function of the
module's weights, the frame and the state tuple (v1, v2, v3); the streaming export and the
firmware simulator call exactly this step.
"""

from __future__ import annotations

import torch
from norse.torch.functional.lif_box import (
    LIFBoxFeedForwardState,
    LIFBoxParameters,
    lif_box_feed_forward_step,
)
from torch import nn


class BaseSNN(nn.Module):
    name = "snn"
    state_names = ("v1", "v2", "v3")

    def __init__(
        self,
        height: int = 96,
        width: int = 132,
        hidden: tuple[int, int] = (16, 4),
        kernel: int = 3,
        decay: float = 0.5,
        v_th: float = 1.0,
        dt: float = 1e-3,
    ):
        super().__init__()
        c1, c2 = hidden
        pad = kernel // 2
        self.height, self.width = height, width
        self.conv1 = nn.Conv2d(1, c1, kernel, padding=pad)
        self.conv2 = nn.Conv2d(c1, c2, kernel, padding=pad)
        self.deconv1 = nn.ConvTranspose2d(c2, c1, kernel, padding=pad)
        self.deconv2 = nn.ConvTranspose2d(c1, 1, kernel, padding=pad)
        self.dt = dt
        self.decay = decay
        self.lif = LIFBoxParameters(
            tau_mem_inv=torch.as_tensor(decay / dt),
            v_leak=torch.as_tensor(0.0),
            v_th=torch.as_tensor(v_th),
            v_reset=torch.as_tensor(0.0),
            method="super",
        )
        self.channels = (c1, c2, c1)

    def config(self) -> dict:
        return {
            "height": self.height,
            "width": self.width,
            "hidden": list(self.channels[:2]),
            "kernel": self.conv1.kernel_size[0],
            "decay": self.decay,
            "v_th": float(self.lif.v_th),
            "dt": self.dt,
        }

    def initial_state(self, batch: int = 1) -> tuple[torch.Tensor, ...]:
        h, w = self.height, self.width
        return tuple(torch.zeros(batch, c, h, w) for c in self.channels)

    def _lif(self, x: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z, s = lif_box_feed_forward_step(x, LIFBoxFeedForwardState(v), self.lif, self.dt)
        return z, s.v

    def step_trace(self, frame: torch.Tensor, state: tuple[torch.Tensor, ...]):
        """One step; also returns the spikes and the input currents of every LIF layer."""
        v1, v2, v3 = state
        i1 = self.conv1(frame)
        z1, v1 = self._lif(i1, v1)
        i2 = self.conv2(z1)
        z2, v2 = self._lif(i2, v2)
        i3 = self.deconv1(z2)
        z3, v3 = self._lif(i3, v3)
        out = self.deconv2(z3)
        trace = {"spikes": (z1, z2, z3), "currents": (i1, i2, i3)}
        return out, (v1, v2, v3), trace

    def step(self, frame: torch.Tensor, state: tuple[torch.Tensor, ...]):
        out, state, _ = self.step_trace(frame, state)
        return out, state

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """frames (B, T, 1, H, W) -> predictions (B, T, 1, H, W), one per input step."""
        state = self.initial_state(frames.shape[0])
        outs = []
        for t in range(frames.shape[1]):
            out, state = self.step(frames[:, t], state)
            outs.append(out)
        return torch.stack(outs, dim=1)
