"""``edge-shm library build|import|info|preview``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from edge_shm.console import out, progress_bar
from edge_shm.data import library as L
from edge_shm.data.summary import json_dumps, summary
from edge_shm.errors import UserError
from edge_shm.outputs import PNG, Output, plan_outputs

app = typer.Typer(no_args_is_help=True, help="Build, import and inspect digital libraries.")


class Kind(str, Enum):
    fcg = "fcg"
    turing = "turing"


class Timing(str, Enum):
    slices = "slices"
    cycles = "cycles"
    mixed = "mixed"
    static = "static"


def library_output(path: Path, inputs=()) -> Path:
    """Check a library file output: replaces only an earlier edge-shm library."""
    return plan_outputs([Output(path, "library file", same_kind=L.is_library)], inputs)[0]


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
    from edge_shm.data.generators import DEFAULT_SAMPLES, build, check_size, params_for
    from edge_shm.data.shards import parse_shard, shard_range

    n = samples if samples is not None else DEFAULT_SAMPLES[kind.value]
    if kind is Kind.fcg and size is not None:
        raise UserError("--size applies to turing libraries only")
    if kind is Kind.turing and timing is not None:
        raise UserError("--timing applies to crack (fcg) libraries only")
    if not 0 <= seed < 2**63:  # stored as an HDF5 int64 attribute
        raise UserError(f"--seed must be an integer from 0 to 2**63 - 1, got {seed}")
    names = ("frames", "timing") if kind is Kind.fcg else ("n_frames", "timing")
    given = zip(names + ("size",), (frames, timing and timing.value, size), strict=True)
    overrides = {k: v for k, v in given if v is not None}
    p = params_for(kind.value, **overrides)
    rows, cols = (p.rows, p.cols) if kind is Kind.fcg else (p.size, p.size)
    if n <= 0:
        raise UserError(f"--samples must be a positive integer, got {n}")
    part = None if shard is None else parse_shard(shard)
    first, stop = (0, n) if part is None else shard_range(n, *part)
    check_size(stop - first, p.n_frames, rows, cols)
    library_output(output)
    what = f"{kind.value} library" + ("" if part is None else f" shard {shard}")
    with progress_bar(f"building {what}", stop - first) as advance:
        build(kind.value, output, n, seed, progress=advance, shard=part, **overrides)
    _print_summary(L.read_library(output, lazy=True))


@app.command()
def merge(
    shards: list[Path] = typer.Argument(..., help="Shard files of one library (any order)."),
    output: Path = typer.Option(..., "-o", "--output", help="Library file to write (.h5)."),
) -> None:
    """Join the shard files of `library build --shard I/N` into one library."""
    from edge_shm.data.shards import check_shards, merge_shards

    library_output(output, shards)
    checked = check_shards(shards)
    n = checked[0].shard["library_samples"]
    with progress_bar(f"merging {len(shards)} shards", n) as advance:
        merge_shards(checked, output, progress=advance)
    _print_summary(L.read_library(output, lazy=True))


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
    from edge_shm.data.importing import import_library
    from edge_shm.onsite.camera import CameraView

    library_output(output, [src])
    if not camera and (mouth, crack, channel) != ("left", "bright", "luminance"):
        raise UserError("--mouth, --crack and --channel apply with --camera")
    CameraView(mouth, channel, crack)  # the options checked before any work
    make = (lambda: CameraView(mouth, channel, crack)) if camera else None
    import_library(src, output, pixel_mm, n_test, camera=make)
    _print_summary(L.read_library(output))


@app.command()
def info(
    path: Path = typer.Argument(..., help="Library file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Print a summary of a library, with units."""
    lib = L.read_library(path, lazy=True)
    if as_json:
        out.print_json(json_dumps(summary(lib)))
    else:
        _print_summary(lib)


@app.command()
def preview(
    path: Path = typer.Argument(..., help="Library file."),
    output: Path = typer.Option(..., "-o", "--output", help="PNG to write."),
    samples: int = typer.Option(4, help="Number of samples shown (rows)."),
) -> None:
    """Write a PNG grid of frames of a few samples."""
    from edge_shm.reports.plots import library_preview

    if samples <= 0:
        raise UserError(f"--samples must be a positive integer, got {samples}")
    plan_outputs([Output(output, "PNG image", same_kind=PNG)], [path])
    lib = L.read_library(path, load_physics=False, lazy=True)
    library_preview(lib, output, samples)
    out.print(f"preview written to {output}")


def _print_summary(lib: L.Library) -> None:
    from rich.table import Table

    table = Table(title=f"library {lib.path}", show_header=True)
    table.add_column("quantity")
    table.add_column("value")
    for k, v in summary(lib).items():
        if k == "path":
            continue
        table.add_row(k, f"{v:.6g}" if isinstance(v, float) else str(v))
    out.print(table)
