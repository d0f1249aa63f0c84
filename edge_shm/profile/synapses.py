"""Synaptic operation counts of one layer call: exact fan-out of nonzero inputs (torch).

See :mod:`edge_shm.profile.counts` for the conventions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SYNAPTIC = {
    "linear": (0, None),
    "conv1d": (1, False),
    "conv2d": (2, False),
    "conv3d": (3, False),
    "conv_transpose1d": (1, True),
    "conv_transpose2d": (2, True),
    "conv_transpose3d": (3, True),
}
CONV_ARGS = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
CONVT_ARGS = (
    "input",
    "weight",
    "bias",
    "stride",
    "padding",
    "output_padding",
    "groups",
    "dilation",
)


def storage(t: torch.Tensor) -> int:
    """Identity of a tensor's memory: views (reshape, flatten) of a spike tensor stay spikes."""
    return t.untyped_storage().data_ptr()


def bind(names, args, kwargs) -> dict:
    bound = dict(zip(names, args, strict=False))
    bound.update(kwargs)
    return bound


def fanout_count(
    x: torch.Tensor, weight: torch.Tensor, dims: int, transposed: bool, bound: dict
) -> float:
    """Sum over nonzero entries of x of the number of outputs each one reaches (exact)."""
    groups = int(bound.get("groups", 1) or 1)
    b, c_in = x.shape[0], x.shape[1]
    spatial = x.shape[2:]
    # float32 is exact here: every entry is an integer below 2**24
    nz = (x != 0).to(torch.float32).reshape(b, groups, c_in // groups, *spatial).sum(2)
    k = tuple(weight.shape[2:])
    ones = torch.ones((groups, 1, *k), dtype=torch.float32, device=x.device)
    kw = {"stride": bound.get("stride", 1), "groups": groups}
    if "dilation" in bound:
        kw["dilation"] = bound["dilation"]
    if transposed:
        c_out = weight.shape[1] * groups
        fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[dims]
        kw["padding"] = bound.get("padding", 0)
        kw["output_padding"] = bound.get("output_padding", 0)
    else:
        c_out = weight.shape[0]
        fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[dims]
        kw["padding"] = bound.get("padding", 0)
    reach = fn(nz, ones, **kw)  # (B, groups, *out): per output, nonzero inputs feeding it
    return float(reach.sum(dtype=torch.float64)) * (c_out // groups)


def connection_sparsity(model: nn.Module) -> float:
    """NeuroBench ConnectionSparsity: zero weights / all weights of connection layers."""
    zeros = total = 0
    for mod in model.modules():
        if isinstance(
            mod,
            (
                nn.Linear,
                nn.Conv1d,
                nn.Conv2d,
                nn.Conv3d,
                nn.ConvTranspose1d,
                nn.ConvTranspose2d,
                nn.ConvTranspose3d,
                nn.LSTM,
                nn.RNN,
            ),
        ):
            for pname, p in mod.named_parameters(recurse=False):
                if "weight" in pname:
                    zeros += int((p == 0).sum())
                    total += p.numel()
    return zeros / total if total else 0.0
