"""``edge-shm analyze``: weight distributions, connectivity density, activity sparsity."""

from pathlib import Path

import typer

from edge_shm.app.analyze import AnalyzeRequest
from edge_shm.app.analyze import analyze as analyze_runs
from edge_shm.console import stdout
from edge_shm.reports.analyze import console_line


def register(app: typer.Typer) -> None:
    app.command()(analyze)


def analyze(
    runs: list[Path] = typer.Argument(..., help="Run folders to compare."),
    output: Path = typer.Option(..., "-o", "--output", help="Report folder."),
    library: Path = typer.Option(
        None, "--library", "-l", help="Library for the spiking models' activity (test windows)."
    ),
    max_windows: int = typer.Option(8, help="Test windows for the activity sparsity."),
) -> None:
    """Compare runs' convolution weights (Figure 5 of the paper) and spiking activity."""
    result = analyze_runs(AnalyzeRequest(tuple(runs), output, library, max_windows))
    for row in result.rows:
        stdout.print(console_line(row))
    stdout.print(f"report: {result.folder / 'analysis.md'}")
