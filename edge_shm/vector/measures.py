"""Measures of an encoded crack: lengths, tip and mouth (mm), kink angles, bytes."""

from __future__ import annotations

import math

import numpy as np

from edge_shm.vector.geometry import TRANSFORM_BYTES, CrackGeometry


def pixel_bytes(shape: tuple[int, int], dtype=np.float32) -> int:
    """Paper's M_p = S(dtype) N_x N_y, bytes of a frame stored as pixels."""
    return int(np.dtype(dtype).itemsize * shape[0] * shape[1])


def vector_bytes(n_nodes: int) -> int:
    """Paper's M_v = 2 S(float32) N_n + T, T = 24 B for the 2x3 transform."""
    return int(2 * np.dtype(np.float32).itemsize * n_nodes + TRANSFORM_BYTES)


def polyline_length(points: np.ndarray) -> float:
    """Length of a (M, 2) polyline in the units of its coordinates (0 for M < 2)."""
    p = np.asarray(points, dtype=np.float64)
    return float(np.hypot(*np.diff(p, axis=0).T).sum()) if len(p) > 1 else 0.0


def kink_angles_deg(points_mm: np.ndarray) -> np.ndarray:
    """Signed turning angle at every interior node of a (M, 2) x, y polyline, degrees.

    Positive is counter-clockwise (x right, y up); returns (max(M - 2, 0),).
    """
    d = np.diff(np.asarray(points_mm, dtype=np.float64), axis=0)
    if len(d) < 2:
        return np.zeros(0)
    a, b = d[:-1], d[1:]
    cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    return np.degrees(np.arctan2(cross, (a * b).sum(axis=1)))


def main_length_mm(g: CrackGeometry) -> float:
    """Length of the main path, mouth to tip, mm (0 for an empty geometry)."""
    return polyline_length(g.to_mm(g.nodes))


def total_length_mm(g: CrackGeometry) -> float:
    """Length of the main path plus every branch, mm."""
    return float(sum(polyline_length(g.to_mm(p)) for p in g.polylines))


def tip_mm(g: CrackGeometry) -> np.ndarray:
    """(x, y) of the tip (last main node), mm; (NaN, NaN) for an empty geometry."""
    return g.to_mm(g.nodes[-1:])[0] if len(g.nodes) else np.full(2, np.nan)


def mouth_mm(g: CrackGeometry) -> np.ndarray:
    """(x, y) of the mouth (first main node), mm; (NaN, NaN) for an empty geometry."""
    return g.to_mm(g.nodes[:1])[0] if len(g.nodes) else np.full(2, np.nan)


def measures(g: CrackGeometry, pixel_dtype=np.float32) -> dict:
    """Geometric measures with the unit in every key."""
    kinks = kink_angles_deg(g.to_mm(g.nodes))
    mp, mv = pixel_bytes(g.shape, pixel_dtype), vector_bytes(g.n_nodes)
    return {
        "main_length_mm": main_length_mm(g),
        "total_length_mm": total_length_mm(g),
        "mouth_mm": mouth_mm(g).tolist(),
        "tip_mm": tip_mm(g).tolist(),
        "kink_angles_deg": kinks.tolist(),
        "max_abs_kink_deg": float(np.abs(kinks).max()) if len(kinks) else 0.0,
        "nodes_count": g.n_nodes,
        "main_nodes_count": len(g.nodes),
        "branches_count": len(g.branches),
        "pruned_branches_count": g.pruned_branches,
        "vector_bytes_B": mv,
        "pixel_bytes_B": mp,
        "compression_ratio_x": mp / mv,
    }


def sample_polylines(polylines: list[np.ndarray], step: float = 0.25) -> np.ndarray:
    """Points every <= ``step`` along each polyline (same units), (K, 2); (0, 2) if none."""
    out = []
    for p in polylines:
        p = np.asarray(p, dtype=np.float64).reshape(-1, 2)
        if len(p) == 1:
            out.append(p)
        for a, b in zip(p[:-1], p[1:], strict=True):
            n = max(int(np.ceil(np.hypot(*(b - a)) / step)), 1)
            out.append(a + np.linspace(0.0, 1.0, n + 1)[:, None] * (b - a))
    return np.concatenate(out) if out else np.zeros((0, 2))


def hausdorff(points_a: np.ndarray, points_b: np.ndarray) -> float:
    """Symmetric Hausdorff distance of two (K, 2) point sets; 0 if both empty, inf if one is."""
    from scipy.spatial.distance import directed_hausdorff

    if len(points_a) == 0 or len(points_b) == 0:
        return 0.0 if len(points_a) == len(points_b) else math.inf
    return float(
        max(directed_hausdorff(points_a, points_b)[0], directed_hausdorff(points_b, points_a)[0])
    )


def skeleton_hausdorff_px(skeleton: np.ndarray, g: CrackGeometry) -> float:
    """Hausdorff distance between skeleton pixels and the polylines (sampled every 0.25 px), px."""
    return hausdorff(np.argwhere(skeleton).astype(np.float64), sample_polylines(g.polylines))
