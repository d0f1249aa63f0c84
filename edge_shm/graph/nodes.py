"""Nodes of the deployment graph: convolution, LIF population, fixed output operations.

Units: ``tau`` in seconds, voltages in the network's own (dimensionless) units; weights are
cross-correlation kernels (C_out, C_in / groups, kh, kw) as in torch and NIR; shapes are
(channels, rows, columns).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edge_shm.neuro.conv import conv_output_size, depth_to_space, pair
from edge_shm.neuro.lif import LIFParams

Shape = tuple[int, int, int]


@dataclass
class Conv:
    """A 2-D convolution (cross-correlation) with bias.

    Attributes
    ----------
    name : layer name (data, not code: backends never branch on it).
    weight : (C_out, C_in / groups, kh, kw) float32.
    bias : (C_out,) float32 or None.
    stride, padding, dilation : (rows, columns) in px.
    groups : channel groups.
    source : what it was lowered from, for people (``"Conv2d"``, ``"ConvTranspose2d"``).
    """

    name: str
    weight: np.ndarray
    bias: np.ndarray | None = None
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    source: str = "Conv2d"

    def __post_init__(self):
        self.weight = np.asarray(self.weight, np.float32)
        if self.bias is not None:
            self.bias = np.asarray(self.bias, np.float32).reshape(-1)
        self.stride, self.padding = pair(self.stride), pair(self.padding)
        self.dilation, self.groups = pair(self.dilation), int(self.groups)

    @property
    def kernel(self) -> tuple[int, int]:
        return int(self.weight.shape[2]), int(self.weight.shape[3])

    @property
    def c_in(self) -> int:
        return int(self.weight.shape[1]) * self.groups

    @property
    def c_out(self) -> int:
        return int(self.weight.shape[0])

    def out_shape(self, shape: Shape) -> Shape:
        h, w = (
            conv_output_size(
                shape[1 + a], self.kernel[a], self.stride[a], self.padding[a], self.dilation[a]
            )
            for a in (0, 1)
        )
        return self.c_out, h, w

    def is_same_stride1(self) -> bool:
        """Stride 1 with "same" padding: output pixel (i, j) sits at input pixel (i, j)."""
        return self.stride == (1, 1) and all(
            k % 2 == 1 and p == d * (k // 2)
            for k, p, d in zip(self.kernel, self.padding, self.dilation, strict=True)
        )


@dataclass
class LIF:
    """A population of leaky integrate-and-fire neurons (NIR's ``LIF``), one per input value.

    ``tau dv/dt = (v_leak - v) + r I``, spike when ``v > v_threshold``, then ``v = v_reset``;
    stepped by forward Euler with the graph's ``dt``. Parameters are scalars or arrays that
    broadcast to the population's shape (C, H, W).
    """

    name: str
    tau: float
    r: float = 1.0
    v_leak: float = 0.0
    v_threshold: float = 1.0
    v_reset: float = 0.0

    def params(self, dt: float) -> LIFParams:
        return LIFParams.from_continuous(
            self.tau, self.r, self.v_leak, self.v_threshold, self.v_reset, dt
        )

    def uniform(self) -> bool:
        """True when every parameter is one number for the whole population."""
        return all(
            np.ndim(v) == 0 or np.all(np.asarray(v) == np.asarray(v).flat[0])
            for v in (self.tau, self.r, self.v_leak, self.v_threshold, self.v_reset)
        )

    def scalar(self, key: str) -> float:
        v = np.asarray(getattr(self, key))
        return float(v.flat[0])


@dataclass
class DepthToSpace:
    """Output operation: (C r^2, H, W) -> (C, H r, W r) in torch's ``pixel_shuffle`` order.

    A fixed re-indexing of the readout, applied identically by every backend after the graph.
    """

    factor: int
    op: str = field(default="depth_to_space", init=False)

    def out_shape(self, shape: Shape) -> Shape:
        r = self.factor
        return shape[0] // (r * r), shape[1] * r, shape[2] * r

    def apply(self, x: np.ndarray, frame: np.ndarray) -> np.ndarray:
        return depth_to_space(x, self.factor)

    def to_dict(self) -> dict:
        return {"op": self.op, "factor": int(self.factor)}


@dataclass
class KeepCracked:
    """Output operation: ``frame + (1 - frame) * x``, what is cracked in the input frame stays
    cracked (a crack never heals); elsewhere the readout. Element-wise, needs the frame's
    shape (1, H, W)."""

    op: str = field(default="keep_cracked", init=False)

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    def apply(self, x: np.ndarray, frame: np.ndarray) -> np.ndarray:
        frame = np.asarray(frame, x.dtype)
        return frame + (1 - frame) * x

    def to_dict(self) -> dict:
        return {"op": self.op}


POST_OPS = {"depth_to_space": DepthToSpace, "keep_cracked": KeepCracked}


def post_op_from_dict(d: dict):
    """An output operation from its ``to_dict`` form; ValueError for an unknown one."""
    if not isinstance(d, dict) or d.get("op") not in POST_OPS:
        raise ValueError(f"unknown output operation {d!r}; known: {', '.join(POST_OPS)}")
    args = {k: v for k, v in d.items() if k != "op"}
    return POST_OPS[d["op"]](**args)
