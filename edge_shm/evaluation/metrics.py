"""Pixel metrics of forecasts: MAE (paper eq. 8), crack precision/recall/F1, thickness.

Frames are intensities in [0, 1]; crack pixels are those above ``CRACK_THRESHOLD``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CRACK_THRESHOLD = 0.5


def mae(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean absolute error per pixel, the paper's eq. (8): sum |y - y_hat| / (N_x N_y N)."""
    return float(np.abs(np.asarray(pred, np.float64) - np.asarray(true, np.float64)).mean())


@dataclass
class CrackScores:
    """Pooled crack-pixel precision, recall and F1 (unit 1) and the MAE (unit 1) of a forecast."""

    mae: float
    precision: float
    recall: float
    f1: float


def crack_scores(pred: np.ndarray, true: np.ndarray, threshold: float = CRACK_THRESHOLD):
    """Precision, recall and F1 of crack pixels (pixels above ``threshold``), pooled."""
    p, t = np.asarray(pred) > threshold, np.asarray(true) > threshold
    tp = int(np.sum(p & t))
    fp, fn = int(np.sum(p & ~t)), int(np.sum(~p & t))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def scores(pred: np.ndarray, true: np.ndarray) -> CrackScores:
    return CrackScores(mae(pred, true), *crack_scores(pred, true))


def crack_thickness_px(frames: np.ndarray, threshold: float = CRACK_THRESHOLD) -> float:
    """Mean crack thickness in pixels: crack area / skeleton length, over frames with a crack."""
    from skimage.morphology import skeletonize

    values = []
    for f in np.asarray(frames).reshape(-1, *np.shape(frames)[-2:]):
        b = f > threshold
        if b.any():
            values.append(b.sum() / max(1, skeletonize(b).sum()))
    return float(np.mean(values)) if values else float("nan")


def crack_map(pred: np.ndarray, threshold: float = CRACK_THRESHOLD) -> np.ndarray:
    """Binary crack map of a forecast: 1 where the prediction exceeds ``threshold``."""
    return (np.asarray(pred) > threshold).astype(np.float32)
