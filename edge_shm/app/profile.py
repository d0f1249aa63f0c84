"""Profiling a trained run on a device: energy per forecast (and per day), memory vs budget."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from edge_shm.app.progress import Note, Stages, no_note, quiet
from edge_shm.errors import UserError
from edge_shm.profile.energy import DEFAULT_FRAME_RATE_HZ

if TYPE_CHECKING:
    from edge_shm.profile.profiler import Profile

SPLITS = ("train", "test")


@dataclass(frozen=True)
class ProfileRequest:
    """Profile ``run`` on the device profile named ``device`` (built in, or from
    ``devices_files``) over at most ``max_windows`` windows of ``library`` (its ``split``) or
    of ``frames`` (a folder or .npy (N, T, H, W)). ``frame_rate_hz``: forecasts per second of
    the energy per day (Hz); budgets in KiB (1,024 B), None: the device's. ``calibration``: a
    calibration folder of this run (deployed memory and integer work). ``firmware``: a C
    firmware export of this run (``export --target c``): built for a Cortex-M4 and run in QEMU
    on the same windows, its instructions and ELF sections replace the estimates (its
    calibration gives the deployed figures when ``calibration`` is None). ``torch_device``:
    cpu, cuda or auto."""

    run: Path
    device: str
    library: Path | None = None
    frames: Path | None = None
    split: str = "test"
    max_windows: int = 64
    frame_rate_hz: float = DEFAULT_FRAME_RATE_HZ
    budget_ram_kb: float | None = None
    budget_flash_kb: float | None = None
    devices_files: tuple[Path, ...] = ()
    output: Path = Path("profile")
    torch_device: str = "auto"
    calibration: Path | None = None
    firmware: Path | None = None


@dataclass(frozen=True)
class ProfileResult:
    """The profile (energy in pJ per forecast, J per day, memory in B) and its report folder
    (profile.md, profile.json, energy.png, memory.png)."""

    profile: Profile
    folder: Path


def profile_run(
    request: ProfileRequest, progress: Stages = quiet, note: Note = no_note
) -> ProfileResult:
    """Energy per forecast frame (compute + memory access), per day, and memory vs budget of
    a run on a device; writes the report folder. One stage: profiling (windows); ``note``
    hears of a deprecated device name."""
    from edge_shm.outputs import Output, owned, plan_outputs
    from edge_shm.profile.devices import get_device
    from edge_shm.profile.energy import energy_report
    from edge_shm.profile.memory import memory_report
    from edge_shm.profile.profiler import check_positive, load_windows, profile_model
    from edge_shm.reports.profile import write_profile
    from edge_shm.runs import load_run, read_run_config
    from edge_shm.training.distributed import resolve_device

    r = request
    dev = get_device(r.device, list(r.devices_files), note=note)
    ram = check_positive("--budget-ram", r.budget_ram_kb)
    flash = check_positive("--budget-flash", r.budget_flash_kb)
    check_positive("--frame-rate", r.frame_rate_hz)
    if r.max_windows <= 0:
        raise UserError(f"--max-windows must be a positive integer, got {r.max_windows}")
    if r.split not in SPLITS:
        raise UserError(f"--split must be train or test, got {r.split!r}")
    config = read_run_config(r.run)
    fixed, calibrated = None, r.calibration or r.firmware
    if calibrated is not None:
        from edge_shm.firmware_sim.fixed_graph import FixedGraph

        fixed = FixedGraph.load(calibrated)
        if fixed.run_sha256 != config.get("weights_sha256"):
            raise UserError(f"{calibrated}: calibrated from another run (its weights differ)")
    if r.firmware is not None and not (Path(r.firmware) / "firmware.json").is_file():
        raise UserError(f"{r.firmware}: not a C firmware folder (export --target c)")
    given = (r.library, r.frames, r.calibration, r.firmware)
    inputs = [r.run, *(p for p in given if p is not None)]
    plan_outputs([Output(r.output, "profile folder", True, owned("profile folder"))], inputs)
    model, config = load_run(r.run, resolve_device(r.torch_device))
    n_in = (config.get("window") or [None])[0]
    x, source, pixel_mm = load_windows(r.library, r.frames, r.split, r.max_windows, n_in)
    with progress("profiling", len(x)) as advance:
        counted = profile_model(model, x, pixel_mm=pixel_mm, progress=advance)
    run = {
        "dir": str(r.run),
        "model": config["model"],
        "weights_sha256": config.get("weights_sha256"),
    }
    ram_b, flash_b = (None if kb is None else kb * 1024 for kb in (ram, flash))
    budget = memory_report(counted, dev, ram_b, flash_b)
    if fixed is not None:
        from edge_shm.profile.deployed import deployed_budget, deployed_figures

        where = dict(library=r.library, frames=r.frames, split=r.split, max_windows=r.max_windows)
        run["deployed"] = deployed_figures(fixed, str(calibrated), **where)
        budget = deployed_budget(budget, run["deployed"], dev)
    if r.firmware is not None:
        from edge_shm.profile.firmware import measured_budget, measured_figures

        with progress("Cortex-M4 (QEMU)", 1) as advance:
            run["measured"] = measured_figures(r.firmware, x[:, :, 0].numpy(), dev)
            advance(1)
        budget = measured_budget(budget, run["measured"], dev)
    frames = {"source": source, "windows": int(x.shape[0]), "steps_per_forecast": int(x.shape[1])}
    p = replace(
        counted,
        run=run,
        frames=frames,
        device=dev.to_dict(),
        energy=energy_report(counted, dev, r.frame_rate_hz),
        memory_budget=budget,
    )
    write_profile(p, r.output)
    return ProfileResult(p, r.output)
