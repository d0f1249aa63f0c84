"""``edge-shm profile`` (energy and memory per forecast on a device) and ``edge-shm devices``."""

from __future__ import annotations

from pathlib import Path

import typer

from edge_shm.console import out, progress_bar


def register(app: typer.Typer) -> None:
    app.command()(profile)
    app.command()(devices)


def profile(
    run: Path = typer.Argument(..., help="Run directory (trained model)."),
    device: str = typer.Option(..., "--device", "-d", help="Device profile name."),
    library: Path = typer.Option(None, "--library", "-l", help="Library file (.h5)."),
    frames: Path = typer.Option(None, "--frames", help="Frame folder or .npy (N,T,H,W)."),
    split: str = typer.Option("test", help="Library split to profile (train or test)."),
    max_windows: int = typer.Option(64, help="Profile at most this many windows."),
    frame_rate: float = typer.Option(
        1 / 60, "--frame-rate", help="Forecasts per second for the energy per day (Hz)."
    ),
    budget_ram: float = typer.Option(None, "--budget-ram", help="RAM budget (KB = 1024 B)."),
    budget_flash: float = typer.Option(None, "--budget-flash", help="Flash budget (KB)."),
    devices_file: list[Path] = typer.Option(
        None, "--devices", help="Extra device file(s), JSON (docs/profile.md)."
    ),
    output: Path = typer.Option(Path("profile"), "-o", "--output", help="Report folder."),
    torch_device: str = typer.Option("auto", "--torch-device", help="cpu, cuda or auto."),
    calibration: Path = typer.Option(
        None, "--calibration", help="Calibration folder of this run: deployed memory and ops."
    ),
) -> None:
    """Energy per forecast frame (compute + memory access), per day, and memory vs budget."""
    from edge_shm.errors import UserError
    from edge_shm.outputs import Output, owned, plan_outputs
    from edge_shm.profile.devices import get_device
    from edge_shm.profile.profiler import check_positive, run_profile
    from edge_shm.reports.profile import console_table, write_profile
    from edge_shm.runs import read_run_config
    from edge_shm.training.distributed import resolve_device

    dev = get_device(device, devices_file)
    check_positive("--budget-ram", budget_ram)
    check_positive("--budget-flash", budget_flash)
    check_positive("--frame-rate", frame_rate)
    if max_windows <= 0:
        raise UserError(f"--max-windows must be a positive integer, got {max_windows}")
    if split not in ("train", "test"):
        raise UserError(f"--split must be train or test, got {split!r}")
    config = read_run_config(run)
    fixed = None
    if calibration is not None:
        from edge_shm.firmware_sim.fixed_graph import FixedGraph

        fixed = FixedGraph.load(calibration)
        if fixed.run_sha256 != config.get("weights_sha256"):
            raise UserError(f"{calibration}: calibrated from another run (its weights differ)")
    inputs = [run, *(p for p in (library, frames, calibration) if p is not None)]
    plan_outputs([Output(output, "profile folder", True, owned("profile folder"))], inputs)
    source = {"library": library, "frames": frames, "split": split, "max_windows": max_windows}
    budgets = {"budget_ram_kb": budget_ram, "budget_flash_kb": budget_flash}
    with progress_bar("profiling", max_windows) as advance:
        p = run_profile(
            run,
            dev,
            **source,
            **budgets,
            frame_rate_hz=frame_rate,
            progress=advance,
            torch_device=resolve_device(torch_device),
        )
    if fixed is not None:
        from edge_shm.profile.deployed import deployed_budget, deployed_figures

        p.run["deployed"] = deployed_figures(fixed, str(calibration), **source)
        p.memory_budget = deployed_budget(p.memory_budget, p.run["deployed"], dev)
    write_profile(p, output)
    out.print(console_table(p))
    out.print(f"report: {output / 'profile.md'} (+ profile.json, energy.png, memory.png)")


def devices(
    devices_file: list[Path] = typer.Option(
        None, "--devices", help="Extra device file(s), JSON (docs/profile.md)."
    ),
) -> None:
    """List the device profiles: energy per op and memory limits, with units."""
    from rich.table import Table

    from edge_shm.profile.devices import load_devices

    tab = Table(title="device profiles (sources: edge-shm profile reports, docs/profile.md)")
    for col in ("name", "kind", "precision", "MAC", "AC", "neuron update", "RAM", "flash"):
        tab.add_column(col)
    for name, d in sorted(load_devices(devices_file).items()):
        e = d.energy

        def q(section, key):
            return f"{section[key].value:g} {section[key].unit}" if key in section else "-"

        tab.add_row(
            name,
            d.kind,
            d.precision,
            q(e, "mac"),
            q(e, "ac"),
            q(e, "neuron_active"),
            q(d.budget, "ram"),
            q(d.budget, "flash"),
        )
    out.print(tab)
