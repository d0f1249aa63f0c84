"""Encoding and decoding: a crack frame as polylines plus a 2x3 transform, and back.

See :mod:`edge_shm.vector` for the steps and conventions.
"""

from __future__ import annotations

import numpy as np

from edge_shm.errors import UserError
from edge_shm.vector.geometry import (
    MIN_BRANCH_PX,
    MIN_COMPONENT_PX,
    THRESHOLD,
    TOLERANCE_PX,
    CrackGeometry,
    pixel_transform,
)
from edge_shm.vector.measures import pixel_bytes, skeleton_hausdorff_px, vector_bytes
from edge_shm.vector.skeleton import check_frame, crack_skeleton, skeleton_paths


def encode(
    frame: np.ndarray,
    pixel_mm: float = 1.0,
    *,
    threshold: float = THRESHOLD,
    tolerance: float = TOLERANCE_PX,
    min_size: int = MIN_COMPONENT_PX,
    min_branch_px: float = MIN_BRANCH_PX,
    gap_px: float = 0.0,
    transform: np.ndarray | None = None,
) -> CrackGeometry:
    """Encode a crack frame as polylines (see the module text for the steps and conventions).

    Parameters
    ----------
    frame : (H, W) intensities in [0, 1], crack bright.
    pixel_mm : pixel size in mm (used for the default transform).
    threshold : binarisation threshold, crack where ``frame > threshold``.
    tolerance : Douglas-Peucker tolerance, px (0 keeps every skeleton pixel).
    min_size : speckle components with fewer pixels are removed, px.
    min_branch_px : side spurs shorter than this (geodesic length) are pruned, px.
    gap_px : skeleton components closer than this are joined across the gap (0: never), px.
    transform : (2, 3) px -> mm transform; default :func:`pixel_transform` (shape, pixel_mm).

    Returns
    -------
    CrackGeometry; empty (no nodes) when no crack pixel survives.
    """
    frame = check_frame(frame)
    skeleton = crack_skeleton(frame, threshold, min_size)
    return encode_skeleton(
        skeleton,
        pixel_mm,
        tolerance=tolerance,
        min_branch_px=min_branch_px,
        gap_px=gap_px,
        transform=transform,
    )


def encode_skeleton(
    skeleton: np.ndarray,
    pixel_mm: float = 1.0,
    *,
    tolerance: float = TOLERANCE_PX,
    min_branch_px: float = MIN_BRANCH_PX,
    gap_px: float = 0.0,
    transform: np.ndarray | None = None,
) -> CrackGeometry:
    """Steps 4-6 of :func:`encode` on a ready (H, W) bool skeleton."""
    skeleton = np.asarray(skeleton, dtype=bool)
    if transform is None:
        transform = pixel_transform(skeleton.shape, pixel_mm)
    transform = np.asarray(transform, dtype=np.float32).reshape(2, 3)
    paths, pruned = skeleton_paths(skeleton, min_branch_px, gap_px)
    simple = [_simplify(p, tolerance) for p in paths]
    empty = np.zeros((0, 2), dtype=np.float32)
    return CrackGeometry(
        nodes=simple[0] if simple else empty,
        branches=simple[1:],
        transform=transform,
        shape=tuple(int(s) for s in skeleton.shape),
        pruned_branches=pruned,
    )


def _simplify(path: np.ndarray, tolerance: float) -> np.ndarray:
    from skimage.measure import approximate_polygon

    path = path.astype(np.float64)
    if len(path) > 2 and tolerance > 0:
        path = approximate_polygon(path, tolerance)
    return path.astype(np.float32)


def decode(
    geometry: CrackGeometry, shape: tuple[int, int] | None = None, thickness: int = 1
) -> np.ndarray:
    """Draw the polylines back into a frame.

    Parameters
    ----------
    geometry : the encoded crack.
    shape : (rows, cols) of the output in px; default the encoded frame's shape.
    thickness : line width in px: 1 draws 8-connected 1-px lines (``skimage.draw.line``) between
        the rounded nodes; k > 1 widens them by a k x k square dilation (as the crack library
        draws its 2-px cracks).

    Returns
    -------
    (rows, cols) float32, crack 1, background 0; parts outside the frame are clipped.
    """
    from skimage.draw import line
    from skimage.morphology import dilation

    shape = tuple(geometry.shape if shape is None else shape)
    if len(shape) != 2 or min(shape) <= 0:
        raise UserError(f"decode needs a (rows, cols) shape, got {shape}")
    if thickness < 1:
        raise UserError(f"thickness must be at least 1 px, got {thickness}")
    img = np.zeros(shape, dtype=bool)
    for poly in geometry.polylines:
        rc = np.rint(poly).astype(np.int64)
        segments = zip(rc[:-1], rc[1:], strict=True) if len(rc) > 1 else [(rc[0], rc[0])]
        for (r0, c0), (r1, c1) in segments:
            rr, cc = line(r0, c0, r1, c1)
            ok = (rr >= 0) & (rr < shape[0]) & (cc >= 0) & (cc < shape[1])
            img[rr[ok], cc[ok]] = True
    if thickness > 1:
        img = dilation(img, np.ones((thickness, thickness), dtype=bool))
    return img.astype(np.float32)


def encode_stack(frames: np.ndarray, pixel_mm: float, progress=None, **kw):
    """Encode every (H, W) frame of a (..., H, W) stack and measure the reconstruction.

    Parameters
    ----------
    frames : (..., H, W) intensities in [0, 1].
    pixel_mm : pixel size, mm.
    progress : optional callable, called once per frame.
    **kw : ``threshold``, ``min_size``, ``tolerance``, ``min_branch_px``, ``gap_px`` of
        :func:`encode`.

    Returns
    -------
    geometries : list of CrackGeometry, frames in C order.
    stats : dict of (F,) arrays: ``nodes`` (count), ``vector_bytes`` (B), ``mae`` (mean absolute
        error per pixel of ``decode(g)`` against the encoded skeleton, 1), ``hausdorff_px``
        (skeleton vs polylines, px) and ``encode_ms`` (binarise to polylines, ms).
    """
    import time

    _import_all()  # so that the first frame's time excludes module imports
    sk_kw = {k: kw.pop(k) for k in ("threshold", "min_size") if k in kw}
    flat = frames.reshape(-1, *frames.shape[-2:])
    geoms, stats = (
        [],
        {k: [] for k in ("nodes", "vector_bytes", "mae", "hausdorff_px", "encode_ms")},
    )
    transform = pixel_transform(flat.shape[1:], pixel_mm)
    for frame in flat:
        t0 = time.perf_counter()
        skeleton = crack_skeleton(frame, **sk_kw)
        g = encode_skeleton(skeleton, pixel_mm, transform=transform, **kw)
        stats["encode_ms"].append(1e3 * (time.perf_counter() - t0))
        stats["nodes"].append(g.n_nodes)
        stats["vector_bytes"].append(vector_bytes(g.n_nodes))
        stats["mae"].append(float(np.abs(decode(g) - skeleton).mean()))
        stats["hausdorff_px"].append(skeleton_hausdorff_px(skeleton, g))
        geoms.append(g)
        if progress is not None:
            progress()
    return geoms, {k: np.asarray(v, dtype=float) for k, v in stats.items()}


def _import_all() -> None:
    import scipy.sparse.csgraph  # noqa: F401
    import scipy.spatial  # noqa: F401
    import skimage.draw  # noqa: F401
    import skimage.measure  # noqa: F401
    import skimage.morphology  # noqa: F401

    encode(np.ones((3, 12)))


def summarize(stats: dict, frame_shape: tuple[int, int], pixel_mm: float) -> dict:
    """Means over frames of :func:`encode_stack` stats, units in the keys.

    The compression ratio is M_p (float32) over the mean M_v.
    """
    mp = pixel_bytes(frame_shape)
    mean_mv = float(stats["vector_bytes"].mean())
    h = stats["hausdorff_px"][np.isfinite(stats["hausdorff_px"])]
    return {
        "frames_count": int(len(stats["nodes"])),
        "empty_frames_count": int((stats["nodes"] == 0).sum()),
        "mean_nodes_count": float(stats["nodes"].mean()),
        "mean_vector_bytes_B": mean_mv,
        "pixel_bytes_float32_B": mp,
        "compression_ratio_x": mp / mean_mv,
        "reconstruction_mae_1": float(stats["mae"].mean()),
        "mean_hausdorff_px": float(h.mean()) if len(h) else float("nan"),
        "mean_hausdorff_mm": float(h.mean()) * pixel_mm if len(h) else float("nan"),
        "max_hausdorff_px": float(h.max()) if len(h) else float("nan"),
    }
