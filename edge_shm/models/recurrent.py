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
The step runs the weights of the same ``nn.LSTM`` / ``nn.RNN`` modules one time step at a time
through torch's own cell functions (``torch.lstm_cell``, ``torch.rnn_tanh_cell``): calling the
sequence module for a single step is twelve times slower on a CPU (75 ms against 6 ms for the
first layer at 96 x 132 px).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from edge_shm.errors import UserError
from edge_shm.models.base import MAX_PARAMETERS, Capabilities, ModelConfig, Predictor, positive
from edge_shm.models.registry import register


@dataclass
class RecurrentConfig(ModelConfig):
    """Frame size (px), conv channels, kernel (px), the two recurrent sizes."""

    hidden: tuple[int, ...] = (16, 4)
    kernel: int = 3
    recurrent: tuple[int, ...] = (128, 128)

    def check(self, where: str) -> None:
        positive(where, hidden=self.hidden, kernel=self.kernel, recurrent=self.recurrent)
        if len(self.hidden) != 2 or len(self.recurrent) != 2:
            raise UserError(f"{where}: 'hidden' and 'recurrent' must hold two sizes each")
        if self.kernel % 2 == 0 or self.kernel > 31:
            raise UserError(f"{where}: 'kernel' must be odd and at most 31, got {self.kernel}")
        feat = self.hidden[1] * self.height * self.width
        r1, r2 = self.recurrent
        approx = 4 * r1 * (feat + r1) + 4 * r2 * (r1 + r2) + (r2 + 1) * feat
        if approx > MAX_PARAMETERS:
            raise UserError(
                f"{where}: {self.height}x{self.width} px frames make about {approx:,} "
                f"parameters (limit {MAX_PARAMETERS:,})"
            )


class BaseRecurrent(Predictor):
    config_class = RecurrentConfig
    capabilities = Capabilities(spiking=False, targets=("onnx",))
    cell: type = nn.LSTM

    def __init__(self, config: RecurrentConfig):
        super().__init__(config)
        c1, c2 = config.hidden
        k = self.kernel = config.kernel
        pad = k // 2
        self.hidden, self.recurrent_sizes = (c1, c2), tuple(config.recurrent)
        self.conv1 = nn.Conv3d(1, c1, k, padding=(0, pad, pad))
        self.conv2 = nn.Conv3d(c1, c2, k, padding=(0, pad, pad))
        feat = c2 * self.height * self.width
        self.rnn1 = self.cell(feat, self.recurrent_sizes[0], batch_first=True)
        self.rnn2 = self.cell(self.recurrent_sizes[0], self.recurrent_sizes[1], batch_first=True)
        self.project = nn.Linear(self.recurrent_sizes[1], feat)
        self.deconv1 = nn.ConvTranspose2d(c2, c1, k, padding=pad)
        self.deconv2 = nn.ConvTranspose2d(c1, 1, k, padding=pad)
        lstm = self.cell is nn.LSTM
        self.state_names = ("frames_prev", "conv1_prev", "h1", "h2") + (
            ("c1", "c2") if lstm else ()
        )

    def blocker(self, target: str) -> str | None:
        if target in self.capabilities.targets:
            return None
        return f"layer rnn1 ({self.cell.__name__}) has no {target} equivalent"

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

    def initial_state(self, batch: int = 1, device=None) -> tuple[torch.Tensor, ...]:
        device = device if device is not None else self.device
        k, h, w = self.kernel, self.height, self.width
        r1, r2 = self.recurrent_sizes
        shapes = [(k - 1, 1, h, w), (k - 1, self.hidden[0], h, w), (r1,), (r2,)]
        if self.cell is nn.LSTM:
            shapes += [(r1,), (r2,)]
        return tuple(torch.zeros(batch, *s, device=device) for s in shapes)

    def _conv_step(self, conv: nn.Conv3d, x: torch.Tensor, prev: torch.Tensor):
        """x (B,C,H,W), prev (B,k-1,C,H,W) -> relu(conv over [prev, x]) and the new buffer."""
        window = torch.cat([prev, x.unsqueeze(1)], dim=1)  # (B, k, C, H, W)
        y = F.relu(conv(window.transpose(1, 2))).squeeze(2)
        return y, window[:, 1:]

    def _recur(self, layer, x, h, c):
        """One time step of an nn.LSTM / nn.RNN module's weights: (B, n) -> new h (and c)."""
        w = (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)
        if c is not None:
            return torch.lstm_cell(x, (h, c), *w)
        return torch.rnn_tanh_cell(x, h, *w), None

    def step(self, frame: torch.Tensor, state: tuple):
        """One frame (B,1,H,W) and the state -> prediction (B,1,H,W) and the new state."""
        lstm = self.cell is nn.LSTM
        frames_prev, conv1_prev, h1, h2 = state[:4]
        c1, c2 = state[4:] if lstm else (None, None)
        x1, frames_prev = self._conv_step(self.conv1, frame, frames_prev)
        x2, conv1_prev = self._conv_step(self.conv2, x1, conv1_prev)
        h1, c1 = self._recur(self.rnn1, x2.flatten(1), h1, c1)
        h2, c2 = self._recur(self.rnn2, h1, h2, c2)
        out = self._decode(h2)
        new = (frames_prev, conv1_prev, h1, h2) + ((c1, c2) if lstm else ())
        return out, new


@register("lstm")
class BaseLSTM(BaseRecurrent):
    """The paper's base LSTM: convolutional encoder, two LSTM layers over the flattened frame."""

    cell = nn.LSTM


@register("rnn")
class BaseRNN(BaseRecurrent):
    """The paper's base RNN: the base LSTM's layout with tanh RNN cells."""

    cell = nn.RNN
