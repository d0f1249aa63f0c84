"""Convolutional spiking networks as a chain: convolutions, LIF populations, output operations.

A subclass lists its layers once (``build_layers``: (name, module) pairs in signal order) and,
optionally, fixed output operations (``build_post``); the chain gives it the whole contract:
explicit state (one membrane per LIF layer, named ``v1, v2, ...``), ``step``, ``trace_step``,
``forward`` and ``lower`` (the deployment graph that ONNX, NIR, Lava and the device runtimes
consume). Layer names are the module attribute names, so weight files keep their keys.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from edge_shm.errors import UserError
from edge_shm.graph import DeploymentGraph, Trace
from edge_shm.models.base import Capabilities, Predictor
from edge_shm.models.lif import LIFBox
from edge_shm.models.lowering import lower_conv, lower_lif
from edge_shm.neuro.conv import conv_output_size

TORCH_POST = {
    "depth_to_space": lambda x, op, frame: F.pixel_shuffle(x, op.factor),
    "keep_cracked": lambda x, op, frame: frame + (1 - frame) * x,
}


def _out_shape(mod: nn.Module, shape: tuple[int, int, int]) -> tuple[int, int, int]:
    if isinstance(mod, nn.ConvTranspose2d):
        hw = [
            (shape[1 + a] - 1) * mod.stride[a]
            - 2 * mod.padding[a]
            + mod.dilation[a] * (mod.kernel_size[a] - 1)
            + mod.output_padding[a]
            + 1
            for a in (0, 1)
        ]
        return mod.out_channels, hw[0], hw[1]
    if isinstance(mod, nn.Conv2d):
        if mod.padding == "same":  # torch allows it with stride 1 only
            return mod.out_channels, shape[1], shape[2]
        pad = (0, 0) if mod.padding == "valid" else mod.padding
        hw = [
            conv_output_size(
                shape[1 + a], mod.kernel_size[a], mod.stride[a], pad[a], mod.dilation[a]
            )
            for a in (0, 1)
        ]
        return mod.out_channels, hw[0], hw[1]
    return shape


class SpikingChain(Predictor):
    """Base of convolutional LIF networks (see the module text)."""

    capabilities = Capabilities(spiking=True, targets=("onnx", "nir", "lava", "c"))

    def __init__(self, config):
        super().__init__(config)
        self.order: list[str] = []
        for name, module in self.build_layers(config):
            self.add_module(name, module)
            self.order.append(name)
        self.post = list(self.build_post(config))
        self.lif_names = [n for n in self.order if isinstance(getattr(self, n), LIFBox)]
        self.state_names = tuple(f"v{k + 1}" for k in range(len(self.lif_names)))
        shape, self.lif_shapes = (1, config.height, config.width), []
        for n in self.order:
            shape = _out_shape(getattr(self, n), shape)
            if n in self.lif_names:
                self.lif_shapes.append(shape)
        for op in self.post:
            shape = op.out_shape(shape)
        if tuple(shape) != (1, config.height, config.width):
            raise UserError(
                f"model {self.name!r}: its output is {tuple(shape)} for frames of "
                f"{config.height}x{config.width} px; it must be (1, {config.height}, "
                f"{config.width}) (for strided layers, frame sides must divide by the stride)"
            )

    def build_layers(self, config) -> list[tuple[str, nn.Module]]:
        raise NotImplementedError

    def build_post(self, config) -> list:
        return []

    def initial_state(self, batch: int = 1, device=None) -> tuple[torch.Tensor, ...]:
        device = device if device is not None else self.device
        return tuple(torch.zeros(batch, *s, device=device) for s in self.lif_shapes)

    def _run(self, frame: torch.Tensor, state: tuple, trace: Trace | None):
        x, new, k = frame, [], 0
        for name in self.order:
            layer = getattr(self, name)
            if isinstance(layer, LIFBox):
                v = state[k]
                z, v_new = layer(x, v)
                if trace is not None:
                    trace.spikes[name], trace.v_pre[name] = z, layer.v_pre(x, v)
                    trace.currents[name], trace.v_prev[name], trace.v[name] = x, v, v_new
                new.append(v_new)
                x, k = z, k + 1
            else:
                x = layer(x)
        for op in self.post:
            x = TORCH_POST[op.op](x, op, frame)
        return x, tuple(new)

    def step(self, frame: torch.Tensor, state: tuple):
        return self._run(frame, state, None)

    def trace_step(self, frame: torch.Tensor, state: tuple):
        trace = Trace()
        out, new = self._run(frame, state, trace)
        return out, new, trace

    def thresholds(self) -> dict[str, float]:
        """The spike threshold of every LIF layer, by name."""
        return {n: getattr(self, n).v_th for n in self.lif_names}

    def lower(self) -> DeploymentGraph:
        layers = []
        for name in self.order:
            mod = getattr(self, name)
            layers.append(
                lower_lif(name, mod) if isinstance(mod, LIFBox) else lower_conv(name, mod)
            )
        dts = {getattr(self, n).dt for n in self.lif_names}
        if len(dts) > 1:
            raise UserError(f"model {self.name!r}: its LIF layers use different time steps {dts}")
        return DeploymentGraph(
            model=self.name,
            input_shape=(1, self.height, self.width),
            layers=layers,
            dt=dts.pop() if dts else 1e-3,
            post=list(self.post),
            codec=None if self.codec is None else self.codec.to_dict(),
        )
