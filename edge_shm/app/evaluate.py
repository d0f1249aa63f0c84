"""Scoring runs: one run's evaluation report, and one comparison table of evaluated runs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from edge_shm.errors import UserError
from edge_shm.outputs import Output, owned, plan_outputs

if TYPE_CHECKING:
    from edge_shm.evaluation.evaluate import Evaluation
    from edge_shm.reports.comparison import ComparisonRow

SPLITS = ("test", "all")


@dataclass(frozen=True)
class EvaluateRequest:
    """``output``: a report folder, or None to write into the run (``into_run``; exactly one
    of the two). ``split``: test, or all (every sample of a library the run never saw).
    ``device``: cpu, cuda or auto."""

    run: Path
    library: Path
    output: Path | None = None
    into_run: bool = False
    device: str = "auto"
    split: str = "test"


@dataclass(frozen=True)
class EvaluateResult:
    """The report written into ``folder``: ``markdown`` is evaluation.md's text and a last line
    naming its path; ``evaluation`` the typed :class:`Evaluation` (tip errors in mm, MAE and F1
    of unit 1)."""

    folder: Path
    markdown: str
    evaluation: Evaluation


def evaluate_run(request: EvaluateRequest) -> EvaluateResult:
    """Tip error (mm) 1-4 frames ahead beside the naive and physical forecasts, tolerant F1,
    MAE (one step and rollout) of a run on a library: evaluation.json, .md and PNGs."""
    from edge_shm.data.frames import check_frame_shape
    from edge_shm.data.library import read_library
    from edge_shm.runs import load_run, read_run_config
    from edge_shm.training.distributed import resolve_device

    run, library, output = request.run, request.library, request.output
    dev = resolve_device(request.device)
    read_run_config(run)
    if (output is None) == (not request.into_run):
        raise UserError(
            "name a report folder with -o, or write into the run folder with --into-run "
            "(replacing its evaluation files)"
        )
    if output is not None:
        plan_outputs(
            [Output(output, "evaluation folder", True, owned("evaluation folder"))], [run, library]
        )
    if request.split not in SPLITS:
        raise UserError(f"--split must be test or all, got {request.split!r}")
    lib = read_library(library)
    model, config = load_run(run, dev)
    if model.codec is None:  # a motion network reads frames of any size
        check_frame_shape(lib.frames, (model.height, model.width), "the run")
    if request.split == "all" and lib.fingerprint() == config.get("library_fingerprint"):
        raise UserError(
            f"{library}: the run was trained on this library; --split all would score its "
            "training samples (use --split test, or a library of another seed)"
        )
    lib.split_frames(request.split)
    return evaluate_model(model, config, lib, run if request.into_run else output, request.split)


def evaluate_model(model, config: dict, lib, folder: Path, split: str = "test") -> EvaluateResult:
    """Evaluate a loaded run (``model``, its ``config``) on ``lib`` and write the report into
    ``folder`` (files of the report's names are replaced, nothing else is touched)."""
    from edge_shm.evaluation.evaluate import evaluate
    from edge_shm.reports.evaluation import run_record, write_evaluation_report

    ev = evaluate(model, lib, split=split)
    ev = replace(ev, run=run_record(config, lib, split))
    md = write_evaluation_report(ev, config, folder)
    return EvaluateResult(Path(folder), md, ev)


@dataclass(frozen=True)
class CompareRequest:
    """Evaluated ``runs`` into the ``output`` folder; with ``energy``, each run profiled on
    ``profile_windows`` test windows of ``library`` (default: its evaluation's) for the energy
    per forecast on ``devices`` (names, from the built-in profiles and ``devices_files``; the
    deprecated ``loihi`` means ``loihi1``, Loihi 1)."""

    runs: tuple[Path, ...]
    output: Path = Path("comparison")
    devices: tuple[str, ...] = ("loihi2", "arm-cortex-a")
    library: Path | None = None
    profile_windows: int = 16
    energy: bool = True
    devices_files: tuple[Path, ...] = ()


@dataclass(frozen=True)
class CompareResult:
    """The report written into ``folder``: ``markdown`` is comparison.md's text and a last line
    naming its path; ``rows`` one per run (energy in uJ per forecast, per device name)."""

    folder: Path
    markdown: str
    rows: list[ComparisonRow]


def compare_runs(request: CompareRequest, note=None) -> CompareResult:
    """One table of parameters, weight bytes, tip error, MAE, forecast skill and energy; PNG
    figures. ``note(line)`` hears of a deprecated device name (``loihi``: ``loihi1``)."""
    from edge_shm.reports.comparison import load_row, same_evaluation_data, write_comparison

    runs, library = [Path(r) for r in request.runs], request.library
    if not runs:
        raise UserError("compare needs at least one run directory")
    plan_outputs(
        [Output(request.output, "comparison folder", True, owned("comparison folder"))],
        [*runs, *([library] if library else [])],
    )
    rows = [load_row(r) for r in runs]  # every run is readable and evaluated before any work
    columns = None
    if request.energy:
        from edge_shm.profile.devices import get_device
        from edge_shm.reports.energy_columns import EnergyColumns

        if request.profile_windows <= 0:
            raise UserError(f"--profile-windows must be positive, got {request.profile_windows}")
        devices = {}  # one column per profile, though named twice (an old name and its new)
        for name in request.devices:
            dev = get_device(name, list(request.devices_files), note)
            devices.setdefault(dev.name, dev)
        devices = list(devices.values())
        columns = EnergyColumns(devices, library, request.profile_windows)
    same_evaluation_data(rows)
    if columns is not None:
        columns(rows)  # profiles every run: energy per forecast and firing rate
    md = write_comparison(rows, request.output, [columns.section] if columns else [])
    return CompareResult(request.output, md, rows)
