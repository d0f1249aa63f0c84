"""Vector-graphics crack encoder: a crack frame as polyline nodes plus a 2x3 transform, and back.

A crack image of 96 x 132 float32 pixels takes M_p = S(dtype) N_x N_y = 50,688 B; the same crack
as a polyline of N_n nodes (float32 row, column) plus the 2x3 affine transform from pixels to
millimetres takes M_v = 2 S(float32) N_n + T = 8 N_n + 24 B (the paper counts T = 24 B).

Encoding (:func:`encode`), in order:

1. binarise: a pixel is crack when its value is ``> threshold`` (default 0.5, frames are
   intensities in [0, 1] with the crack bright);
2. remove speckle: 8-connected components of fewer than ``min_size`` pixels (default
   :data:`MIN_COMPONENT_PX` = 10 px) are dropped;
3. skeletonize (``skimage.morphology.skeletonize``) and build the 8-connected skeleton graph
   (edge weights 1 px and sqrt(2) px); optionally bridge gaps: two skeleton components whose
   closest pixels lie within ``gap_px`` are joined by a straight edge there (off by default,
   on in :func:`compare_geometry` for model predictions);
5. the main path is the longest path (geodesic diameter, found by a double Dijkstra sweep) of the
   largest skeleton component (by skeleton pixel count). It is ordered from the crack mouth to the
   tip: the mouth is the end closest to the left image edge (column 0), because the library's
   cracks grow from the left edge; the other end is the tip;
6. side branches of the main component and every other component become extra polylines
   (``branches``), each starting at its junction with an already-traced path (other components:
   at their end closest to column 0). Spurs shorter than ``min_branch_px`` (default 3 px, the
   size of skeletonisation artefacts) are pruned and counted in ``pruned_branches``;
7. every path is simplified by Douglas-Peucker (``skimage.measure.approximate_polygon``) with
   ``tolerance`` pixels (default 0.5 px: every skeleton pixel lies within 0.5 px of the polyline
   and every polyline point within sqrt(0.5^2 + 0.5) = 0.87 px of a skeleton pixel).

Coordinates: nodes are stored in pixels (row, column), float32. The 2x3 transform ``A`` maps them
to millimetres: [x, y] = A @ [row, col, 1]. The default (:func:`pixel_transform`) puts x along the
columns from the left image edge and y up the rows from the bottom image edge, at pixel centres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from edge_shm.errors import UserError

THRESHOLD = 0.5
TOLERANCE_PX = 0.5
MIN_COMPONENT_PX = 10
MIN_BRANCH_PX = 3.0
GAP_PX = 6.0
TRANSFORM_BYTES = 24
FORMAT_NAME = "edge-shm-crack-geometry"
FORMAT_VERSION = 1

_SQRT2 = math.sqrt(2.0)


# --- data ----------------------------------------------------------------------------------------


def pixel_transform(
    shape: tuple[int, int], pixel_mm: float, origin_mm: tuple[float, float] = (0.0, 0.0)
) -> np.ndarray:
    """The 2x3 affine transform from pixel (row, col) to millimetres (x, y).

    Parameters
    ----------
    shape : (rows, cols) of the frame in pixels.
    pixel_mm : pixel size in mm.
    origin_mm : (x, y) in mm of the bottom-left corner of the frame.

    Returns
    -------
    (2, 3) float32: x = (col + 0.5) pixel_mm + x0, y = (rows - row - 0.5) pixel_mm + y0.
    """
    if not (pixel_mm > 0 and math.isfinite(pixel_mm)):
        raise UserError(f"pixel size must be a positive number of mm, got {pixel_mm}")
    rows = shape[0]
    x0, y0 = origin_mm
    return np.array(
        [[0.0, pixel_mm, 0.5 * pixel_mm + x0], [-pixel_mm, 0.0, (rows - 0.5) * pixel_mm + y0]],
        dtype=np.float32,
    )


@dataclass
class CrackGeometry:
    """A crack as polylines in pixel coordinates plus the transform to millimetres.

    Attributes
    ----------
    nodes : (N, 2) float32, px
        Main path (row, col) from the mouth to the tip; (0, 2) for an empty frame.
    branches : list of (M_i, 2) float32, px
        Side branches (starting at their junction) and the paths of smaller components.
    transform : (2, 3) float32
        Affine map [x, y] (mm) = transform @ [row, col, 1].
    shape : (rows, cols), px
        Size of the encoded frame.
    pruned_branches : int
        Number of skeleton spurs shorter than ``min_branch_px`` that were not kept.
    """

    nodes: np.ndarray
    branches: list[np.ndarray] = field(default_factory=list)
    transform: np.ndarray = field(default_factory=lambda: pixel_transform((1, 1), 1.0))
    shape: tuple[int, int] = (0, 0)
    pruned_branches: int = 0

    @property
    def is_empty(self) -> bool:
        return len(self.nodes) == 0

    @property
    def polylines(self) -> list[np.ndarray]:
        """The main path followed by the branches, (M, 2) px each."""
        return ([self.nodes] if len(self.nodes) else []) + list(self.branches)

    @property
    def n_nodes(self) -> int:
        """Nodes stored, main path plus branches."""
        return int(sum(len(p) for p in self.polylines))

    def to_mm(self, points_px: np.ndarray) -> np.ndarray:
        """(M, 2) row, col in px -> (M, 2) x, y in mm (float64)."""
        p = np.asarray(points_px, dtype=np.float64).reshape(-1, 2)
        a = self.transform.astype(np.float64)
        return p @ a[:, :2].T + a[:, 2]

    def to_dict(self) -> dict:
        """JSON-ready dict (float32 values written exactly as float64 numbers)."""
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "frame_shape_px": [int(s) for s in self.shape],
            "transform_px_to_mm": self.transform.astype(np.float32).tolist(),
            "nodes_px": self.nodes.astype(np.float32).tolist(),
            "branches_px": [b.astype(np.float32).tolist() for b in self.branches],
            "pruned_branches": int(self.pruned_branches),
        }

    @classmethod
    def from_dict(cls, d: dict) -> CrackGeometry:
        """Inverse of :meth:`to_dict`; raises :class:`UserError` on a malformed dict."""
        try:
            if d.get("format", FORMAT_NAME) != FORMAT_NAME:
                raise ValueError(f"format {d.get('format')!r}")
            return cls(
                nodes=_nodes(d["nodes_px"]),
                branches=[_nodes(b) for b in d.get("branches_px", [])],
                transform=np.asarray(d["transform_px_to_mm"], dtype=np.float32).reshape(2, 3),
                shape=tuple(int(s) for s in d["frame_shape_px"]),
                pruned_branches=int(d.get("pruned_branches", 0)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise UserError(f"not a crack geometry ({type(e).__name__}: {e})") from None


def _nodes(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).reshape(-1, 2)


# --- encoding ------------------------------------------------------------------------------------


def check_frame(frame: np.ndarray) -> np.ndarray:
    """Validate one frame: 2-D, non-empty, finite; returns it as a float array."""
    frame = np.asarray(frame)
    if frame.ndim != 2:
        raise UserError(f"a frame must have 2 dimensions (rows, cols), got shape {frame.shape}")
    if 0 in frame.shape:
        raise UserError(f"frame is empty: shape {frame.shape}")
    if not np.issubdtype(frame.dtype, np.number) and frame.dtype != bool:
        raise UserError(f"frame dtype {frame.dtype} is not numeric")
    if not np.all(np.isfinite(frame)):
        raise UserError("frame contains NaN or infinite values")
    return frame


def crack_skeleton(
    frame: np.ndarray, threshold: float = THRESHOLD, min_size: int = MIN_COMPONENT_PX
) -> np.ndarray:
    """Binarise, remove speckle and skeletonize (steps 1-3 of the module text).

    Parameters
    ----------
    frame : (H, W) intensities, crack bright.
    threshold : crack where ``frame > threshold``.
    min_size : 8-connected components with fewer pixels are removed, px.

    Returns
    -------
    (H, W) bool skeleton, 1 px wide.
    """
    from skimage.measure import label
    from skimage.morphology import skeletonize

    mask = check_frame(frame) > threshold
    if min_size > 1 and mask.any():
        lab = label(mask, connectivity=2)
        small = np.bincount(lab.ravel()) < min_size
        small[0] = False
        mask &= ~small[lab]
    return skeletonize(mask)


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


def _graph(coords: np.ndarray, shape: tuple[int, int]):
    """8-connected graph of skeleton pixels, edge weights in px (CSR, symmetric).

    A diagonal edge is left out when a pixel at the corner already joins its two ends, so that
    paths follow L-shaped corners instead of cutting them.
    """
    from scipy.sparse import coo_matrix

    index = np.full((shape[0] + 1, shape[1] + 2), -1, dtype=np.int64)  # padded: no wrap-around
    index[coords[:, 0], coords[:, 1]] = np.arange(len(coords))
    rows, cols, weights = [], [], []
    for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):  # each undirected pair once
        r, c = coords[:, 0] + dr, coords[:, 1] + dc
        j = index[r, c]
        if dr and dc:
            corner = (index[r, coords[:, 1]] >= 0) | (index[coords[:, 0], c] >= 0)
            j = np.where(corner, -1, j)
        i = np.flatnonzero(j >= 0)
        rows.append(i)
        cols.append(j[i])
        weights.append(np.full(len(i), _SQRT2 if dr and dc else 1.0))
    i, j, w = (np.concatenate(x) for x in (rows, cols, weights))
    n = len(coords)
    return coo_matrix((np.r_[w, w], (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()


def _farthest(graph, source: int, nodes: np.ndarray):
    """Geodesic distances from ``source`` over the sub-graph ``nodes``; farthest node and path."""
    from scipy.sparse.csgraph import dijkstra

    sub = graph[nodes][:, nodes]
    s = int(np.flatnonzero(nodes == source)[0])
    dist, pred = dijkstra(sub, indices=s, return_predecessors=True)
    dist[~np.isfinite(dist)] = -1.0
    far = int(np.argmax(dist))
    path = [far]
    while path[-1] != s:
        path.append(int(pred[path[-1]]))
    return nodes[far], float(dist[far]), nodes[np.array(path[::-1])]


def _link_gaps(graph, coords: np.ndarray, gap_px: float):
    """Join every two components whose closest pixels lie within ``gap_px`` by one edge there."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    _, comp = connected_components(graph, directed=False)
    pairs = cKDTree(coords).query_pairs(gap_px, output_type="ndarray")
    pairs = pairs[comp[pairs[:, 0]] != comp[pairs[:, 1]]]
    if len(pairs) == 0:
        return graph
    dist = np.hypot(*(coords[pairs[:, 0]] - coords[pairs[:, 1]]).T)
    best: dict[tuple[int, int], int] = {}
    for k in np.lexsort((pairs[:, 1], pairs[:, 0], dist)):  # closest first, ties by index
        key = tuple(sorted((int(comp[pairs[k, 0]]), int(comp[pairs[k, 1]]))))
        best.setdefault(key, k)
    k = np.array(sorted(best.values()))
    i, j, w = pairs[k, 0], pairs[k, 1], dist[k]
    links = coo_matrix((np.r_[w, w], (np.r_[i, j], np.r_[j, i])), shape=graph.shape)
    return (graph + links).tocsr()


def skeleton_paths(skeleton: np.ndarray, min_branch_px: float = MIN_BRANCH_PX, gap_px: float = 0.0):
    """Ordered pixel paths of a skeleton: main path first, then branches and other components.

    Parameters
    ----------
    skeleton : (H, W) bool, 1 px wide.
    min_branch_px : side spurs shorter than this geodesic length are pruned, px.
    gap_px : components whose closest pixels lie within this distance are joined, px.

    Returns
    -------
    paths : list of (M, 2) int arrays of (row, col), px; empty list for an empty skeleton.
    pruned : number of pruned spurs.
    """
    from scipy.sparse.csgraph import connected_components

    coords = np.argwhere(skeleton)
    if len(coords) == 0:
        return [], 0
    graph = _graph(coords, skeleton.shape)
    if gap_px > 0:
        graph = _link_gaps(graph, coords, gap_px)
    n_comp, comp = connected_components(graph, directed=False)
    order = np.argsort(-np.bincount(comp, minlength=n_comp), kind="stable")
    done = np.zeros(len(coords), dtype=bool)
    paths, pruned = [], 0
    for k in order:
        members = np.flatnonzero(comp == k)
        # longest path of the component: double sweep, oriented from the end nearest column 0
        a, _, _ = _farthest(graph, members[0], members)
        _, _, path = _farthest(graph, a, members)
        if coords[path[-1], 1] < coords[path[0], 1]:
            path = path[::-1]
        paths.append(path)
        done[path] = True
        # side branches: each remaining piece grows from its junction with a traced path
        while not done[members].all():
            rest = members[~done[members]]
            sub_n, sub_comp = connected_components(graph[rest][:, rest], directed=False)
            progressed = False
            for m in range(sub_n):
                piece = rest[sub_comp == m]
                touching = graph[piece][:, np.flatnonzero(done)].tocoo()
                if touching.nnz == 0:
                    continue
                junction = int(np.flatnonzero(done)[touching.col[0]])
                nodes = np.r_[junction, piece]
                _, length, branch = _farthest(graph, junction, nodes)
                if length < min_branch_px:
                    done[piece] = True
                    pruned += 1
                else:
                    paths.append(branch)
                    done[branch] = True
                progressed = True
            if not progressed:  # cannot happen in a connected component; guards the loop
                break
    return [coords[p] for p in paths], pruned


# --- decoding ------------------------------------------------------------------------------------


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


# --- measures ------------------------------------------------------------------------------------


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


# --- comparison ----------------------------------------------------------------------------------


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
    gp = encode(pred_frame, pixel_mm, **kw)
    gt = encode(true_frame, pixel_mm, **kw)
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
    sp = sample_polylines([gp.to_mm(p) for p in gp.polylines], 0.25 * pixel_mm)
    st = sample_polylines([gt.to_mm(p) for p in gt.polylines], 0.25 * pixel_mm)
    return {
        "length_error_mm": abs(lp - lt),
        "length_bias_mm": lp - lt,
        "tip_error_mm": float(np.hypot(*(tip_mm(gp) - tip_mm(gt)))),
        "hausdorff_mm": hausdorff(sp, st),
        "pred_length_mm": lp,
        "true_length_mm": lt,
    }


# --- stacks: loading, encoding with reconstruction errors, SVG ------------------------------------


def load_crack_frames(src) -> tuple[np.ndarray, float | None]:
    """Frames (..., H, W) and the pixel size (mm, None unless ``src`` is a library).

    Accepts one PNG/TIFF image (H, W), a folder of images (T, H, W, name order), a folder of
    sample sub-folders (N, T, H, W), a .npy array (any leading dimensions) or a library .h5
    (N, T, H, W). Raises :class:`UserError` naming the file for anything else, for fewer than 2
    dimensions, for NaN or infinite values and for values outside [0, 1].
    """
    from pathlib import Path

    import h5py

    from edge_shm.library import IMAGE_SUFFIXES, _read_image, load_frames_any, read_library

    src = Path(src)
    pixel_mm = None
    if not src.exists():
        raise UserError(f"{src}: no such file or folder")
    if src.is_dir():
        files = sorted(f for f in src.iterdir() if f.is_file() and not f.name.startswith("."))
        if files and not any(d.is_dir() for d in src.iterdir() if not d.name.startswith(".")):
            bad = [f for f in files if f.suffix.lower() not in IMAGE_SUFFIXES]
            if bad:
                raise UserError(f"{bad[0]}: not a PNG or TIFF image")
            images = [_read_image(f) for f in files]
            if len({im.shape for im in images}) > 1:
                raise UserError(f"{src}: mixed image sizes {sorted({im.shape for im in images})}")
            frames = np.stack(images)
        else:
            frames = load_frames_any(src)
    elif src.suffix.lower() in IMAGE_SUFFIXES:
        frames = _read_image(src)
    elif src.suffix.lower() == ".npy":
        frames = load_frames_any(src)
    elif src.suffix.lower() in {".h5", ".hdf5"} or h5py.is_hdf5(src):
        lib = read_library(src, load_physics=False)
        frames, pixel_mm = lib.frames, lib.pixel_mm
    else:
        raise UserError(f"{src}: not a PNG/TIFF image, .npy array, image folder or library .h5")
    frames = np.asarray(frames)
    if frames.ndim < 2:
        raise UserError(
            f"{src}: frames need at least 2 dimensions (..., rows, cols), got shape {frames.shape}"
        )
    if 0 in frames.shape:
        raise UserError(f"{src}: frames are empty: shape {frames.shape}")
    if not np.all(np.isfinite(frames)):
        raise UserError(f"{src}: frames contain NaN or infinite values")
    if frames.min() < 0 or frames.max() > 1:
        raise UserError(
            f"{src}: frames must lie in [0, 1], got [{frames.min():.3g}, {frames.max():.3g}]"
        )
    return frames.astype(np.float32, copy=False), pixel_mm


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


def svg_text(geometries: list[CrackGeometry]) -> str:
    """An SVG drawing, in mm, of the polylines of one or more geometries of the same frame size.

    Geometries are overlaid from light grey (first) to black (last), e.g. the frames of one
    growing crack; branches are drawn in red; the frame outline is drawn thin. y points up.
    """
    if not geometries:
        raise UserError("nothing to draw: no geometry")
    g0 = geometries[0]
    h, w = g0.shape
    corners = g0.to_mm(
        np.array([[-0.5, -0.5], [-0.5, w - 0.5], [h - 0.5, -0.5], [h - 0.5, w - 0.5]])
    )
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    px = float(np.sqrt(abs(np.linalg.det(g0.transform[:, :2].astype(np.float64)))))
    pad = 2 * px
    vb = f"{x0 - pad:.4f} {-y1 - pad:.4f} {x1 - x0 + 2 * pad:.4f} {y1 - y0 + 2 * pad:.4f}"
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{x1 - x0 + 2 * pad:.4f}mm" '
        f'height="{y1 - y0 + 2 * pad:.4f}mm" viewBox="{vb}">',
        "<desc>edge-shm crack polylines; coordinates in mm, x right, y up</desc>",
        '<g transform="scale(1,-1)" fill="none" stroke-linecap="round" '
        f'stroke-linejoin="round" stroke-width="{px:.4f}">',
        f'<rect x="{x0:.4f}" y="{y0:.4f}" width="{x1 - x0:.4f}" height="{y1 - y0:.4f}" '
        f'stroke="#999" stroke-width="{px / 4:.4f}"/>',
    ]
    n = len(geometries)
    for k, g in enumerate(geometries):
        grey = int(200 * (n - 1 - k) / max(n - 1, 1))
        for i, poly in enumerate(g.polylines):
            pts = " ".join(f"{x:.4f},{y:.4f}" for x, y in g.to_mm(poly))
            colour, what = (
                (f"rgb({grey},{grey},{grey})", "main path") if i == 0 else ("#d62728", "branch")
            )
            length = polyline_length(g.to_mm(poly))
            lines.append(
                f'<polyline points="{pts}" stroke="{colour}"><title>frame {k}, {what}, '
                f"{length:.3f} mm</title></polyline>"
            )
    lines += ["</g>", "</svg>", ""]
    return "\n".join(lines)
