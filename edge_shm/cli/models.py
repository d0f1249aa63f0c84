"""``edge-shm train``, ``edge-shm evaluate``, ``edge-shm compare`` and ``edge-shm models``."""

from pathlib import Path

import typer
from typer import Option

from edge_shm import signals
from edge_shm.app import evaluate as scoring
from edge_shm.app import train as training
from edge_shm.console import progress_bar, stdout


def register(app: typer.Typer) -> None:
    for command in (train, evaluate, compare, models):
        app.command()(command)


def models() -> None:
    """List the registered predictors: parameters at the default frame size, spiking or not,
    export targets, and what each is for."""
    from edge_shm.reports.comparison import models_table

    stdout.print(models_table(training.model_catalog()))


def train(
    model: str = Option("snn", "--model", "-m", help="A registered model (snn, lstm...)."),
    library: Path = Option(..., "--library", "-l", help="Library file (.h5)."),
    output: Path = Option(..., "-o", "--output", help="Run directory."),
    epochs: int = Option(10, help="Epochs (total, counting resumed ones)."),
    batch_size: int = Option(32, help="Windows per batch."),
    lr: float = Option(1e-3, help="Adam learning rate."),
    seed: int = Option(0, help="Seed of initialisation and shuffling."),
    loss: str = Option("mse", help="mse (the paper's), weighted (band around cracks x(1+w)) or "
                       "growth (band around the new crack pixels x(1+w))."),
    crack_weight: float = Option(10.0, help="w of the weighted and growth losses."),
    crack_pixel_weight: float = Option(1.0, help="Factor on the error of true crack pixels "
                                       "(> 1: draw uncertain tips)."),
    schedule: str = Option("constant", help="Learning rate: constant or cosine (to 0)."),
    max_windows: int = Option(None, help="Use at most this many training windows."),
    resume: bool = Option(True, help="Continue a run directory with the same settings."),
    device: str = Option("auto", help="Torch device: cpu, cuda or auto (CUDA when present)."),
    paper_size: bool = Option(False, "--paper-size", help="The paper's layer sizes (convlstm, "
                              "predrnnpp, simvp, stclif)."),
    data: str = Option("auto", help="memory (load the library's frames), lazy (read windows from "
                       "the file: memory bounded by the batch) or auto (lazy when the frames exceed"
                       " a quarter of this machine's memory, shared by the processes torchrun "
                       "starts on it)."),
    workers: int = Option(None, help="Processes reading batches (default: 0 in memory, 2 lazy)."),
) -> None:  # fmt: skip
    """Train a predictor on the library's train split (MSE, Adam), resumable.

    Under `torchrun --nproc-per-node N -m edge_shm train ...` N processes train one model with
    the same global --batch-size (docs/scale-out.md)."""
    from edge_shm.reports.evaluation import training_summary
    from edge_shm.training.config import TrainConfig

    hyper = dict(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, loss=loss,
                 crack_weight=crack_weight, crack_pixel_weight=crack_pixel_weight,
                 schedule=schedule, max_train_windows=max_windows)  # fmt: skip
    cfg = TrainConfig.from_options(model, paper_size=paper_size, **hyper)
    request = training.TrainRequest(cfg, library, output, resume, device, data, workers)
    r = training.train_run(request, progress_bar, stdout.print)
    if r.main:
        signals.finished()  # the run is complete: a late Ctrl-C must not report it lost
        stdout.print(training_summary(r.metrics, r.band, loss, output))


def evaluate(
    run: Path = typer.Argument(..., help="Run directory."),
    library: Path = Option(..., "--library", "-l", help="Library file (.h5)."),
    output: Path = Option(None, "-o", "--output", help="Report folder."),
    into_run: bool = Option(False, "--into-run", help="Write the report into RUN (what `compare "
                            "RUN` reads)."),
    device: str = Option("auto", help="Torch device: cpu, cuda or auto (CUDA when present)."),
    split: str = Option("test", help="test, or all: every sample of a library the run never saw "
                        "(another seed)."),
) -> None:  # fmt: skip
    """Tip error (mm) 1-4 frames ahead beside the naive and physical forecasts, tolerant F1,
    MAE (one step and rollout); JSON + MD + PNG."""
    request = scoring.EvaluateRequest(run, library, output, into_run, device, split)
    stdout.print(scoring.evaluate_run(request).markdown)


def compare(
    runs: list[Path] = typer.Argument(..., help="Run directories (evaluated)."),
    output: Path = Option(Path("comparison"), "-o", "--output", help="Report folder."),
    device: list[str] = Option(["loihi", "arm-cortex-a"], "--device", "-d",
                               help="Device(s) of the energy columns."),
    library: Path = Option(None, "--library", "-l",
                           help="Library for the energy profile (default: the evaluation's)."),
    profile_windows: int = Option(16, help="Test windows profiled per run for energy."),
    energy: bool = Option(True, help="Add energy columns and figures."),
    devices_file: list[Path] = Option(None, "--devices", help="Extra device file(s)."),
) -> None:  # fmt: skip
    """One table of parameters, weight bytes, MAC and energy; accuracy and energy PNGs."""
    request = scoring.CompareRequest(tuple(runs), output, tuple(device), library, profile_windows,
                                     energy, tuple(devices_file or ()))  # fmt: skip
    stdout.print(scoring.compare_runs(request).markdown)
