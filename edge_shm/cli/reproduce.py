"""``edge-shm reproduce``: the paper's figures and tables recreated, each beside its claim."""

from pathlib import Path

import typer

from edge_shm.app.reproduce import ReproduceRequest
from edge_shm.app.reproduce import reproduce as reproduce_paper
from edge_shm.console import stderr, stdout
from edge_shm.errors import UserError


def register(app: typer.Typer) -> None:
    app.command()(reproduce)


def reproduce(
    output: Path = typer.Option(..., "-o", "--output", help="Folder (resumed when rerun)."),
    quick: bool = typer.Option(False, "--quick", help="Small sizes: within 20 min on 2 cores."),
    full: bool = typer.Option(False, "--full", help="The paper's sizes and protocol (hours)."),
    preset: str = typer.Option(None, help="tiny, quick or full (--quick / --full set it)."),
) -> None:
    """Build both libraries, train every model of the paper, write REPORT.md with verdicts."""
    chosen = {n for n, flag in (("quick", quick), ("full", full)) if flag} | {preset} - {None}
    if len(chosen) != 1:
        raise UserError("choose one of --quick, --full or --preset NAME")
    result = reproduce_paper(ReproduceRequest(output, chosen.pop()), note=stderr.print)
    stdout.print(f"report: {result.report}")
