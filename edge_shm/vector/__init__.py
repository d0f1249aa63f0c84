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
4. the main path is the longest path (geodesic diameter, found by a double Dijkstra sweep) of the
   largest skeleton component (by skeleton pixel count). It is ordered from the crack mouth to the
   tip: the mouth is the end closest to the left image edge (column 0), because the library's
   cracks grow from the left edge; the other end is the tip;
5. side branches of the main component and every other component become extra polylines
   (``branches``), each starting at its junction with an already-traced path (other components:
   at their end closest to column 0). Spurs shorter than ``min_branch_px`` (default 3 px, the
   size of skeletonisation artefacts) are pruned and counted in ``pruned_branches``;
6. every path is simplified by Douglas-Peucker (``skimage.measure.approximate_polygon``) with
   ``tolerance`` pixels (default 0.5 px: every skeleton pixel lies within 0.5 px of the polyline
   and every polyline point within sqrt(0.5^2 + 0.5) = 0.87 px of a skeleton pixel).

Coordinates: nodes are stored in pixels (row, column), float32. The 2x3 transform ``A`` maps them
to millimetres: [x, y] = A @ [row, col, 1]. The default (:func:`pixel_transform`) puts x along the
columns from the left image edge and y up the rows from the bottom image edge, at pixel centres.

Files: :func:`load_crack_frames` reads frames (images, folders, ``.npy``, libraries);
:func:`vectors_document` is the JSON document ``edge-shm encode`` writes (format
``edge-shm-crack-vectors`` 1: every frame's geometry and measures, the settings, a summary).
"""

from edge_shm.vector.compare import compare_encoded, compare_geometry, encode_for_comparison
from edge_shm.vector.encode import decode, encode, encode_skeleton, encode_stack, summarize
from edge_shm.vector.geometry import (
    FORMAT_NAME,
    FORMAT_VERSION,
    GAP_PX,
    MIN_BRANCH_PX,
    MIN_COMPONENT_PX,
    THRESHOLD,
    TOLERANCE_PX,
    TRANSFORM_BYTES,
    CrackGeometry,
    pixel_transform,
)
from edge_shm.vector.io import (
    DEFAULT_PIXEL_MM,
    VECTORS_FORMAT,
    VECTORS_FORMAT_VERSION,
    is_vectors_file,
    load_crack_frames,
    vectors_document,
)
from edge_shm.vector.measures import (
    hausdorff,
    kink_angles_deg,
    main_length_mm,
    measures,
    mouth_mm,
    pixel_bytes,
    polyline_length,
    sample_polylines,
    skeleton_hausdorff_px,
    tip_mm,
    total_length_mm,
    vector_bytes,
)
from edge_shm.vector.skeleton import check_frame, crack_skeleton, skeleton_paths
from edge_shm.vector.svg import svg_text

__all__ = [
    "DEFAULT_PIXEL_MM",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "GAP_PX",
    "MIN_BRANCH_PX",
    "MIN_COMPONENT_PX",
    "THRESHOLD",
    "TOLERANCE_PX",
    "TRANSFORM_BYTES",
    "VECTORS_FORMAT",
    "VECTORS_FORMAT_VERSION",
    "CrackGeometry",
    "check_frame",
    "compare_encoded",
    "encode_for_comparison",
    "compare_geometry",
    "crack_skeleton",
    "decode",
    "encode",
    "encode_skeleton",
    "encode_stack",
    "hausdorff",
    "is_vectors_file",
    "kink_angles_deg",
    "load_crack_frames",
    "main_length_mm",
    "measures",
    "mouth_mm",
    "pixel_bytes",
    "pixel_transform",
    "polyline_length",
    "sample_polylines",
    "skeleton_hausdorff_px",
    "skeleton_paths",
    "summarize",
    "svg_text",
    "tip_mm",
    "total_length_mm",
    "vector_bytes",
    "vectors_document",
]
