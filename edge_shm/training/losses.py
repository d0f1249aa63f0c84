"""Losses per pixel: the paper's MSE and a crack-band weighted MSE.

``weighted`` multiplies the squared error in a band around the crack by ``1 + crack_weight``:
the band is every pixel within ``BAND_PX`` (the base SNN's receptive field) of a crack pixel of
the target or of the last input frame. Cracks cover about 1 % of a frame, so plain MSE spends
most of its signal on the empty background; inside the band, false positives and false
negatives weigh the same, so the optimum is still the calibrated forecast.
"""

from __future__ import annotations

import torch

BAND_PX = 4


def crack_band(target: torch.Tensor, last_input: torch.Tensor) -> torch.Tensor:
    """1 within ``BAND_PX`` pixels (Chebyshev) of a crack pixel of either frame, else 0."""
    crack = torch.maximum(target, last_input)
    return torch.nn.functional.max_pool2d(crack, 2 * BAND_PX + 1, stride=1, padding=BAND_PX)


def loss_fn(pred, target, last_input, cfg) -> torch.Tensor:
    """Per-pixel loss of a batch: pred, target, last_input (B, 1, H, W)."""
    err = (pred - target) ** 2
    if cfg.loss == "weighted":
        err = err * (1 + cfg.crack_weight * crack_band(target, last_input))
    return err.mean()
