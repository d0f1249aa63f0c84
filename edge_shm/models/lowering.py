"""Torch layers -> deployment-graph nodes: the only place where torch meets the graph.

- ``nn.Conv2d`` -> :class:`~edge_shm.graph.Conv` (cross-correlation, same weight layout);
  ``padding="same"`` becomes the explicit padding ``d (k - 1) / 2`` (odd kernels).
- stride-1 ``nn.ConvTranspose2d`` (weight (C_in, C_out, kh, kw), padding p, dilation d) -> the
  equivalent ``Conv``: kernel flipped in both spatial axes, channels swapped, padding
  ``d (k - 1) - p``. A strided transposed convolution has no such equivalent (NIR has no
  transposed or upsampling node): use a depth-to-space output operation instead.
- :class:`~edge_shm.models.lif.LIFBox` -> :class:`~edge_shm.graph.LIF` with
  ``tau = 1 / tau_mem_inv``, ``r = 1``: forward Euler with the graph's ``dt`` is the Norse step.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from edge_shm.errors import UserError
from edge_shm.graph import LIF, Conv
from edge_shm.models.lif import LIFBox


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32)


def lower_conv(name: str, mod: nn.Module) -> Conv:
    bias = None if mod.bias is None else _np(mod.bias)
    if isinstance(mod, nn.ConvTranspose2d):
        if mod.stride != (1, 1) or mod.output_padding != (0, 0) or mod.groups != 1:
            raise UserError(
                f"layer {name}: ConvTranspose2d with stride {mod.stride}, output padding "
                f"{mod.output_padding} or groups {mod.groups} has no convolution equivalent"
            )
        w = np.ascontiguousarray(_np(mod.weight).transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
        pad = tuple(
            d * (k - 1) - p
            for k, p, d in zip(mod.kernel_size, mod.padding, mod.dilation, strict=True)
        )
        return Conv(name, w, bias, 1, pad, mod.dilation, 1, source="ConvTranspose2d")
    if isinstance(mod, nn.Conv2d):
        pad = mod.padding
        if isinstance(pad, str):
            if pad == "valid":
                pad = (0, 0)
            elif all(k % 2 for k in mod.kernel_size):
                pad = tuple(
                    d * (k - 1) // 2 for k, d in zip(mod.kernel_size, mod.dilation, strict=True)
                )
            else:
                raise UserError(f"layer {name}: padding 'same' with an even kernel")
        if mod.padding_mode != "zeros":
            raise UserError(f"layer {name}: padding mode {mod.padding_mode!r} (zeros only)")
        return Conv(name, _np(mod.weight), bias, mod.stride, pad, mod.dilation, mod.groups)
    raise UserError(f"layer {name} ({type(mod).__name__}) has no deployment-graph equivalent")


def lower_lif(name: str, mod: LIFBox) -> LIF:
    p = mod.p
    return LIF(
        name,
        tau=mod.tau,
        r=1.0,
        v_leak=float(p.v_leak),
        v_threshold=float(p.v_th),
        v_reset=float(p.v_reset),
    )
