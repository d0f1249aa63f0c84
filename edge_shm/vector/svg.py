"""An SVG drawing of encoded cracks, in mm."""

from __future__ import annotations

import numpy as np

from edge_shm.errors import UserError
from edge_shm.vector.geometry import CrackGeometry
from edge_shm.vector.measures import polyline_length


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
