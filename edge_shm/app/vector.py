"""Crack frames to vector graphics: the ``encode`` use case.

:func:`encode_vectors` checks the settings and outputs, reads the frames (an image, an image
folder, a ``.npy`` stack or a library), encodes every frame as polylines plus a 2x3 pixel-to-mm
transform, writes the crack-vector JSON document (and optionally an SVG drawing) atomically and
returns what was measured. Nothing here prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_shm import vector
from edge_shm.app.progress import Stages, quiet
from edge_shm.errors import UserError
from edge_shm.jsonio import dumps
from edge_shm.outputs import Output, has_suffix, plan_outputs, write_text


@dataclass(frozen=True)
class EncodeRequest:
    """What to encode and how.

    Attributes
    ----------
    frames : an image, image folder, ``.npy`` stack (..., rows, cols) or library ``.h5``.
    output : crack-vector JSON file to write.
    svg : SVG drawing of the polylines (mm) to write, or None. Of a stack (..., T, H, W) it
        draws the first T frames (the first sample's).
    tolerance : Douglas-Peucker simplification tolerance, px (>= 0).
    pixel_mm : pixel size, mm; None: a library's own, else :data:`vector.DEFAULT_PIXEL_MM`.
        A library refuses another one.
    threshold : crack where intensity > threshold, in [0, 1).
    min_size : speckle components below this are removed, px (>= 0).
    gap_px : skeleton pieces closer than this are joined, px (0: off).
    """

    frames: Path
    output: Path
    svg: Path | None = None
    tolerance: float = vector.TOLERANCE_PX
    pixel_mm: float | None = None
    threshold: float = vector.THRESHOLD
    min_size: int = vector.MIN_COMPONENT_PX
    gap_px: float = 0.0


@dataclass(frozen=True)
class EncodeResult:
    """The encoded stack and what was written.

    Attributes
    ----------
    source : the encoded input, as given.
    output : the JSON document written (:func:`vector.vectors_document`).
    svg : the SVG drawing written, or None.
    shape : shape of the encoded stack (..., H, W).
    pixel_mm : pixel size used, mm.
    summary : :func:`vector.summarize` of the stack (means over frames, units in the keys).
    geometries : one :class:`vector.CrackGeometry` per frame, C order (F = prod(shape[:-2])).
    encode_ms : (F,) encoding time per frame, ms.
    """

    source: Path
    output: Path
    svg: Path | None
    shape: tuple[int, ...]
    pixel_mm: float
    summary: dict
    geometries: list[vector.CrackGeometry]
    encode_ms: np.ndarray

    @property
    def mean_main_length_mm(self) -> float:
        """Mean over frames of the main crack length, mm (0 for an empty frame)."""
        return float(np.mean([vector.main_length_mm(g) for g in self.geometries]))

    @property
    def tip_mm(self) -> tuple[float, float] | None:
        """Tip position (x, y), mm, of a single encoded frame; None for a stack."""
        if len(self.geometries) != 1:
            return None
        x, y = vector.tip_mm(self.geometries[0])
        return float(x), float(y)


def encode_vectors(request: EncodeRequest, progress: Stages = quiet) -> EncodeResult:
    """Encode crack frames as polylines; write the JSON document (and SVG) atomically.

    Refused in one line (:class:`UserError`) before any work: a negative or non-finite
    tolerance or gap, a threshold outside [0, 1), a negative speckle size, an output that may
    not be written or replaced, a pixel size given for a library. ``progress`` sees one unit
    per frame.
    """
    r = request
    _check_settings(r)
    outputs = [Output(r.output, "crack-vector JSON file", same_kind=vector.is_vectors_file)]
    if r.svg is not None:
        outputs.append(Output(r.svg, "SVG drawing", same_kind=has_suffix(".svg")))
    plan_outputs(outputs, [r.frames])
    stack, lib_pixel_mm = vector.load_crack_frames(r.frames)
    pixel_mm = r.pixel_mm
    if lib_pixel_mm is not None:
        if pixel_mm is not None:
            raise UserError("--pixel-mm does not apply to a library: it stores its pixel size")
        pixel_mm = lib_pixel_mm
    pixel_mm = vector.DEFAULT_PIXEL_MM if pixel_mm is None else pixel_mm
    vector.pixel_transform((1, 1), pixel_mm)  # validates the pixel size
    settings = dict(
        threshold=r.threshold, min_size=r.min_size, tolerance=r.tolerance, gap_px=r.gap_px
    )
    with progress("encoding frames", int(np.prod(stack.shape[:-2]))) as advance:
        geoms, stats = vector.encode_stack(stack, pixel_mm, progress=advance, **settings)
    summary = vector.summarize(stats, stack.shape[-2:], pixel_mm)
    doc = vector.vectors_document(str(r.frames), stack.shape, pixel_mm, settings, summary, geoms)
    write_text(r.output, dumps(doc, indent=None) + "\n")
    if r.svg is not None:
        write_text(r.svg, vector.svg_text(geoms[: stack.shape[-3]] if stack.ndim > 2 else geoms))
    return EncodeResult(
        source=Path(r.frames),
        output=Path(r.output),
        svg=None if r.svg is None else Path(r.svg),
        shape=tuple(stack.shape),
        pixel_mm=pixel_mm,
        summary=summary,
        geometries=geoms,
        encode_ms=stats["encode_ms"],
    )


def _check_settings(r: EncodeRequest) -> None:
    if not (math.isfinite(r.tolerance) and r.tolerance >= 0):
        raise UserError(f"--tolerance must be a non-negative number of px, got {r.tolerance}")
    if not (math.isfinite(r.threshold) and 0 <= r.threshold < 1):
        raise UserError(f"--threshold must lie in [0, 1), got {r.threshold}")
    if r.min_size < 0:
        raise UserError(f"--min-size must be a non-negative number of px, got {r.min_size}")
    if not (math.isfinite(r.gap_px) and r.gap_px >= 0):
        raise UserError(f"--gap-px must be a non-negative number of px, got {r.gap_px}")
