"""``edge-shm encode``: crack frames to polylines (JSON, optional SVG), with a summary table."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import typer

from edge_shm import vector as V
from edge_shm.console import out, progress_bar
from edge_shm.errors import UserError
from edge_shm.jsonio import dumps
from edge_shm.outputs import Output, has_suffix, plan_outputs, write_text

FORMAT_NAME = "edge-shm-crack-vectors"
FORMAT_VERSION = 1
DEFAULT_PIXEL_MM = 0.075


def encode(
    frames: Path = typer.Argument(
        ..., help="An image, image folder, .npy stack (..., rows, cols) or library .h5."
    ),
    output: Path = typer.Option(..., "-o", "--output", help="JSON file to write."),
    svg: Path = typer.Option(None, "--svg", help="SVG drawing of the polylines, in mm."),
    tolerance: float = typer.Option(V.TOLERANCE_PX, help="Simplification tolerance, px."),
    pixel_mm: float = typer.Option(
        None, help=f"Pixel size in mm (default {DEFAULT_PIXEL_MM}; a library sets its own)."
    ),
    threshold: float = typer.Option(V.THRESHOLD, help="Crack where intensity > threshold (1)."),
    min_size: int = typer.Option(V.MIN_COMPONENT_PX, help="Speckle below this is removed, px."),
    gap_px: float = typer.Option(0.0, help="Join skeleton pieces closer than this, px (0: off)."),
) -> None:
    """Encode crack frames as polylines plus a 2x3 pixel-to-mm transform (vector graphics)."""
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise UserError(f"--tolerance must be a non-negative number of px, got {tolerance}")
    if not (math.isfinite(threshold) and 0 <= threshold < 1):
        raise UserError(f"--threshold must lie in [0, 1), got {threshold}")
    if min_size < 0:
        raise UserError(f"--min-size must be a non-negative number of px, got {min_size}")
    if not (math.isfinite(gap_px) and gap_px >= 0):
        raise UserError(f"--gap-px must be a non-negative number of px, got {gap_px}")
    outputs = [Output(output, "crack-vector JSON file", same_kind=_is_vector_json)]
    if svg is not None:
        outputs.append(Output(svg, "SVG drawing", same_kind=has_suffix(".svg")))
    plan_outputs(outputs, [frames])
    stack, lib_pixel_mm = V.load_crack_frames(frames)
    if lib_pixel_mm is not None:
        if pixel_mm is not None:
            raise UserError("--pixel-mm does not apply to a library: it stores its pixel size")
        pixel_mm = lib_pixel_mm
    pixel_mm = DEFAULT_PIXEL_MM if pixel_mm is None else pixel_mm
    V.pixel_transform((1, 1), pixel_mm)  # validates the pixel size
    settings = dict(threshold=threshold, min_size=min_size, tolerance=tolerance, gap_px=gap_px)
    n_frames = int(np.prod(stack.shape[:-2]))
    with progress_bar("encoding frames", n_frames) as advance:
        geoms, stats = V.encode_stack(stack, pixel_mm, progress=advance, **settings)
    summary = V.summarize(stats, stack.shape[-2:], pixel_mm)
    doc = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "source": str(frames),
        "leading_shape": list(stack.shape[:-2]),
        "frame_shape_px": list(stack.shape[-2:]),
        "pixel_size_mm": pixel_mm,
        "settings": {
            "threshold_1": threshold,
            "min_size_px": min_size,
            "tolerance_px": tolerance,
            "min_branch_px": V.MIN_BRANCH_PX,
            "gap_px": gap_px,
        },
        "summary": summary,
        "frames": [_frame_entry(g) for g in geoms],
    }
    write_text(output, dumps(doc, indent=None) + "\n")
    if svg is not None:
        shown = geoms[: stack.shape[-3]] if stack.ndim > 2 else geoms
        write_text(svg, V.svg_text(shown))
    _print_summary(summary, geoms, stats, frames)
    out.print(f"geometry written to {output}" + (f", drawing to {svg}" if svg else ""))


def _frame_entry(g: V.CrackGeometry) -> dict:
    m = V.measures(g)
    keep = (
        "main_length_mm",
        "total_length_mm",
        "mouth_mm",
        "tip_mm",
        "nodes_count",
        "vector_bytes_B",
    )
    return {**g.to_dict(), "measures": {k: m[k] for k in keep}}


def _is_vector_json(path: Path) -> bool:
    """``same_kind`` of the JSON output: an earlier ``encode`` output."""
    try:
        with open(path, "rb") as f:
            return FORMAT_NAME.encode() in f.read(256)
    except OSError:
        return False


def _print_summary(summary: dict, geoms: list, stats: dict, src: Path) -> None:
    from rich.table import Table

    table = Table(title=f"vector encoding of {src}", show_header=True)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    rows = [
        ("frames encoded (count)", f"{summary['frames_count']}"),
        ("empty frames (count)", f"{summary['empty_frames_count']}"),
        ("mean nodes per frame (nodes)", f"{summary['mean_nodes_count']:.2f}"),
        ("mean vector size M_v (B)", f"{summary['mean_vector_bytes_B']:.1f}"),
        ("pixel size M_p, float32 (B)", f"{summary['pixel_bytes_float32_B']}"),
        ("compression ratio M_p / M_v (x)", f"{summary['compression_ratio_x']:.1f}"),
        ("reconstruction MAE vs skeleton (1 per px)", f"{summary['reconstruction_mae_1']:.5f}"),
        ("mean Hausdorff distance (px)", f"{summary['mean_hausdorff_px']:.3f}"),
        ("mean Hausdorff distance (mm)", f"{summary['mean_hausdorff_mm']:.4f}"),
        ("mean main crack length (mm)", f"{np.mean([V.main_length_mm(g) for g in geoms]):.3f}"),
        ("encode time per frame (ms)", f"{stats['encode_ms'].mean():.2f}"),
    ]
    if len(geoms) == 1:
        x, y = V.tip_mm(geoms[0])
        rows.append(("tip position x, y (mm)", f"{x:.3f}, {y:.3f}"))
    for r in rows:
        table.add_row(*r)
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``encode`` command to the ``edge-shm`` app."""
    app.command("encode")(encode)
