"""Geometric comparison of crack frames: lengths, tips, Hausdorff distance (mm)."""

from __future__ import annotations

import numpy as np

from edge_shm.errors import UserError
from edge_shm.vector.encode import encode
from edge_shm.vector.geometry import (
    GAP_PX,
    MIN_COMPONENT_PX,
    THRESHOLD,
    TOLERANCE_PX,
    CrackGeometry,
)
from edge_shm.vector.measures import hausdorff, main_length_mm, sample_polylines, tip_mm
from edge_shm.vector.skeleton import check_frame


def compare_geometry(
    pred_frame: np.ndarray,
    true_frame: np.ndarray,
    pixel_mm: float,
    *,
    threshold: float = THRESHOLD,
    min_size: int = MIN_COMPONENT_PX,
    gap_px: float = GAP_PX,
    tolerance: float = TOLERANCE_PX,
) -> dict:
    """Geometric errors of a predicted crack frame against the true one.

    Both frames are encoded the same way (defaults as :func:`encode`, except ``gap_px`` =
    :data:`GAP_PX` = 6 px: skeleton pieces up to 6 px apart are joined, which bridges gaps of
    about 3 missing pixels in a 2-px-wide predicted crack, as the skeleton ends retreat about
    1 px on each side of a gap). Speckle components of fewer than ``min_size`` px are
    removed first.

    Parameters
    ----------
    pred_frame, true_frame : (H, W) intensities in [0, 1], crack bright.
    pixel_mm : pixel size, mm.

    Returns
    -------
    dict of floats: ``length_error_mm`` (absolute difference of the main-path lengths, mm),
    ``length_bias_mm`` (predicted minus true main-path length, mm), ``tip_error_mm`` (distance
    between the tips, mm), ``hausdorff_mm`` (symmetric Hausdorff distance between all polylines,
    mm), ``pred_length_mm`` and ``true_length_mm``. The four errors are NaN when either crack is
    empty (nothing above the threshold after speckle removal); an empty prediction never raises.
    """
    pred_frame, true_frame = check_frame(pred_frame), check_frame(true_frame)
    if pred_frame.shape != true_frame.shape:
        raise UserError(f"frame shapes differ: {pred_frame.shape} vs {true_frame.shape}")
    kw = dict(threshold=threshold, min_size=min_size, gap_px=gap_px, tolerance=tolerance)
    return compare_encoded(encode(pred_frame, pixel_mm, **kw), encode(true_frame, pixel_mm, **kw))


def encode_for_comparison(frame: np.ndarray, pixel_mm: float) -> CrackGeometry:
    """A frame encoded as :func:`compare_geometry` encodes it (gaps up to 6 px joined)."""
    return encode(frame, pixel_mm, gap_px=GAP_PX)


def compare_encoded(gp: CrackGeometry, gt: CrackGeometry, with_hausdorff: bool = True) -> dict:
    """:func:`compare_geometry` on two encoded cracks (the same pixel size); without the
    Hausdorff distance (NaN) when ``with_hausdorff`` is False (it is the slow part)."""
    pixel_mm = float(np.sqrt(abs(np.linalg.det(gt.transform[:, :2].astype(np.float64)))))
    lp, lt = main_length_mm(gp), main_length_mm(gt)
    nan = float("nan")
    if gp.is_empty or gt.is_empty:
        return {
            "length_error_mm": nan,
            "length_bias_mm": nan,
            "tip_error_mm": nan,
            "hausdorff_mm": nan,
            "pred_length_mm": lp,
            "true_length_mm": lt,
        }
    h = nan
    if with_hausdorff:
        sp = sample_polylines([gp.to_mm(p) for p in gp.polylines], 0.25 * pixel_mm)
        st = sample_polylines([gt.to_mm(p) for p in gt.polylines], 0.25 * pixel_mm)
        h = hausdorff(sp, st)
    return {
        "length_error_mm": abs(lp - lt),
        "length_bias_mm": lp - lt,
        "tip_error_mm": float(np.hypot(*(tip_mm(gp) - tip_mm(gt)))),
        "hausdorff_mm": h,
        "pred_length_mm": lp,
        "true_length_mm": lt,
    }
