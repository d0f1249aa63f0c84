"""Crack pixels -> skeleton -> ordered pixel paths (main path first), steps 1-6 of the encoder.

See :mod:`edge_shm.vector` for the conventions.
"""

from __future__ import annotations

import math

import numpy as np

from edge_shm.data.frames import check_frames
from edge_shm.vector.geometry import MIN_BRANCH_PX, MIN_COMPONENT_PX, THRESHOLD

_SQRT2 = math.sqrt(2.0)


def check_frame(frame: np.ndarray) -> np.ndarray:
    """Validate one frame (H, W): non-empty, real, finite, in [0, 1]; returns float32."""
    return check_frames(frame, "frame", ndim=2)


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
