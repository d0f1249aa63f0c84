"""``edge-shm train``, ``edge-shm evaluate`` and ``edge-shm compare``."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import typer

from edge_shm import signals
from edge_shm.console import out, progress_bar
from edge_shm.errors import UserError
from edge_shm.outputs import Output, owned, plan_outputs

DEVICE_HELP = "Torch device: cpu, cuda or auto (CUDA when present)."


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(evaluate)
    app.command()(compare)
    app.command(name="models")(list_models)


def list_models() -> None:
    """List the registered predictors: parameters at the default frame size, spiking or not,
    export targets, and what each is for."""
    from rich.table import Table

    from edge_shm.models import build_model, model_names
    from edge_shm.models.base import count_parameters

    tab = Table(title="registered predictors (edge-shm train --model NAME)")
    for col in ("model", "parameters at 96 x 132 px", "spiking", "export targets", "what it is"):
        tab.add_column(col, justify="right" if col.startswith("param") else "left")
    for name in model_names():
        m = build_model(name)
        doc = " ".join((type(m).__doc__ or "").split())
        caps = m.capabilities
        tab.add_row(
            name,
            f"{count_parameters(m):,}",
            "yes" if caps.spiking else "no",
            ", ".join(caps.targets),
            doc,
        )
    out.print(tab)


def train(
    model: str = typer.Option("snn", "--model", "-m", help="A registered model (snn, lstm...)."),
    library: Path = typer.Option(..., "--library", "-l", help="Library file (.h5)."),
    output: Path = typer.Option(..., "-o", "--output", help="Run directory."),
    epochs: int = typer.Option(10, help="Epochs (total, counting resumed ones)."),
    batch_size: int = typer.Option(32, help="Windows per batch."),
    lr: float = typer.Option(1e-3, help="Adam learning rate."),
    seed: int = typer.Option(0, help="Seed of initialisation and shuffling."),
    loss: str = typer.Option(
        "mse",
        help="mse (the paper's), weighted (band around cracks x(1+w)) or growth (band "
        "around the new crack pixels x(1+w)).",
    ),
    crack_weight: float = typer.Option(10.0, help="w of the weighted and growth losses."),
    crack_pixel_weight: float = typer.Option(
        1.0, help="Factor on the error of true crack pixels (> 1: draw uncertain tips)."
    ),
    schedule: str = typer.Option("constant", help="Learning rate: constant or cosine (to 0)."),
    max_windows: int = typer.Option(None, help="Use at most this many training windows."),
    resume: bool = typer.Option(True, help="Continue a run directory with the same settings."),
    device: str = typer.Option("auto", help=DEVICE_HELP),
    paper_size: bool = typer.Option(
        False, "--paper-size", help="The paper's layer sizes (convlstm, predrnnpp, simvp, stclif)."
    ),
    data: str = typer.Option(
        "auto",
        help="memory (load the library's frames), lazy (read windows from the file: memory "
        "bounded by the batch) or auto (lazy when the frames exceed a quarter of this machine's "
        "memory, shared by the processes torchrun starts on it).",
    ),
    workers: int = typer.Option(
        None, help="Processes reading batches (default: 0 in memory, 2 lazy)."
    ),
) -> None:
    """Train a predictor on the library's train split (MSE, Adam), resumable.

    Under `torchrun --nproc-per-node N -m edge_shm train ...` N processes train one model with
    the same global --batch-size (docs/scale-out.md)."""
    from edge_shm.data.splits import train_and_validation
    from edge_shm.data.window_dataset import open_for_training
    from edge_shm.models import model_class
    from edge_shm.reports.plots import run_loss_curve
    from edge_shm.runs import run_output
    from edge_shm.training import TrainConfig
    from edge_shm.training import train as run_training
    from edge_shm.training.distributed import is_main_process, resolve_device, teardown
    from edge_shm.training.loop import training_data

    model_class(model)
    cfg = TrainConfig(
        model, epochs, batch_size, lr, seed=seed, loss=loss, crack_weight=crack_weight
    )
    cfg.max_train_windows, cfg.schedule = max_windows, schedule
    cfg.crack_pixel_weight = crack_pixel_weight
    if paper_size:
        preset = model_class(model).config_class.PAPER
        if not preset:
            raise UserError(f"--paper-size: model {model!r} has no paper-size preset")
        cfg.model_options = {**preset, "size": "paper"}
    cfg.check()
    resolve_device(device)
    plan_outputs([run_output(output, resume)], [library])
    most = 4 * (os.cpu_count() or 1)  # worker processes only read windows; more only use RAM
    if workers is not None and not 0 <= workers <= most:
        raise UserError(f"--workers must be 0 to {most} (4 per CPU core here), got {workers}")
    lib, why = open_for_training(library, data)
    workers = workers if workers is not None else (2 if lib.lazy else 0)
    main = is_main_process()
    if main and why:
        out.print(why)
    if model_class(model).capabilities.inputs == "motion":
        samples = len(train_and_validation(lib)[0])
        reading = progress_bar("reading crack motion", samples)
        with reading if main else contextlib.nullcontext() as advance:
            examples = training_data(lib, cfg, advance)
    else:
        examples = training_data(lib, cfg)
    n = len(examples) if max_windows is None else min(len(examples), max_windows)
    done = 0
    if resume and (output / "metrics.json").is_file():
        from edge_shm.jsonio import read_json

        done = read_json(output / "metrics.json").get("epochs_done", 0)
    bar = progress_bar(f"training {model}", max(0, epochs - done) * n)
    try:
        with bar if main else contextlib.nullcontext() as advance:
            metrics = run_training(
                lib, output, cfg, resume, advance, device, workers, examples, run_loss_curve
            )
    finally:
        teardown()
    if not main:
        return
    what = f"{loss} loss, per pixel"
    if model_class(model).capabilities.inputs == "motion":
        from edge_shm.evaluation.band_fit import HORIZONS, write_band

        with progress_bar("calibrating the forecast band", HORIZONS) as advance:
            band = write_band(output, lib, advance)
        q = " / ".join(f"{r:.2f}" for r in band["ratio"])
        out.print(
            f"forecast band ({band['quantile']:.0%} of tip errors, {sum(band['windows'][:1])} "
            f"held-out windows): {q} x (S + 1 px) at horizons 1-{len(band['ratio'])}"
        )
        what = "log(1 + tip error / (S + 1 px)), per window"
    signals.finished()  # the run is complete: a late Ctrl-C must not report it lost
    out.print(
        f"final train loss {metrics['final_train_loss']:.6f} ({what}), "
        f"{metrics['train_seconds_total']:.1f} s of training; run in {output}"
    )


def evaluate(
    run: Path = typer.Argument(..., help="Run directory."),
    library: Path = typer.Option(..., "--library", "-l", help="Library file (.h5)."),
    output: Path = typer.Option(None, "-o", "--output", help="Report folder."),
    into_run: bool = typer.Option(
        False, "--into-run", help="Write the report into RUN (what `compare RUN` reads)."
    ),
    device: str = typer.Option("auto", help=DEVICE_HELP),
    split: str = typer.Option(
        "test", help="test, or all: every sample of a library the run never saw (another seed)."
    ),
) -> None:
    """Tip error (mm) 1-4 frames ahead beside the naive and physical forecasts, tolerant F1,
    MAE (one step and rollout); JSON + MD + PNG."""
    from edge_shm.data.frames import check_frame_shape
    from edge_shm.data.library import read_library
    from edge_shm.reports.evaluation import write_evaluation
    from edge_shm.runs import load_run, read_run_config
    from edge_shm.training.distributed import resolve_device

    dev = resolve_device(device)
    read_run_config(run)
    if (output is None) == (not into_run):
        raise UserError(
            "name a report folder with -o, or write into the run folder with --into-run "
            "(replacing its evaluation files)"
        )
    if output is not None:
        plan_outputs(
            [Output(output, "evaluation folder", True, owned("evaluation folder"))], [run, library]
        )
    if split not in ("test", "all"):
        raise UserError(f"--split must be test or all, got {split!r}")
    lib = read_library(library)
    model, config = load_run(run, dev)
    if model.codec is None:  # a motion network reads frames of any size
        check_frame_shape(lib.frames, (model.height, model.width), "the run")
    if split == "all" and lib.fingerprint() == config.get("library_fingerprint"):
        raise UserError(
            f"{library}: the run was trained on this library; --split all would score its "
            "training samples (use --split test, or a library of another seed)"
        )
    lib.split_frames(split)
    md, _ = write_evaluation(model, config, lib, run if into_run else output, split)
    out.print(md)


def compare(
    runs: list[Path] = typer.Argument(..., help="Run directories (evaluated)."),
    output: Path = typer.Option(Path("comparison"), "-o", "--output", help="Report folder."),
    device: list[str] = typer.Option(
        ["loihi", "arm-cortex-a"], "--device", "-d", help="Device(s) of the energy columns."
    ),
    library: Path = typer.Option(
        None, "--library", "-l", help="Library for the energy profile (default: the evaluation's)."
    ),
    profile_windows: int = typer.Option(16, help="Test windows profiled per run for energy."),
    energy: bool = typer.Option(True, help="Add energy columns and figures."),
    devices_file: list[Path] = typer.Option(None, "--devices", help="Extra device file(s)."),
) -> None:
    """One table of parameters, weight bytes, MAC and energy; accuracy and energy PNGs."""
    from edge_shm.reports.comparison import load_row, write_comparison

    plan_outputs(
        [Output(output, "comparison folder", True, owned("comparison folder"))],
        [*runs, *([library] if library else [])],
    )
    for r in runs:
        load_row(r)  # every run is readable and evaluated before any work
    hooks, sections = [], []
    if energy:
        from edge_shm.profile.devices import get_device
        from edge_shm.reports.energy_columns import EnergyColumns

        if profile_windows <= 0:
            raise UserError(f"--profile-windows must be positive, got {profile_windows}")
        cols = EnergyColumns(
            [get_device(d, devices_file) for d in device], library, profile_windows
        )
        hooks, sections = [cols], [cols.section]
    out.print(write_comparison(runs, output, hooks, sections))
