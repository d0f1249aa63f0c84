"""ConvLSTM (Shi et al. 2015), stacked as in OpenSTL, and PredRNN++ (Wang et al. 2018).

ConvLSTM cell: ``[i, f, g, o] = W_x * x + W_h * h`` (one convolution each, no bias), ``c' = s(f)
c + s(i) tanh(g)``, ``h' = s(o) tanh(c')``; layers stacked, the last layer's h read out by a 1 x 1
convolution to the next frame's patches. (The stclif repository's fork writes ``h' = s(o)
tanh(g)``; we keep the published cell.)

PredRNN++: causal LSTM cells with a gradient highway unit (GHU) after the first, the spatial
memory ``m`` zig-zagging up the layers and on to the next time step (upstream OpenSTL; the
fork's ``conv_c(m)`` in place of ``conv_c(c)`` is not copied):

    i, f, g = s(x_i + h_i + c_i), s(x_f + h_f + c_f + 1), tanh(x_g + h_g + c_g)
    c' = f c + i g
    i', f', g' = s(x_i' + m_i + c'_i), s(x_f' + m_f + c'_f + 1), tanh(x_g' + c'_g)
    m' = f' tanh(m_m) + i' g'
    o = tanh(x_o + h_o + c'_o + W_om * m');  h' = o tanh(W_1x1 * [c', m'])
    GHU: p = tanh(x_p + z_p), u = s(x_u + z_u), z' = u p + (1 - u) z
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edge_shm.models.base import Predictor
from edge_shm.models.registry import register
from edge_shm.models.spatiotemporal import SEQUENCE, WINDOW, STConfig, patches, unpatch


def _conv(cin: int, cout: int, k: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, padding=k // 2, bias=False)


@dataclass
class ConvLSTMConfig(STConfig):
    PAPER = {"hidden": (128, 128, 128, 128), "kernel": 5, "patch": 4}


class _Stacked(Predictor):
    """Shared: patches in, a 1 x 1 readout of the last layer out, zeros for every state."""

    capabilities = SEQUENCE
    window = WINDOW
    gate_arithmetic = True  # the profiler counts the gates' elementwise work

    def __init__(self, cfg):
        super().__init__(cfg)
        p = cfg.patch
        self.p, self.cin = p, p * p
        self.hp, self.wp = cfg.height // p, cfg.width // p
        self.readout = nn.Conv2d(cfg.hidden[-1], self.cin, 1, bias=False)
        self.ins = [self.cin, *cfg.hidden[:-1]]  # each layer's input channels

    def _zeros(self, batch, device, channels):
        return [torch.zeros(batch, c, self.hp, self.wp, device=device) for c in channels]


@register("convlstm")
class ConvLSTM(_Stacked):
    config_class = ConvLSTMConfig

    def __init__(self, config: ConvLSTMConfig):
        super().__init__(config)
        hid, k = config.hidden, config.kernel
        self.conv_x = nn.ModuleList(_conv(i, 4 * h, k) for i, h in zip(self.ins, hid, strict=True))
        self.conv_h = nn.ModuleList(_conv(h, 4 * h, k) for h in hid)
        self.state_names = tuple(f"{s}{i}" for i in range(len(hid)) for s in ("h", "c"))

    def initial_state(self, batch=1, device=None):
        return tuple(self._zeros(batch, device, [h for h in self.cfg.hidden for _ in "hc"]))

    def step(self, frame, state):
        x, new = patches(frame, self.p), []
        for i in range(len(self.cfg.hidden)):
            h, c = state[2 * i], state[2 * i + 1]
            gi, gf, gg, go = (self.conv_x[i](x) + self.conv_h[i](h)).chunk(4, dim=1)
            c = torch.sigmoid(gf) * c + torch.sigmoid(gi) * torch.tanh(gg)
            h = torch.sigmoid(go) * torch.tanh(c)
            new += [h, c]
            x = h
        return unpatch(self.readout(x), self.p), tuple(new)


@dataclass
class PredRNNppConfig(STConfig):
    PAPER = {"hidden": (128, 128, 128, 128), "kernel": 5, "patch": 4}


class CausalLSTMCell(nn.Module):
    def __init__(self, cin: int, nh: int, k: int):
        super().__init__()
        self.nh = nh
        self.conv_x = _conv(cin, 7 * nh, k)
        self.conv_h = _conv(nh, 4 * nh, k)
        self.conv_c = _conv(nh, 3 * nh, k)
        self.conv_m = _conv(nh, 3 * nh, k)
        self.conv_c2m = _conv(nh, 4 * nh, k)
        self.conv_om = _conv(nh, nh, k)
        self.conv_last = nn.Conv2d(2 * nh, nh, 1, bias=False)

    def forward(self, x, h, c, m):
        xi, xf, xg, xi2, xf2, xg2, xo = self.conv_x(x).chunk(7, dim=1)
        hi, hf, hg, ho = self.conv_h(h).chunk(4, dim=1)
        ci, cf, cg = self.conv_c(c).chunk(3, dim=1)
        mi, mf, mm = self.conv_m(m).chunk(3, dim=1)
        i, f = torch.sigmoid(xi + hi + ci), torch.sigmoid(xf + hf + cf + 1.0)
        c = f * c + i * torch.tanh(xg + hg + cg)
        c2i, c2g, c2f, c2o = self.conv_c2m(c).chunk(4, dim=1)
        i2, f2 = torch.sigmoid(xi2 + mi + c2i), torch.sigmoid(xf2 + mf + c2f + 1.0)
        m = f2 * torch.tanh(mm) + i2 * torch.tanh(xg2 + c2g)
        o = torch.tanh(xo + ho + c2o + self.conv_om(m))
        h = o * torch.tanh(self.conv_last(torch.cat([c, m], dim=1)))
        return h, c, m


class GHU(nn.Module):
    def __init__(self, cin: int, nh: int, k: int):
        super().__init__()
        self.conv_x, self.conv_z = _conv(cin, 2 * nh, k), _conv(nh, 2 * nh, k)
        for conv in (self.conv_x, self.conv_z):
            nn.init.uniform_(conv.weight, -1e-3, 1e-3)  # as upstream

    def forward(self, x, z):
        p, u = (self.conv_x(x) + self.conv_z(z)).chunk(2, dim=1)
        u = torch.sigmoid(u)
        return u * torch.tanh(p) + (1 - u) * z


@register("predrnnpp")
class PredRNNpp(_Stacked):
    config_class = PredRNNppConfig

    def __init__(self, config: PredRNNppConfig):
        super().__init__(config)
        hid, k = config.hidden, config.kernel
        if len(set(hid)) != 1:
            from edge_shm.errors import UserError

            raise UserError("model config: PredRNN++'s memory m needs one hidden size per layer")
        self.cells = nn.ModuleList(
            CausalLSTMCell(i, h, k) for i, h in zip(self.ins, hid, strict=True)
        )
        self.ghu = GHU(hid[0], hid[0], k)
        n = len(hid)
        self.state_names = (*(f"h{i}" for i in range(n)), *(f"c{i}" for i in range(n)), "m", "z")

    def initial_state(self, batch=1, device=None):
        hid = self.cfg.hidden
        return tuple(self._zeros(batch, device, [*hid, *hid, hid[0], hid[0]]))

    def step(self, frame, state):
        n = len(self.cfg.hidden)
        hs, cs, m, z = list(state[:n]), list(state[n : 2 * n]), state[2 * n], state[2 * n + 1]
        x = patches(frame, self.p)
        hs[0], cs[0], m = self.cells[0](x, hs[0], cs[0], m)
        z = self.ghu(hs[0], z)
        x = z
        for i in range(1, n):
            hs[i], cs[i], m = self.cells[i](x, hs[i], cs[i], m)
            x = hs[i]
        return unpatch(self.readout(x), self.p), (*hs, *cs, m, z)
