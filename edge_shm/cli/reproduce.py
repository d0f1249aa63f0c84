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
    matched: bool = typer.Option(
        False,
        "--matched",
        help="Only the Turing claim, tested fairly: STCLIF at a width whose gates mix "
        "channels against ANNs of about 10x its parameters, the same updates and reference "
        "recipe for all, several seeds (1.5 h on 2 cores here; --preset tiny: seconds).",
    ),
    seeds: int = typer.Option(None, "--seeds", help="--matched: seeds per model (default 3)."),
) -> None:
    """Build both libraries, train every model of the paper, write REPORT.md with verdicts."""
    if matched:
        if quick or full or preset not in (None, "tiny"):
            raise UserError("--matched takes no --quick / --full (--preset tiny only, for tests)")
        from edge_shm.app.matched import reproduce_matched

        res = reproduce_matched(output, preset or "matched", seeds, note=stderr.print)
        stdout.print(f"report: {res.report}")
        return
    if seeds is not None:
        raise UserError("--seeds goes with --matched")
    chosen = {n for n, flag in (("quick", quick), ("full", full)) if flag} | {preset} - {None}
    if len(chosen) != 1:
        raise UserError("choose one of --quick, --full, --matched or --preset NAME")
    result = reproduce_paper(ReproduceRequest(output, chosen.pop()), note=stderr.print)
    stdout.print(f"report: {result.report}")
