"""``edge-shm library build|merge|import|info|preview``: options in, one use case, results out."""

from pathlib import Path

import typer
from rich.table import Table

from edge_shm.app import library as use
from edge_shm.console import progress_bar, stdout

app = typer.Typer(no_args_is_help=True, help="Build, import and inspect digital libraries.")
Kind, Timing = use.LibraryKind, use.FrameTiming


@app.command()
def build(
    kind: Kind = typer.Argument(..., help="fcg (fatigue crack growth) or turing (Gray-Scott)."),
    output: Path = typer.Option(..., "-o", "--output", help="Library file to write (.h5)."),
    samples: int = typer.Option(None, help="Number of samples (default: the paper's 908 / 15)."),
    seed: int = typer.Option(0, help="Seed of every random choice."),
    frames: int = typer.Option(
        None, help="Frames per sample (default: cracks 8, the paper's; Turing 68)."
    ),
    timing: Timing = typer.Option(
        None,
        help="Cracks only: when frames are cut. slices (default): each time the tip crosses "
        "one of equal x slices (the paper's); cycles: at equal load-cycle intervals (a "
        "camera's); mixed: a timing, span and pauses drawn per sample; static: nothing grows.",
    ),
    size: int = typer.Option(None, help="Turing only: grid side in pixels (default 200)."),
    shard: str = typer.Option(
        None,
        help="I/N: build only shard I of N (I from 0) for `library merge`; sample i's random "
        "stream depends only on (seed, i), so shards match a build in one process.",
    ),
) -> None:
    """Simulate a digital library from physics and write it as HDF5."""
    request = use.BuildRequest(kind, output, samples, seed, frames, timing, size, shard)
    _print_summary(use.build_library(request, progress=progress_bar))


@app.command()
def merge(
    shards: list[Path] = typer.Argument(..., help="Shard files of one library (any order)."),
    output: Path = typer.Option(..., "-o", "--output", help="Library file to write (.h5)."),
) -> None:
    """Join the shard files of `library build --shard I/N` into one library."""
    _print_summary(use.merge_library(shards, output, progress=progress_bar))


@app.command("import")
def import_(
    src: Path = typer.Argument(..., help="Folder of sample sub-folders of images, or .npy."),
    output: Path = typer.Option(..., "-o", "--output", help="Library file to write (.h5)."),
    pixel_mm: float = typer.Option(0.075, help="Pixel size in mm."),
    n_test: int = typer.Option(None, help="Test samples (the last ones); default the paper's 12%."),
    camera: bool = typer.Option(
        False,
        "--camera",
        help="Read image folders as the on-site "
        "loop reads a camera: crack maps, registered, mouth on the left.",
    ),
    mouth: str = typer.Option("left", help="With --camera: left, right, top, bottom or auto."),
    crack: str = typer.Option("bright", help="With --camera: bright or dark."),
    channel: str = typer.Option("luminance", help="With --camera: luminance, r, g, b, auto."),
) -> None:
    """Import experimental image sequences as a library."""
    request = use.ImportRequest(src, output, pixel_mm, n_test, camera, mouth, crack, channel)
    _print_summary(use.import_library(request))


@app.command()
def info(
    path: Path = typer.Argument(..., help="Library file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Print a summary of a library, with units."""
    _print_summary(use.library_info(path), as_json)


@app.command()
def preview(
    path: Path = typer.Argument(..., help="Library file."),
    output: Path = typer.Option(..., "-o", "--output", help="PNG to write."),
    samples: int = typer.Option(4, help="Number of samples shown (rows)."),
) -> None:
    """Write a PNG grid of frames of a few samples."""
    stdout.print(f"preview written to {use.preview_library(path, output, samples)}")


def _print_summary(result: use.LibraryResult, as_json: bool = False) -> None:
    if as_json:
        stdout.print_json(result.to_json())
        return
    table = Table("quantity", "value", title=f"library {result.path}", show_header=True)
    for k, v in result.summary.items():
        if k != "path":
            table.add_row(k, f"{v:.6g}" if isinstance(v, float) else str(v))
    stdout.print(table)
