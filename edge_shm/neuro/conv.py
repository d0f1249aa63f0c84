"""2-D convolution in numpy, its layouts, and the fixed re-indexings used around networks.

Conventions (those of torch and NIR): a convolution is a cross-correlation with weight
(C_out, C_in / groups, kh, kw), zero padding ``(ph, pw)``, ``stride`` and ``dilation`` per axis
(rows, columns), on arrays (B, C, H, W).
"""

from __future__ import annotations

import numpy as np

Pair = tuple[int, int]


def pair(v) -> Pair:
    """An int or a 1- or 2-sequence as (rows, columns)."""
    if np.isscalar(v):
        return int(v), int(v)
    v = [int(x) for x in np.asarray(v).ravel()]
    return (v[0], v[0]) if len(v) == 1 else (v[0], v[1])


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Output length of one axis: floor((size + 2 p - d (k - 1) - 1) / s) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1) -> np.ndarray:
    """x (B, C_in, H, W) -> (B, C_out, H', W'), cross-correlation (dtype of ``x``)."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    c_out, c_in_g, kh, kw = weight.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    win = np.lib.stride_tricks.sliding_window_view(xp, span, axis=(2, 3))
    win = win[:, :, ::sh, ::sw, ::dh, ::dw]  # (B, C_in, H', W', kh, kw)
    w = np.asarray(weight, x.dtype)
    outs = []
    g_out = c_out // groups
    for g in range(groups):
        part = win[:, g * c_in_g : (g + 1) * c_in_g]
        y = np.tensordot(part, w[g * g_out : (g + 1) * g_out], axes=([1, 4, 5], [1, 2, 3]))
        outs.append(y)  # (B, H', W', g_out)
    out = np.concatenate(outs, axis=-1).transpose(0, 3, 1, 2)
    if bias is not None:
        out = out + np.asarray(bias, x.dtype).reshape(1, -1, 1, 1)
    return out


def transposed_as_conv(weight: np.ndarray, padding) -> tuple[np.ndarray, Pair]:
    """A stride-1 transposed convolution (weight (C_in, C_out, kh, kw), padding p) as the
    equivalent convolution: kernel flipped in both spatial axes, channels swapped, padding
    ``k - 1 - p``."""
    w = np.ascontiguousarray(np.asarray(weight).transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    ph, pw = pair(padding)
    return w, (w.shape[2] - 1 - ph, w.shape[3] - 1 - pw)


def lava_kernel(weight: np.ndarray) -> np.ndarray:
    """Cross-correlation kernel (C_out, C_in, kh, kw) -> Lava ``Conv`` weight (C_out, W, H, C_in).

    Lava's Conv is a true convolution over (x = W, y = H): both spatial axes are flipped, then
    the axes are reordered.
    """
    return np.ascontiguousarray(np.asarray(weight)[:, :, ::-1, ::-1].transpose(0, 3, 2, 1))


def depth_to_space(x: np.ndarray, factor: int) -> np.ndarray:
    """(B, C r^2, H, W) -> (B, C, H r, W r), torch's ``pixel_shuffle`` order:
    ``out[b, c, h r + i, w r + j] = x[b, c r^2 + i r + j, h, w]``."""
    b, c, h, w = x.shape
    r = int(factor)
    return (
        x.reshape(b, c // (r * r), r, r, h, w)
        .transpose(0, 1, 4, 2, 5, 3)
        .reshape(b, c // (r * r), h * r, w * r)
    )
