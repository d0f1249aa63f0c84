"""The crack as the pictures show it, and whether it has left the view.

A forecast frame is measured on the pixels ``forecast.png``, ``forecast.gif`` and the dashboard
draw (forecast > 0.5). The vector encoder alone joins skeleton pieces up to 6 px apart, but the
skeleton of a wide forecast blob ends several pixels short of its rim, so a gap of one missing
pixel between two wide pieces can stop its main path: the length then covers part of what the
picture shows. :func:`bridge_gaps` first joins the pieces of the thresholded map whose nearest
pixels lie within :data:`BRIDGE_PX` by a straight 1-px line, and the encoder reads that map.

A crack whose tip lies within :data:`EDGE_PX` of the view's border in its growth direction (the
far edge, opposite the mouth; or the top or bottom edge the tip heads for) has left the view:
its measured length is a lower bound, and so is every length or remaining life computed from it.
"""

from __future__ import annotations

import numpy as np

EDGE_PX = 2  # a tip this close to the border (px) has left the view
BRIDGE_PX = 6.0  # pieces of a forecast crack this close (px, nearest pixels) are one crack
THRESHOLD = 0.5  # what the pictures draw (edge_shm.onsite.render) and the encoder reads


def bridge_gaps(mask: np.ndarray, gap_px: float = BRIDGE_PX) -> np.ndarray:
    """(H, W) bool crack map with its 8-connected pieces whose nearest pixels lie within
    ``gap_px`` joined by straight 1-px lines (the closest pair of pixels of each joined pair
    of pieces, nearest first, no piece joined twice to the same group)."""
    from scipy.ndimage import binary_erosion
    from scipy.spatial import cKDTree
    from skimage.draw import line
    from skimage.measure import label

    mask = np.asarray(mask, dtype=bool)
    lab, n = label(mask, connectivity=2, return_num=True)
    if n < 2:
        return mask
    rim = mask & ~binary_erosion(mask)  # the nearest pixels of two pieces lie on their rims
    coords = np.argwhere(rim)
    comp = lab[coords[:, 0], coords[:, 1]]
    pairs = cKDTree(coords).query_pairs(gap_px, output_type="ndarray")
    if len(pairs) == 0:
        return mask
    pairs = pairs[comp[pairs[:, 0]] != comp[pairs[:, 1]]]
    dist = np.hypot(*(coords[pairs[:, 0]] - coords[pairs[:, 1]]).T)
    group = list(range(n + 1))  # union-find over the pieces

    def root(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    out = mask.copy()
    for k in np.lexsort((pairs[:, 1], pairs[:, 0], dist)):  # nearest first, ties by index
        i, j = pairs[k]
        a, b = root(int(comp[i])), root(int(comp[j]))
        if a == b:
            continue
        group[a] = b
        rr, cc = line(*coords[i], *coords[j])
        out[rr, cc] = True
    return out


def left_view(nodes_px: np.ndarray, shape: tuple[int, int], edge_px: int = EDGE_PX) -> bool:
    """Whether a main path (row, col nodes, mouth to tip, mouth on the left) ends within
    ``edge_px`` of the far edge, or of the top or bottom edge while heading for it."""
    nodes = np.asarray(nodes_px, dtype=np.float64).reshape(-1, 2)
    if len(nodes) == 0:
        return False
    rows, cols = shape
    (r, c), step = nodes[-1], nodes[-1] - nodes[-2] if len(nodes) > 1 else np.zeros(2)
    if c >= cols - 1 - edge_px and step[1] >= 0:
        return True
    return bool((r <= edge_px and step[0] < 0) or (r >= rows - 1 - edge_px and step[0] > 0))


def measure(
    frame: np.ndarray, pixel_mm: float, a_offset_mm: float = 0.0, *, bridge: bool = False
) -> dict:
    """The crack in a frame, from the vector encoder as ``evaluate`` encodes it (skeleton gaps
    up to 6 px joined; with ``bridge`` the pieces of the thresholded map within
    :data:`BRIDGE_PX` joined first): projected length ``a_mm`` (tip x from the frame's left
    edge + offset), path length, tip, polyline and kink angles, all in mm, and ``left_view``."""
    from edge_shm.vector.compare import encode_for_comparison
    from edge_shm.vector.measures import kink_angles_deg, main_length_mm, tip_mm

    frame = np.asarray(frame, dtype=np.float32)
    if bridge:
        frame = bridge_gaps(frame > THRESHOLD).astype(np.float32)
    g = encode_for_comparison(frame, pixel_mm)
    if g.is_empty:
        return {"crack": False}
    pts = g.to_mm(g.nodes)
    return {
        "crack": True,
        "a_mm": float(tip_mm(g)[0]) + a_offset_mm,
        "length_mm": main_length_mm(g),
        "tip_mm": [float(v) for v in tip_mm(g)],
        "polyline_mm": np.round(pts, 4).tolist(),
        "kink_angles_deg": np.round(kink_angles_deg(pts), 2).tolist(),
        "left_view": left_view(g.nodes, frame.shape),
    }


def view_a_mm(shape: tuple[int, int], pixel_mm: float, a_offset_mm: float = 0.0) -> float:
    """The crack length a at the view's far edge: its width plus the offset, mm."""
    return float(shape[1] * pixel_mm + a_offset_mm)


def lower_bound(geom: dict, view_a: float | None, pixel_mm: float) -> float | None:
    """What a crack that left the view is at least: the view's far edge when it left there,
    else its measured a (None for a crack in the view or none)."""
    a = geom.get("a_mm")
    if not geom.get("left_view") or a is None:
        return None
    if view_a is not None and a >= view_a - (EDGE_PX + 1) * pixel_mm:
        return max(a, view_a)
    return a


def a_text(geom: dict, view_a: float | None, pixel_mm: float, unit: str = "") -> str:
    """a for a person: its value, ``beyond the view (>= X)`` when the crack left the view,
    ``n/a`` without a crack."""
    low = lower_bound(geom, view_a, pixel_mm)
    if low is not None:
        return f"beyond the view (>= {low:.3g}{unit})"
    a = geom.get("a_mm")
    return "n/a" if a is None else f"{a:.3g}{unit}"
