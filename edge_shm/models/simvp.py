"""SimVP (Gao et al., CVPR 2022): a CNN encoder, the Inception-UNet translator, a CNN decoder.

    frames (B, T, 1, H, W) -> encoder per frame: N_S x ConvSC (3 x 3 conv, GroupNorm(2), SiLU;
      stride 2 on every second layer) -> (B, T hid_S, H', W') -> translator: N_T
      gInception_ST encoder blocks and N_T decoder blocks with U-Net skips (each block: 1 x 1
      conv to hid_T / 2, then the sum of grouped convolutions of kernels 3, 5, 7, 11, each with
      GroupNorm and LeakyReLU 0.2) -> decoder: ConvSC with upsampling (conv to 4C,
      PixelShuffle(2)), the encoder's first-layer features added before the last, 1 x 1 readout

Departure, for one training and evaluation path for every model: the original maps 10 frames to
10 at once; here the translator maps the last T = 10 frames to the next one (T_out = 1), and
10 -> 10 forecasting rolls it forward like the recurrent models. The step's state is the
encoder's features of the last T frames and the first-layer features of the last one (those of
a zero frame before the first): each step encodes only its new frame, and ``step`` and
``forward`` agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edge_shm.errors import UserError
from edge_shm.models.base import ModelConfig, Predictor, positive
from edge_shm.models.registry import register
from edge_shm.models.spatiotemporal import SEQUENCE, WINDOW


@dataclass
class SimVPConfig(ModelConfig):
    hid_s: int = 16
    hid_t: int = 32
    n_s: int = 2
    n_t: int = 2
    frames_in: int = 10
    size: str = "cpu"

    PAPER = {"hid_s": 64, "hid_t": 512, "n_s": 4, "n_t": 8}

    def check(self, where: str) -> None:
        positive(where, hid_s=self.hid_s, hid_t=self.hid_t, n_s=self.n_s, n_t=self.n_t)
        positive(where, frames_in=self.frames_in)
        down = 2 ** (self.n_s // 2)
        if self.height % down or self.width % down:
            raise UserError(
                f"{where}: {self.height} x {self.width} px frames do not halve {self.n_s // 2} "
                f"times (n_s = {self.n_s})"
            )
        if self.hid_t % 16 or self.n_t < 2:
            raise UserError(f"{where}: 'hid_t' must be a multiple of 16 and 'n_t' at least 2")
        if self.size not in ("cpu", "paper"):
            raise UserError(f"{where}: 'size' must be cpu or paper, not {self.size!r}")


class ConvSC(nn.Module):
    def __init__(self, cin, cout, down=False, up=False):
        super().__init__()
        if up:
            self.conv = nn.Sequential(nn.Conv2d(cin, cout * 4, 3, padding=1), nn.PixelShuffle(2))
        else:
            self.conv = nn.Conv2d(cin, cout, 3, stride=2 if down else 1, padding=1)
        self.norm, self.act = nn.GroupNorm(2, cout), nn.SiLU()

    def forward(self, x):
        return self.act(self.norm(self.conv(x)))


class GInceptionST(nn.Module):
    def __init__(self, cin, hid, cout, kernels=(3, 5, 7, 11), groups=8):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, hid, 1)
        g = groups if hid % groups == 0 and cout % groups == 0 else 1
        self.branches = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(hid, cout, k, padding=k // 2, groups=g),
                nn.GroupNorm(g, cout),
                nn.LeakyReLU(0.2),
            )
            for k in kernels
        )

    def forward(self, x):
        x = self.conv1(x)
        return sum(b(x) for b in self.branches)


class MidIncepNet(nn.Module):
    def __init__(self, channels, hid, n_t):
        super().__init__()
        half = hid // 2
        self.enc = nn.ModuleList(
            [GInceptionST(channels, half, hid)]
            + [GInceptionST(hid, half, hid) for _ in range(n_t - 1)]
        )
        self.dec = nn.ModuleList(
            [GInceptionST(hid, half, hid)]
            + [GInceptionST(2 * hid, half, hid) for _ in range(n_t - 2)]
            + [GInceptionST(2 * hid, half, channels)]
        )

    def forward(self, x):
        skips = []
        for i, layer in enumerate(self.enc):
            x = layer(x)
            if i < len(self.enc) - 1:
                skips.append(x)
        x = self.dec[0](x)
        for layer in self.dec[1:]:
            x = layer(torch.cat([x, skips.pop()], dim=1))
        return x


@register("simvp")
class SimVP(Predictor):
    config_class = SimVPConfig
    capabilities = SEQUENCE
    window = WINDOW
    gate_arithmetic = True

    def __init__(self, config: SimVPConfig):
        super().__init__(config)
        c, t = config.hid_s, config.frames_in
        self.enc = nn.ModuleList(
            ConvSC(1 if i == 0 else c, c, down=i % 2 == 1) for i in range(config.n_s)
        )
        self.mid = MidIncepNet(t * c, config.hid_t, config.n_t)
        self.dec = nn.ModuleList(
            ConvSC(t * c if i == 0 else c, c, up=i % 2 == 0 and i < 2 * (config.n_s // 2))
            for i in range(config.n_s)
        )
        self.readout = nn.Conv2d(c, 1, 1)
        self.state_names = ("features", "skip")

    def encode(self, frame):
        """(B, 1, H, W) -> (latent (B, C, H', W'), first-layer features (B, C, H, W))."""
        x = skip = self.enc[0](frame)
        for layer in self.enc[1:]:
            x = layer(x)
        return x, skip

    def initial_state(self, batch=1, device=None):
        z, skip = self.encode(torch.zeros(batch, 1, self.height, self.width, device=device))
        return z[:, None].repeat(1, self.cfg.frames_in, 1, 1, 1), skip

    def step(self, frame, state):
        z, skip = self.encode(frame)
        feats = torch.cat([state[0][:, 1:], z[:, None]], dim=1)
        b, t, c, h, w = feats.shape
        x = self.mid(feats.reshape(b, t * c, h, w))
        for i, layer in enumerate(self.dec):
            if i == len(self.dec) - 1:
                x = x + skip  # the last frame's first-layer features (U-Net skip)
            x = layer(x)
        return self.readout(x), (feats, skip)
