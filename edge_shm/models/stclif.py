"""STCLIF (Wang & Yu, ICML 2024): spatio-temporal circuit LIF with autaptic gates, in Norse style.

Per layer and step (``STCLIFCell`` of wangtianyi1874/stclif, openstl/modules/convlif_modules.py):

    v' = v (1 + tanh(GN(W_h * s))) + GN(W_x * x) (1 + tanh(GN(W_v * s)))
    s' = H(v' - v_th),   v'' = v' - s'          (soft reset, v_th = 1)

``s`` is the layer's own spike of the previous step (the autaptic connection): the temporal gate
``1 + tanh(.)`` replaces a fixed leak and the spatial gate scales the input, both in (0, 2). The
gate convolutions are grouped (16 groups, or fewer for narrow layers) and GN is GroupNorm. Layer
0 takes the frame's patches, layer i the spikes of layer i - 1; a 1 x 1 convolution of the last
layer's spikes is the forecast. Spikes are a Heaviside step with SpikingJelly's sigmoid
surrogate gradient (alpha 4). The step is a pure function of (x, v, s): :func:`stclif_step`,
wrapped by the module (``functional`` / ``module`` as in Norse), so it streams and profiles
like the other SNNs.

``gradient_detach`` (the authors' option of the same name, their ``STCLIFCell.forward``): when
True the previous spikes enter both gates detached, so no gradient flows back in time through
the gates (their weights still learn); the membrane's path keeps its gradient. Off by default,
as in their Moving MNIST configuration; their KTH and TaxiBJ configurations turn it on (the
``reference`` training recipe does).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edge_shm.graph.trace import Trace
from edge_shm.models.base import Capabilities, Predictor
from edge_shm.models.registry import register
from edge_shm.models.spatiotemporal import WINDOW, STConfig, patches, unpatch

V_TH = 1.0
ALPHA = 4.0


class SigmoidSpike(torch.autograd.Function):
    """Heaviside forward (x >= 0); sigmoid(alpha x)' backward (SpikingJelly's default)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(ALPHA * x)
        return grad * ALPHA * s * (1 - s)


def gates(cell, s):
    """The temporal and spatial autaptic gates of a cell given its previous spikes, in (0, 2)."""
    s = s.detach() if cell.gradient_detach else s
    return 1 + torch.tanh(cell.gn_h(cell.conv_h(s))), 1 + torch.tanh(cell.gn_v(cell.conv_v(s)))


def stclif_step(cell, x, v, s):
    """One STCLIF cell step: (input, membrane, previous spikes) -> (spikes, membrane, v_pre,
    input current)."""
    g_t, g_s = gates(cell, s)
    current = cell.gn_x(cell.conv_x(x)) * g_s
    v = v * g_t + current
    z = SigmoidSpike.apply(v - V_TH)
    return z, v - z, v, current


class STCLIFCell(nn.Module):
    def __init__(self, cin: int, nh: int, k: int, gradient_detach: bool = False):
        super().__init__()
        self.gradient_detach = gradient_detach
        groups = 16 if nh % 16 == 0 else 1
        norm = min(16, nh) if nh % min(16, nh) == 0 else 1
        self.conv_x = nn.Conv2d(cin, nh, k, padding=k // 2, bias=False)
        self.conv_h = nn.Conv2d(nh, nh, k, padding=k // 2, groups=groups, bias=False)
        self.conv_v = nn.Conv2d(nh, nh, k, padding=k // 2, groups=groups, bias=False)
        self.gn_x, self.gn_h, self.gn_v = (nn.GroupNorm(norm, nh) for _ in range(3))


@dataclass
class STCLIFConfig(STConfig):
    """``gradient_detach``: no gradient through the previous spikes into the gates."""

    PAPER = {"hidden": (256, 256, 256), "kernel": 5, "patch": 2}

    gradient_detach: bool = False


@register("stclif")
class STCLIF(Predictor):
    config_class = STCLIFConfig
    capabilities = Capabilities(spiking=True, targets=("onnx",))
    window = WINDOW
    gate_arithmetic = True

    def __init__(self, config: STCLIFConfig):
        super().__init__(config)
        p, hid, k = config.patch, config.hidden, config.kernel
        self.p, self.hp, self.wp = p, config.height // p, config.width // p
        ins = [p * p, *hid[:-1]]
        detach = config.gradient_detach
        self.cells = nn.ModuleList(
            STCLIFCell(i, h, k, detach) for i, h in zip(ins, hid, strict=True)
        )
        self.readout = nn.Conv2d(hid[-1], p * p, 1, bias=False)
        self.state_names = tuple(f"{s}{i}" for i in range(len(hid)) for s in ("v", "s"))

    def initial_state(self, batch=1, device=None):
        return tuple(
            torch.zeros(batch, h, self.hp, self.wp, device=device)
            for h in self.cfg.hidden
            for _ in "vs"
        )

    def thresholds(self) -> dict[str, float]:
        return {f"lif{i + 1}": V_TH for i in range(len(self.cfg.hidden))}

    def trace_step(self, frame, state):
        x, new, tr = patches(frame, self.p), [], Trace()
        for i, cell in enumerate(self.cells):
            z, v, v_pre, current = stclif_step(cell, x, state[2 * i], state[2 * i + 1])
            name = f"lif{i + 1}"
            tr.spikes[name], tr.v_pre[name], tr.currents[name] = z, v_pre, current
            tr.v_prev[name], tr.v[name] = state[2 * i], v
            new += [v, z]
            x = z
        return unpatch(self.readout(x), self.p), tuple(new), tr

    def step(self, frame, state):
        pred, state, _ = self.trace_step(frame, state)
        return pred, state
