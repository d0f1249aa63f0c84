"""Base RNN and LSTM of the paper (Supplementary Note 1), with a streaming step.

    frames (B,T,1,H,W) -> Conv3d 1->16 k3x3x3 -> ReLU -> Conv3d 16->4 k3x3x3 -> ReLU
      -> flatten each time step (4*H*W) -> recurrent layer 1 (128) -> recurrent layer 2 (128)
      -> Linear 128 -> 4*H*W, reshape (4,H,W) -> ConvTranspose2d 4->16 k3 -> ReLU
      -> ConvTranspose2d 16->1 k3 -> prediction at every step

Decisions where the paper is silent: the 3-D convolutions pad time causally (two past frames,
none ahead) so that a device can feed one frame at a time; the decoder needs a 4-channel map,
so a linear layer maps the 128 recurrent features back to 4*H*W (it holds most of the weights
beside the first recurrent layer, as the paper's 4-5 orders of magnitude imply).

Streaming state (explicit, as for the SNN): the last two input frames and the last two conv1
outputs (the temporal kernels' memory), and h (and c for the LSTM) of both recurrent layers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BaseRecurrent(nn.Module):
    cell_type = "lstm"

    def __init__(
        self,
        height: int = 96,
        width: int = 132,
        hidden: tuple[int, int] = (16, 4),
        kernel: int = 3,
        recurrent: tuple[int, int] = (128, 128),
    ):
        super().__init__()
        c1, c2 = hidden
        self.height, self.width, self.kernel = height, width, kernel
        self.hidden, self.recurrent_sizes = (c1, c2), tuple(recurrent)
        pad = kernel // 2
        self.conv1 = nn.Conv3d(1, c1, kernel, padding=(0, pad, pad))
        self.conv2 = nn.Conv3d(c1, c2, kernel, padding=(0, pad, pad))
        feat = c2 * height * width
        rnn = nn.LSTM if self.cell_type == "lstm" else nn.RNN
        self.rnn1 = rnn(feat, recurrent[0], batch_first=True)
        self.rnn2 = rnn(recurrent[0], recurrent[1], batch_first=True)
        self.project = nn.Linear(recurrent[1], feat)
        self.deconv1 = nn.ConvTranspose2d(c2, c1, kernel, padding=pad)
        self.deconv2 = nn.ConvTranspose2d(c1, 1, kernel, padding=pad)

    @property
    def state_names(self) -> tuple[str, ...]:
        names = ["frames_prev", "conv1_prev", "h1", "h2"]
        if self.cell_type == "lstm":
            names += ["c1", "c2"]
        return tuple(names)

    def config(self) -> dict:
        return {
            "height": self.height,
            "width": self.width,
            "hidden": list(self.hidden),
            "kernel": self.kernel,
            "recurrent": list(self.recurrent_sizes),
        }

    def _decode(self, y: torch.Tensor) -> torch.Tensor:
        """(N, 128) recurrent features -> (N, 1, H, W) frames."""
        m = self.project(y).view(-1, self.hidden[1], self.height, self.width)
        return self.deconv2(F.relu(self.deconv1(m)))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """frames (B, T, 1, H, W) -> predictions (B, T, 1, H, W), causal in time."""
        b, t = frames.shape[:2]
        k = self.kernel
        x = frames.transpose(1, 2)  # (B, 1, T, H, W)
        x = F.relu(self.conv1(F.pad(x, (0, 0, 0, 0, k - 1, 0))))
        x = F.relu(self.conv2(F.pad(x, (0, 0, 0, 0, k - 1, 0))))
        x = x.transpose(1, 2).reshape(b, t, -1)
        y, _ = self.rnn1(x)
        y, _ = self.rnn2(y)
        return self._decode(y.reshape(b * t, -1)).view(b, t, 1, self.height, self.width)

    def initial_state(self, batch: int = 1) -> tuple[torch.Tensor, ...]:
        k, h, w = self.kernel, self.height, self.width
        r1, r2 = self.recurrent_sizes
        state = [
            torch.zeros(batch, k - 1, 1, h, w),
            torch.zeros(batch, k - 1, self.hidden[0], h, w),
            torch.zeros(batch, r1),
            torch.zeros(batch, r2),
        ]
        if self.cell_type == "lstm":
            state += [torch.zeros(batch, r1), torch.zeros(batch, r2)]
        return tuple(state)

    def _conv_step(self, conv: nn.Conv3d, x: torch.Tensor, prev: torch.Tensor):
        """x (B,C,H,W), prev (B,k-1,C,H,W) -> relu(conv over [prev, x]) and the new buffer."""
        window = torch.cat([prev, x.unsqueeze(1)], dim=1)  # (B, k, C, H, W)
        y = F.relu(conv(window.transpose(1, 2))).squeeze(2)
        return y, window[:, 1:]

    def _cell(self, layer, x, h, c=None):
        w_ih, w_hh = layer.weight_ih_l0, layer.weight_hh_l0
        gates = F.linear(x, w_ih, layer.bias_ih_l0) + F.linear(h, w_hh, layer.bias_hh_l0)
        if c is None:
            return torch.tanh(gates), None
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    def step(self, frame: torch.Tensor, state: tuple[torch.Tensor, ...]):
        """One frame (B,1,H,W) and the state -> prediction (B,1,H,W) and the new state."""
        lstm = self.cell_type == "lstm"
        frames_prev, conv1_prev, h1, h2 = state[:4]
        c1, c2 = state[4:] if lstm else (None, None)
        x1, frames_prev = self._conv_step(self.conv1, frame, frames_prev)
        x2, conv1_prev = self._conv_step(self.conv2, x1, conv1_prev)
        h1, c1 = self._cell(self.rnn1, x2.flatten(1), h1, c1)
        h2, c2 = self._cell(self.rnn2, h1, h2, c2)
        out = self._decode(h2)
        new = (frames_prev, conv1_prev, h1, h2) + ((c1, c2) if lstm else ())
        return out, new


class BaseLSTM(BaseRecurrent):
    name = "lstm"
    cell_type = "lstm"


class BaseRNN(BaseRecurrent):
    name = "rnn"
    cell_type = "rnn"
