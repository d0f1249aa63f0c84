"""SimVP (Gao et al., CVPR 2022): a CNN encoder, a translator, a CNN decoder, after OpenSTL.

    frames (B, T, 1, H, W) -> encoder per frame: N_S x ConvSC (3 x 3 conv, GroupNorm(2), SiLU;
      stride 2 on every second layer) -> (B, T hid_S, H', W') -> translator (``translator``):
      ``incepu`` (SimVP v1): N_T gInception_ST encoder blocks and N_T decoder blocks with U-Net
      skips (each block: 1 x 1 conv to hid_T / 2, then the sum of grouped convolutions of
      kernels 3, 5, 7, 11, each with GroupNorm and LeakyReLU 0.2); ``gsta`` (SimVP v2, OpenSTL's
      default): N_T MetaFormer blocks of gated spatial attention
      (:mod:`edge_shm.models.simvp_gsta`) -> decoder: ConvSC with upsampling (conv to 4C,
      PixelShuffle(2)), the encoder's first-layer features added before the last, 1 x 1 readout

``frames_out`` says how the T = ``frames_in`` frames become a forecast:

- 1 (the default; the departure of the earlier runs, for one training and evaluation path for
  every model): the translator maps the last T frames to the next one, decoded from its
  (B, T hid_S, H', W') output with the last frame's first-layer skip, and 10 -> 10
  forecasting rolls it forward like the recurrent models. The step's state is the encoder's
  features of the last T frames and the first-layer features of the last one (those of a zero
  frame before the first): each step encodes only its new frame, and ``step`` and ``forward``
  agree.
- F = T = 10 (OpenSTL's ``SimVP_Model.forward``): the last T frames map to the next T at once;
  the translator's output is read as T frames of hid_S channels (B T, hid_S, H', W'), each
  decoded with the first-layer skip of the input frame of its index. The model has no
  next-frame step (``step`` and ``initial_state`` raise :class:`UserError`: it was not trained
  to forecast one frame from a rolling state); ``forecast_window(x, n_out)`` is its forecast,
  and training (:mod:`edge_shm.training.sequence`) and evaluation
  (:func:`edge_shm.models.windows.rollout_window`) use it.

``init``: ``torch`` (PyTorch's defaults, the earlier runs) or ``openstl`` (OpenSTL's: the
encoder's and decoder's convs ~ N(0, 0.02^2) truncated at +-2, zero biases; the gSTA blocks'
convs ~ N(0, 2 / fan_out), zero biases; the IncepU blocks, the readout and the gSTA reduction
convs keep PyTorch's, as in OpenSTL).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edge_shm.errors import UserError
from edge_shm.models.base import ModelConfig, Predictor, positive
from edge_shm.models.registry import register
from edge_shm.models.simvp_gsta import MidMetaNet
from edge_shm.models.spatiotemporal import SEQUENCE, WINDOW

TRANSLATORS = ("incepu", "gsta")
INITS = ("torch", "openstl")


@dataclass
class SimVPConfig(ModelConfig):
    """Channels (``hid_s`` per frame in the encoder and decoder, ``hid_t`` in the translator),
    layers (``n_s`` encoder and decoder, ``n_t`` translator), frames in and out at once
    (``frames_out``: 1, or ``frames_in`` = the windows' 10), the ``translator`` (``incepu`` or
    ``gsta``) and ``init`` (``torch`` or ``openstl``); see the module text."""

    hid_s: int = 16
    hid_t: int = 32
    n_s: int = 2
    n_t: int = 2
    frames_in: int = 10
    size: str = "cpu"
    frames_out: int = 1
    translator: str = "incepu"
    init: str = "torch"

    PAPER = {"hid_s": 64, "hid_t": 512, "n_s": 4, "n_t": 8}

    def check(self, where: str) -> None:
        positive(where, hid_s=self.hid_s, hid_t=self.hid_t, n_s=self.n_s, n_t=self.n_t)
        positive(where, frames_in=self.frames_in, frames_out=self.frames_out)
        down = 2 ** (self.n_s // 2)
        if self.height % down or self.width % down:
            raise UserError(
                f"{where}: {self.height} x {self.width} px frames do not halve {self.n_s // 2} "
                f"times (n_s = {self.n_s})"
            )
        if self.translator not in TRANSLATORS:
            raise UserError(
                f"{where}: 'translator' must be incepu or gsta, not {self.translator!r}"
            )
        if self.translator == "gsta" and self.n_t < 2:
            raise UserError(f"{where}: 'n_t' must be at least 2")
        if self.translator == "incepu" and (self.hid_t % 16 or self.n_t < 2):
            raise UserError(f"{where}: 'hid_t' must be a multiple of 16 and 'n_t' at least 2")
        if self.size not in ("cpu", "paper"):
            raise UserError(f"{where}: 'size' must be cpu or paper, not {self.size!r}")
        if self.init not in INITS:
            raise UserError(f"{where}: 'init' must be torch or openstl, not {self.init!r}")
        n_out = WINDOW[1]
        if self.frames_out not in (1, n_out):
            raise UserError(
                f"{where}: 'frames_out' must be 1 (next frame, rolled forward) or the windows' "
                f"{n_out} (all at once), not {self.frames_out}"
            )
        if self.frames_out > 1 and self.frames_in != self.frames_out:
            raise UserError(
                f"{where}: 'frames_out' = {self.frames_out} decodes one frame per input frame "
                f"(OpenSTL's SimVP): 'frames_in' must be {self.frames_out} too, "
                f"not {self.frames_in}"
            )


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
    """SimVP (module text): ``step`` forecasts the next frame when ``frames_out`` is 1;
    ``forecast_window`` the next ``frames_out`` frames at once otherwise."""

    config_class = SimVPConfig
    capabilities = SEQUENCE
    window = WINDOW
    gate_arithmetic = True

    def __init__(self, config: SimVPConfig):
        super().__init__(config)
        c, t, f = config.hid_s, config.frames_in, config.frames_out
        self.frames_out = f
        self.enc = nn.ModuleList(
            ConvSC(1 if i == 0 else c, c, down=i % 2 == 1) for i in range(config.n_s)
        )
        if config.translator == "gsta":
            self.mid = MidMetaNet(t * c, config.hid_t, config.n_t)
        else:
            self.mid = MidIncepNet(t * c, config.hid_t, config.n_t)
        # frames_out = 1: the first layer reads the translator's T hid_S channels at once
        first = t * c if f == 1 else c
        self.dec = nn.ModuleList(
            ConvSC(first if i == 0 else c, c, up=i % 2 == 0 and i < 2 * (config.n_s // 2))
            for i in range(config.n_s)
        )
        self.readout = nn.Conv2d(c, 1, 1)
        self.state_names = ("features", "skip") if f == 1 else ()
        if config.init == "openstl":
            self.init_openstl()

    def init_openstl(self) -> None:
        """OpenSTL's initialisation (``BasicConv2d._init_weights`` for the encoder's and the
        decoder's convs, ``GASubBlock._init_weights`` for gSTA blocks; see the module text)."""
        for layer in (*self.enc, *self.dec):
            for m in layer.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.trunc_normal_(m.weight, std=0.02)
                    nn.init.zeros_(m.bias)
        if isinstance(self.mid, MidMetaNet):
            self.mid.init_openstl()

    def encode(self, frame):
        """(N, 1, H, W) -> (latent (N, C, H', W'), first-layer features (N, C, H, W))."""
        x = skip = self.enc[0](frame)
        for layer in self.enc[1:]:
            x = layer(x)
        return x, skip

    def decode(self, x, skip):
        """(N, C_0, H', W') and first-layer features (N, C, H, W) -> frames (N, 1, H, W)."""
        for i, layer in enumerate(self.dec):
            if i == len(self.dec) - 1:
                x = x + skip  # the first-layer features of the input frame (U-Net skip)
            x = layer(x)
        return self.readout(x)

    def _no_step(self):
        f = self.frames_out
        return UserError(
            f"simvp with frames_out = {f} forecasts {f} frames at once (forecast_window); "
            "it has no next-frame step"
        )

    def initial_state(self, batch=1, device=None):
        if self.frames_out > 1:
            raise self._no_step()
        z, skip = self.encode(torch.zeros(batch, 1, self.height, self.width, device=device))
        return z[:, None].repeat(1, self.cfg.frames_in, 1, 1, 1), skip

    def step(self, frame, state):
        if self.frames_out > 1:
            raise self._no_step()
        z, skip = self.encode(frame)
        feats = torch.cat([state[0][:, 1:], z[:, None]], dim=1)
        b, t, c, h, w = feats.shape
        x = self.mid(feats.reshape(b, t * c, h, w))
        return self.decode(x, skip), (feats, skip)

    def blocker(self, target: str) -> str | None:
        if self.frames_out > 1:
            return f"it forecasts {self.frames_out} frames at once and has no next-frame step"
        return super().blocker(target)

    @property
    def forecast_window(self):
        """The window forecast ``(x, n_out) -> (B, n_out, 1, H, W)`` when ``frames_out`` > 1,
        None when the model steps (``frames_out`` = 1).

        x (B, n_in, 1, H, W): its last T = ``frames_in`` frames (zero frames before the first
        when n_in < T) map to the next T at once (OpenSTL's ``SimVP_Model.forward``); for
        n_out > T the T forecasts, raw, are the next input (OpenSTL's ``_predict``), and the
        first n_out are kept. Raw outputs, not clipped.
        """
        return self._forecast_window if self.frames_out > 1 else None

    def _forecast_window(self, x, n_out: int):
        t = self.cfg.frames_in
        seq, outs = x, []
        while sum(o.shape[1] for o in outs) < n_out:
            inp = seq[:, -t:]
            if inp.shape[1] < t:
                pad = inp.new_zeros(inp.shape[0], t - inp.shape[1], *inp.shape[2:])
                inp = torch.cat([pad, inp], dim=1)
            outs.append(self._window(inp))
            seq = torch.cat([seq, outs[-1]], dim=1)
        return torch.cat(outs, dim=1)[:, :n_out]

    def _window(self, x):
        """x (B, T, 1, H, W) -> the next T frames (B, T, 1, H, W): OpenSTL's forward."""
        b, t = x.shape[:2]
        z, skip = self.encode(x.reshape(b * t, 1, self.height, self.width))
        _, c, h, w = z.shape
        hid = self.mid(z.reshape(b, t * c, h, w)).reshape(b * t, c, h, w)
        return self.decode(hid, skip).reshape(b, t, 1, self.height, self.width)
