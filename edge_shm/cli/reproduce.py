"""``edge-shm reproduce``: the paper's figures and tables recreated, each beside its claim."""

from __future__ import annotations

from pathlib import Path

import typer

from edge_shm.console import console, out


def register(app: typer.Typer) -> None:
    app.command()(reproduce)


def reproduce(
    output: Path = typer.Option(..., "-o", "--output", help="Folder (resumed when rerun)."),
    quick: bool = typer.Option(False, "--quick", help="Small sizes: within 20 min on 2 cores."),
    full: bool = typer.Option(False, "--full", help="The paper's sizes and protocol (hours)."),
    preset: str = typer.Option(None, help="tiny, quick or full (--quick / --full set it)."),
) -> None:
    """Build both libraries, train every model of the paper, write REPORT.md with verdicts."""
    from edge_shm.errors import UserError
    from edge_shm.reports.reproduce import PRESETS, is_reproduce_folder, run_reproduce

    chosen = [n for n, flag in (("quick", quick), ("full", full)) if flag]
    if preset is not None:
        chosen.append(preset)
    if len(set(chosen)) != 1:
        raise UserError("choose one of --quick, --full or --preset NAME")
    name = chosen[0]
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    if output.exists() and not output.is_dir():
        raise UserError(f"{output}: exists and is not a folder")
    if output.is_dir() and any(output.iterdir()) and not is_reproduce_folder(output):
        raise UserError(f"{output}: not empty and not an earlier reproduce folder")
    report = run_reproduce(output, name, log=lambda s: console.print(s))
    out.print(f"report: {report}")
