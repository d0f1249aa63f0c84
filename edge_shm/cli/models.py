"""``edge-shm train``, ``edge-shm evaluate``, ``edge-shm compare`` and ``edge-shm models``."""

from pathlib import Path

import typer
from typer import Option

from edge_shm import signals
from edge_shm.app import evaluate as scoring
from edge_shm.app import train as training
from edge_shm.console import progress_bar, stderr, stdout
from edge_shm.errors import UserError


def register(app: typer.Typer) -> None:
    for command in (train, evaluate, compare, models):
        app.command()(command)


def models() -> None:
    """List the registered predictors: parameters at the default frame size, spiking or not,
    export targets, and what each is for."""
    from edge_shm.reports.comparison import models_table

    stdout.print(models_table(training.model_catalog()))


def parse_json_object(text: str, flag: str) -> dict:
    """A command-line JSON object, or a one-line error naming ``flag``."""
    import json

    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise UserError(f"{flag}: not JSON ({e.msg} at character {e.pos})") from None
    if not isinstance(value, dict):
        raise UserError(f"{flag} must be a JSON object, e.g. '{{\"hidden\": [32, 32]}}'")
    return value


def train(
    model: str = Option("snn", "--model", "-m", help="A registered model (snn, lstm...)."),
    library: Path = Option(..., "--library", "-l", help="Library file (.h5)."),
    output: Path = Option(..., "-o", "--output", help="Run directory."),
    epochs: int = Option(10, help="Epochs (total, counting resumed ones)."),
    batch_size: int = Option(None, help="Windows per batch (default 32; 16 for snn and lstm "
                             "and under --recipe reference)."),
    lr: float = Option(1e-3, help="Adam learning rate (the peak of a schedule)."),
    seed: int = Option(0, help="Seed of initialisation and shuffling."),
    loss: str = Option("auto", help="mse (the paper's), weighted (band around cracks x(1+w)) or "
                       "growth (band around the new crack pixels x(1+w)). auto: the loss the "
                       "bench found to forecast: weighted for snn, mse for lstm and the rest "
                       "(--loss mse: the paper's protocol for snn)."),
    crack_weight: float = Option(10.0, help="w of the weighted and growth losses."),
    crack_pixel_weight: float = Option(1.0, help="Factor on the error of true crack pixels "
                                       "(> 1: draw uncertain tips)."),
    schedule: str = Option(None, help="Learning rate per epoch: constant, cosine (to 0) or "
                           "warmup-cosine (the reference's). Default constant; warmup-cosine "
                           "under --recipe reference."),
    recipe: str = Option("paper", help="Training recipe of the Turing sequence models (stclif, "
                         "convlstm, predrnnpp, simvp). paper: this package's (scheduled sampling "
                         "from 1 to 0 over the first half of the epochs). reference: the STCLIF "
                         "authors' OpenSTL code: batch 16, 10 warm-up epochs from 1e-5 to --lr "
                         "then a cosine to 1e-5, scheduled sampling 1 - 2e-5 k at update k "
                         "(0 from update 50,000), STCLIF with gradient_detach, SimVP with "
                         "OpenSTL's initialisation. --batch-size and --schedule given explicitly "
                         "override it; --epochs stays yours (their README trains 500). "
                         "config.json records what was used."),
    amp: bool = Option(False, "--amp", help="Mixed precision on CUDA: bf16 where the GPU has it, "
                       "else fp16 with gradient scaling; refused on CPU. metrics.json records "
                       "it per epoch; a run resumes with or without it."),
    max_windows: int = Option(None, help="Use at most this many training windows."),
    resume: bool = Option(True, help="Continue a run directory with the same settings."),
    device: str = Option("auto", help="Torch device: cpu, cuda or auto (CUDA when present)."),
    paper_size: bool = Option(False, "--paper-size", help="The paper's layer sizes (convlstm, "
                              "predrnnpp, simvp, stclif)."),
    model_options: str = Option(None, "--model-options", metavar="JSON",
                                help='Model options as a JSON object, e.g. \'{"hidden": [32, '
                                '32]}\' or \'{"frames_out": 10, "translator": "gsta"}\' '
                                "(edge-shm models; over --paper-size's)."),
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

    # batch_size and schedule None: the recipe's
    hyper = dict(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, loss=loss,
                 crack_weight=crack_weight, crack_pixel_weight=crack_pixel_weight,
                 schedule=schedule, max_train_windows=max_windows, recipe=recipe,
                 amp=amp)  # fmt: skip
    options = parse_json_object(model_options, "--model-options") if model_options else None
    cfg = TrainConfig.from_options(model, paper_size=paper_size, model_options=options, **hyper)
    request = training.TrainRequest(cfg, library, output, resume, device, data, workers)
    r = training.train_run(request, progress_bar, stdout.print)
    if r.main:
        signals.finished()  # the run is complete: a late Ctrl-C must not report it lost
        stdout.print(training_summary(r.metrics, r.band, cfg.loss, output))


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


def say(line: str) -> None:
    """A line of news on stderr, one line however narrow the terminal."""
    stderr.print(line, soft_wrap=True, markup=False, highlight=False)


def compare(
    runs: list[Path] = typer.Argument(..., help="Run directories (evaluated)."),
    output: Path = Option(Path("comparison"), "-o", "--output", help="Report folder."),
    device: list[str] = Option(["loihi2", "arm-cortex-a"], "--device", "-d",
                               help="Device(s) of the energy columns (edge-shm devices; loihi2 is "
                               "Loihi 2, loihi1 Loihi 1: the old name loihi means loihi1)."),
    library: Path = Option(None, "--library", "-l",
                           help="Library for the energy profile (default: the evaluation's)."),
    profile_windows: int = Option(16, help="Test windows profiled per run for energy."),
    energy: bool = Option(True, help="Add energy columns and figures."),
    devices_file: list[Path] = Option(None, "--devices", help="Extra device file(s)."),
) -> None:  # fmt: skip
    """One table of parameters, weight bytes, tip error, MAE and energy; accuracy and energy
    PNGs."""
    request = scoring.CompareRequest(tuple(runs), output, tuple(device), library, profile_windows,
                                     energy, tuple(devices_file or ()))  # fmt: skip
    stdout.print(scoring.compare_runs(request, note=say).markdown)
