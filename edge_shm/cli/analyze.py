"""``edge-shm analyze``: weight distributions, connectivity density, activity sparsity."""

from __future__ import annotations

from pathlib import Path

import typer

from edge_shm.console import out


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
    from edge_shm.errors import UserError
    from edge_shm.outputs import Output, owned, plan_outputs
    from edge_shm.reports.analyze import analyze_runs
    from edge_shm.runs import is_run

    for r in runs:
        if not is_run(r):
            raise UserError(f"{r}: not a run folder (config.json + weights.safetensors)")
    if max_windows < 1:
        raise UserError(f"--max-windows must be positive, got {max_windows}")
    inputs = [*runs, *([library] if library else [])]
    (output,) = plan_outputs([Output(output, "analysis folder", True, owned("analysis folder"))],
                             inputs)  # fmt: skip
    rows = analyze_runs(runs, library, output, max_windows)
    for r in rows:
        sp = r["activity_sparsity"]
        out.print(
            f"{r['model']}: {r['conv_weights']:,} conv weights, variance {r['variance']:.3g}, "
            f"connectivity density {100 * r['connectivity_density']:.2f} %"
            + ("" if sp is None else f", activity sparsity {100 * sp:.2f} %")
        )
    out.print(f"report: {output / 'analysis.md'}")
