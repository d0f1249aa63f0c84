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
) -> None:
    """Energy per forecast frame (compute + memory access), per day, and memory vs budget."""
    from edge_shm.atomic import check_output
    from edge_shm.devices import get_device
    from edge_shm.profile_report import check_positive, console_table, run_profile, write_profile

    dev = get_device(device, devices_file)
    check_positive("--budget-ram", budget_ram)
    check_positive("--budget-flash", budget_flash)
    check_positive("--frame-rate", frame_rate)
    check_output(output)
    with progress_bar("profiling", max_windows) as advance:
        p = run_profile(
            run,
            dev,
            library=library,
            frames=frames,
            split=split,
            max_windows=max_windows,
            frame_rate_hz=frame_rate,
            budget_ram_kb=budget_ram,
            budget_flash_kb=budget_flash,
            progress=advance,
        )
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

    from edge_shm.devices import load_devices

    tab = Table(title="device profiles (sources: edge-shm profile reports, docs/profile.md)")
    for col in ("name", "kind", "precision", "MAC", "AC", "neuron update", "RAM", "flash"):
        tab.add_column(col)
    for name, d in sorted(load_devices(devices_file).items()):
        e = d.energy
        q = lambda s, k: f"{s[k].value:g} {s[k].unit}" if k in s else "-"  # noqa: E731
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
