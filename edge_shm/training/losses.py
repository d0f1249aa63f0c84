"""Losses per pixel: the paper's MSE and two band-weighted MSEs.

``weighted`` multiplies the squared error in a band around the crack by ``1 + crack_weight``:
the band is every pixel within ``BAND_PX`` (the base SNN's receptive field) of a crack pixel of
the target or of the last input frame. Cracks cover about 1 % of a frame, so plain MSE spends
most of its signal on the empty background; inside the band, false positives and false
negatives weigh the same, so the optimum is still the calibrated forecast.

``growth`` weighs the band around the crack's *growth* only (target pixels not cracked in the
last input frame, about 0.2 % of a frame): the part a forecaster that keeps what is cracked
must get right.

``crack_pixel_weight`` a (any loss) multiplies the squared error of true crack pixels by a. The
forecast that minimises the loss is then ``a p / (a p + 1 - p)`` for crack probability p, and
it exceeds 0.5 when p > 1 / (1 + a): a = 1 is the calibrated forecast, a = 2.5 draws a pixel as
crack from p = 0.29 on. A forecaster uncertain where the tip lands within a pixel or two keeps
each candidate pixel below 0.5 and draws the crack short at a = 1 (measured: -0.24 mm mean
length bias one frame ahead); a > 1 trades a little precision for the tip.
"""

from __future__ import annotations

import torch

BAND_PX = 4


def crack_band(target: torch.Tensor, last_input: torch.Tensor) -> torch.Tensor:
    """1 within ``BAND_PX`` pixels (Chebyshev) of a crack pixel of either frame, else 0."""
    crack = torch.maximum(target, last_input)
    return torch.nn.functional.max_pool2d(crack, 2 * BAND_PX + 1, stride=1, padding=BAND_PX)


def growth_band(target: torch.Tensor, last_input: torch.Tensor) -> torch.Tensor:
    """1 within ``BAND_PX`` pixels of a crack pixel of the target that the last input lacks."""
    grown = torch.clamp(target - last_input, min=0)
    return torch.nn.functional.max_pool2d(grown, 2 * BAND_PX + 1, stride=1, padding=BAND_PX)


def loss_fn(pred, target, last_input, cfg) -> torch.Tensor:
    """Per-pixel loss of a batch: pred, target, last_input (B, 1, H, W)."""
    err = (pred - target) ** 2
    if cfg.loss == "weighted":
        err = err * (1 + cfg.crack_weight * crack_band(target, last_input))
    elif cfg.loss == "growth":
        err = err * (1 + cfg.crack_weight * growth_band(target, last_input))
    a = getattr(cfg, "crack_pixel_weight", 1.0)
    if a != 1.0:
        err = err * (1 + (a - 1) * target)
    return err.mean()
