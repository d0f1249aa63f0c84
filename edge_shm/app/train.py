"""Training a predictor into a run folder, and the list of predictors that can be trained."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edge_shm.app.progress import Note, Stages, no_note, quiet
from edge_shm.errors import UserError

if TYPE_CHECKING:
    from edge_shm.training.config import TrainConfig


@dataclass(frozen=True)
class TrainRequest:
    """What to train (``config``: the model and its hyper-parameters), on which library, into
    which run folder, and how. ``data``: memory, lazy or auto (lazy when the frames exceed a
    quarter of the machine's memory); ``workers``: processes reading batches (None: 0 in
    memory, 2 lazy); ``device``: cpu, cuda or auto; ``resume``: continue a run folder of the
    same settings."""

    config: TrainConfig
    library: Path
    output: Path
    resume: bool = True
    device: str = "auto"
    data: str = "auto"
    workers: int | None = None


@dataclass(frozen=True)
class TrainResult:
    """A finished run. ``metrics`` is its metrics.json (``final_train_loss``: per pixel, or
    log(1 + tip error / (S + 1 px)) per window for a motion network; ``train_seconds_total``
    in s); ``band`` its band.json (motion networks, else None); ``main`` is False in a
    torchrun process other than rank 0, which alone writes and reports."""

    output: Path
    metrics: dict
    band: dict | None
    main: bool = True


@dataclass(frozen=True)
class ModelInfo:
    """One registered predictor: ``parameters`` at the default frame size (96 x 132 px)."""

    name: str
    parameters: int
    spiking: bool
    targets: tuple[str, ...]
    description: str


def model_catalog() -> list[ModelInfo]:
    """Every registered predictor, built at its default size to count its parameters."""
    from edge_shm.models import build_model, count_parameters, model_names

    rows = []
    for name in model_names():
        m = build_model(name)
        doc = " ".join((type(m).__doc__ or "").split())
        caps = m.capabilities
        rows.append(ModelInfo(name, count_parameters(m), caps.spiking, tuple(caps.targets), doc))
    return rows


def train_run(request: TrainRequest, progress: Stages = quiet, note: Note = no_note) -> TrainResult:
    """Train ``config.model`` on the library's train split into ``request.output`` (resumable),
    drawing loss.png at every checkpoint; a motion network then calibrates its forecast band
    (band.json). Stages: reading crack motion (samples, motion networks), training {model}
    (windows), calibrating the forecast band (horizons). Under torchrun every process calls
    this; rank 0 alone reports."""
    from edge_shm.data.splits import train_and_validation
    from edge_shm.data.window_dataset import open_for_training
    from edge_shm.models import model_class
    from edge_shm.outputs import plan_outputs
    from edge_shm.reports.plots import run_loss_curve
    from edge_shm.runs import run_output
    from edge_shm.training import train
    from edge_shm.training.distributed import is_main_process, resolve_device, teardown
    from edge_shm.training.loop import Precision, training_data

    config = request.config
    config.check()
    Precision(config.amp, resolve_device(request.device))  # --amp off CUDA: refused at once
    plan_outputs([run_output(request.output, request.resume)], [request.library])
    most = 4 * (os.cpu_count() or 1)  # worker processes only read windows; more only use RAM
    workers = request.workers
    if workers is not None and not 0 <= workers <= most:
        raise UserError(f"--workers must be 0 to {most} (4 per CPU core here), got {workers}")
    lib, why = open_for_training(request.library, request.data)
    workers = workers if workers is not None else (2 if lib.lazy else 0)
    main = is_main_process()
    stage = progress if main else quiet
    if main and why:
        note(why)
    motion = model_class(config.model).capabilities.inputs == "motion"
    if motion:
        with stage("reading crack motion", len(train_and_validation(lib)[0])) as advance:
            examples = training_data(lib, config, advance)
    else:
        examples = training_data(lib, config)
    n = min(len(examples), config.max_train_windows or len(examples))
    total = max(0, config.epochs - _epochs_done(request)) * n
    try:
        with stage(f"training {config.model}", total) as advance:
            metrics = train(
                lib,
                request.output,
                config,
                request.resume,
                progress=advance,
                device=request.device,
                workers=workers,
                data=examples,
                on_checkpoint=run_loss_curve,
            )
    finally:
        teardown()
    band = None
    if main and motion:
        from edge_shm.evaluation.band_fit import HORIZONS, write_band

        with progress("calibrating the forecast band", HORIZONS) as advance:
            band = write_band(request.output, lib, advance)
    return TrainResult(request.output, metrics, band, main)


def _epochs_done(request: TrainRequest) -> int:
    """Epochs a resumed run folder already holds (0 for a new run)."""
    from edge_shm.jsonio import read_json

    metrics = request.output / "metrics.json"
    if request.resume and metrics.is_file():
        return read_json(metrics).get("epochs_done", 0)
    return 0
