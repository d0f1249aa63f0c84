"""The encoded crack: polylines in px plus the 2x3 pixel-to-mm transform, and the defaults."""

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
