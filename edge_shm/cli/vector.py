"""``edge-shm encode``: crack frames to polylines (JSON, optional SVG), with a summary table."""

from pathlib import Path

import typer
from rich.table import Column, Table

from edge_shm.app.vector import EncodeRequest, EncodeResult, encode_vectors
from edge_shm.console import progress_bar, stdout
from edge_shm.vector import DEFAULT_PIXEL_MM, MIN_COMPONENT_PX, THRESHOLD, TOLERANCE_PX


def encode(
    frames: Path = typer.Argument(
        ..., help="An image, image folder, .npy stack (..., rows, cols) or library .h5."
    ),
    output: Path = typer.Option(..., "-o", "--output", help="JSON file to write."),
    svg: Path = typer.Option(None, "--svg", help="SVG drawing of the polylines, in mm."),
    tolerance: float = typer.Option(TOLERANCE_PX, help="Simplification tolerance, px."),
    pixel_mm: float = typer.Option(
        None, help=f"Pixel size in mm (default {DEFAULT_PIXEL_MM}; a library sets its own)."
    ),
    threshold: float = typer.Option(THRESHOLD, help="Crack where intensity > threshold (1)."),
    min_size: int = typer.Option(MIN_COMPONENT_PX, help="Speckle below this is removed, px."),
    gap_px: float = typer.Option(0.0, help="Join skeleton pieces closer than this, px (0: off)."),
) -> None:
    """Encode crack frames as polylines plus a 2x3 pixel-to-mm transform (vector graphics)."""
    request = EncodeRequest(frames, output, svg, tolerance, pixel_mm, threshold, min_size, gap_px)
    _print_result(encode_vectors(request, progress=progress_bar))


def _print_result(r: EncodeResult) -> None:
    s = r.summary
    rows = [
        ("frames encoded (count)", f"{s['frames_count']}"),
        ("empty frames (count)", f"{s['empty_frames_count']}"),
        ("mean nodes per frame (nodes)", f"{s['mean_nodes_count']:.2f}"),
        ("mean vector size M_v (B)", f"{s['mean_vector_bytes_B']:.1f}"),
        ("pixel size M_p, float32 (B)", f"{s['pixel_bytes_float32_B']}"),
        ("compression ratio M_p / M_v (x)", f"{s['compression_ratio_x']:.1f}"),
        ("reconstruction MAE vs skeleton (1 per px)", f"{s['reconstruction_mae_1']:.5f}"),
        ("mean Hausdorff distance (px)", f"{s['mean_hausdorff_px']:.3f}"),
        ("mean Hausdorff distance (mm)", f"{s['mean_hausdorff_mm']:.4f}"),
        ("mean main crack length (mm)", f"{r.mean_main_length_mm:.3f}"),
        ("encode time per frame (ms)", f"{r.encode_ms.mean():.2f}"),
    ]
    if r.tip_mm is not None:
        rows.append(("tip position x, y (mm)", "{:.3f}, {:.3f}".format(*r.tip_mm)))
    value = Column("value", justify="right")
    table = Table("quantity", value, title=f"vector encoding of {r.source}", show_header=True)
    for row in rows:
        table.add_row(*row)
    stdout.print(table)
    stdout.print(f"geometry written to {r.output}" + (f", drawing to {r.svg}" if r.svg else ""))


def register(app: typer.Typer) -> None:
    """Add the ``encode`` command to the ``edge-shm`` app."""
    app.command("encode")(encode)
