"""``edge-shm profile`` (energy and memory per forecast on a device) and ``edge-shm devices``."""

from pathlib import Path

import typer
from typer import Option

from edge_shm.app.profile import ProfileRequest, profile_run
from edge_shm.cli.models import say
from edge_shm.console import progress_bar, stdout
from edge_shm.reports.profile import console_table, devices_table

DEVICES = Option(None, "--devices", help="Extra device file(s), JSON (docs/profile.md).")


def register(app: typer.Typer) -> None:
    app.command()(profile)
    app.command()(devices)


def profile(
    run: Path = typer.Argument(..., help="Run directory (trained model)."),
    device: str = Option(..., "--device", "-d", help="Device profile name."),
    library: Path = Option(None, "--library", "-l", help="Library file (.h5)."),
    frames: Path = Option(None, "--frames", help="Frame folder or .npy (N,T,H,W)."),
    split: str = Option("test", help="Library split to profile (train or test)."),
    max_windows: int = Option(64, help="Profile at most this many windows."),
    frame_rate: float = Option(1 / 60, "--frame-rate", show_default="1/60 Hz, one a minute",
                               help="Forecasts per second for the energy per day (Hz)."),
    budget_ram: float = Option(None, "--budget-ram", help="RAM budget (KiB = 1,024 B; default: "
                               "the device file's)."),
    budget_flash: float = Option(None, "--budget-flash", help="Flash budget (KiB; default: the "
                                 "device file's)."),
    devices_file: list[Path] = DEVICES,
    output: Path = Option(Path("profile"), "-o", "--output", help="Report folder."),
    torch_device: str = Option("auto", "--torch-device", help="cpu, cuda or auto."),
    calibration: Path = Option(None, "--calibration", help="Calibration folder of this run: "
                               "deployed memory and ops."),
    firmware: Path = Option(None, "--firmware", help="C firmware of this run (export --target "
                            "c): measured instructions per forecast on an emulated Cortex-M4 "
                            "and ELF section sizes replace the estimates."),
) -> None:  # fmt: skip
    """Energy per forecast frame (compute + memory access), per day, and memory vs budget."""
    request = ProfileRequest(run, device, library, frames, split, max_windows, frame_rate,
                             budget_ram, budget_flash, tuple(devices_file or ()), output,
                             torch_device, calibration, firmware)  # fmt: skip
    result = profile_run(request, progress_bar, say)
    stdout.print(console_table(result.profile))
    more = [n for n in ("profile.json", "energy.png", "memory.png") if (output / n).is_file()]
    stdout.print(f"report: {output / 'profile.md'} (+ {', '.join(more)})")


def devices(devices_file: list[Path] = DEVICES) -> None:
    """List the device profiles: energy per op and memory limits, with units."""
    from edge_shm.profile.devices import load_devices

    stdout.print(devices_table(load_devices(devices_file)))
