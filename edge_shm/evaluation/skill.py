"""Forecasting skill: what an engineer asks of a crack forecast, next to the naive forecasts.

For every forecast frame (H, W) against the true frame:

- **tip error** (mm): distance between the tips of the main paths of the two cracks, from the
  vector encoder (:func:`edge_shm.vector.compare_geometry`); **length error** (mm): absolute
  difference of the main-path lengths. A forecast without a crack has no tip: it is counted as
  *missing* and as an infinite error in the median and the 90th percentile (never dropped).
- **tolerant F1**: a predicted crack pixel is correct when a true crack pixel lies within
  ``tol_px`` (2 px, Euclidean), and a true crack pixel is found when a predicted one lies within
  ``tol_px``; precision, recall and F1 are pooled over all forecasts. A crack drawn 1 px to the
  side keeps F1 = 1, while the pixel F1 (exact overlap) and MAE punish it twice.
- **MAE** (paper eq. 8) of the raw forecast and of its crack map (> 0.5).

The **skill** of a forecast against copy-last is ``1 - error / error_copy_last`` (0: no better
than copying the last frame; 1: perfect; negative: worse).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_shm.evaluation.metrics import CRACK_THRESHOLD, crack_map, mae

TOLERANCE_PX = 2.0


def _within(mask: np.ndarray, tol_px: float) -> np.ndarray:
    """(N, H, W) bool: pixels within ``tol_px`` (Euclidean) of a True pixel of the same frame."""
    from scipy.ndimage import distance_transform_edt

    out = np.zeros(mask.shape, bool)
    for i, m in enumerate(mask):
        if m.any():
            out[i] = distance_transform_edt(~m) <= tol_px
    return out


def tolerant_f1(
    pred: np.ndarray,
    true: np.ndarray,
    tol_px: float = TOLERANCE_PX,
    threshold: float = CRACK_THRESHOLD,
) -> tuple[float, float, float]:
    """Tolerance-aware precision, recall, F1 of crack pixels, pooled over frames (N, H, W)."""
    p = np.asarray(pred).reshape(-1, *np.shape(pred)[-2:]) > threshold
    t = np.asarray(true).reshape(-1, *np.shape(true)[-2:]) > threshold
    hit_p = (p & _within(t, tol_px)).sum()
    hit_t = (t & _within(p, tol_px)).sum()
    precision = float(hit_p / p.sum()) if p.sum() else 0.0
    recall = float(hit_t / t.sum()) if t.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


@dataclass
class ErrorStats:
    """An error over forecasts (mm): mean over forecasts with a crack, median and 90th
    percentile with missing forecasts counted as infinite, and how many were missing."""

    mean: float
    median: float
    p90: float
    missing: int
    count: int

    @classmethod
    def of(cls, values: np.ndarray) -> ErrorStats:
        v = np.asarray(values, np.float64)
        ok = np.isfinite(v)
        filled = np.where(ok, v, np.inf)
        # no interpolation next to an infinity: the conservative neighbour instead
        method = "linear" if ok.all() else "higher"

        def q(p):
            return float(np.quantile(filled, p, method=method)) if len(v) else float("nan")

        return cls(
            mean=float(v[ok].mean()) if ok.any() else float("nan"),
            median=q(0.5),
            p90=q(0.9),
            missing=int((~ok).sum()),
            count=int(len(v)),
        )


@dataclass
class ForecastScores:
    """Every skill figure of one forecaster on one set of forecasts (units in the names)."""

    tip_error_mm: ErrorStats
    length_error_mm: ErrorStats
    tolerant_precision: float
    tolerant_recall: float
    tolerant_f1: float
    mae_raw: float
    mae_crack_map: float


def encode_all(frames: np.ndarray, pixel_mm: float) -> list:
    """Frames (N, H, W) encoded as the geometric comparison encodes them."""
    from edge_shm.vector import encode_for_comparison

    return [encode_for_comparison(f, pixel_mm) for f in frames]


def geometry_arrays(pred: np.ndarray, true_geoms: list, pixel_mm: float):
    """Per-forecast tip and length errors (mm), NaN where either frame has no crack."""
    from edge_shm.vector import compare_encoded

    rows = [
        compare_encoded(g, t, with_hausdorff=False)
        for g, t in zip(encode_all(pred, pixel_mm), true_geoms, strict=True)
    ]
    tips = np.array([r["tip_error_mm"] for r in rows], np.float64)
    lengths = np.array([r["length_error_mm"] for r in rows], np.float64)
    return tips, lengths


def forecast_scores(
    pred: np.ndarray, true: np.ndarray, pixel_mm: float, true_geoms: list | None = None
) -> ForecastScores:
    """All skill figures of forecasts ``pred`` (N, H, W, clipped to [0, 1]) against ``true``
    (its encodings ``true_geoms`` may be given, to encode the truth once for many forecasts)."""
    if true_geoms is None:
        true_geoms = encode_all(true, pixel_mm)
    tips, lengths = geometry_arrays(pred, true_geoms, pixel_mm)
    precision, recall, f1 = tolerant_f1(pred, true)
    return ForecastScores(
        tip_error_mm=ErrorStats.of(tips),
        length_error_mm=ErrorStats.of(lengths),
        tolerant_precision=precision,
        tolerant_recall=recall,
        tolerant_f1=f1,
        mae_raw=mae(pred, true),
        mae_crack_map=mae(crack_map(pred), true),
    )


def skill(error: float, reference: float) -> float:
    """1 - error / reference: 0 no better than the reference, 1 perfect, < 0 worse."""
    if not np.isfinite(error) or not np.isfinite(reference) or reference <= 0:
        return float("nan")
    return 1.0 - error / reference
