"""``reproduce --matched``: the Turing claim tested fairly at a size two cores can train.

The paper: STCLIF forecasts Gray-Scott patterns with 27.71 % lower MAE than the best ANN with
about 10x fewer parameters. Here every model trains on one 64 px Gray-Scott library (the
paper's 10 / 5 split, 10 -> 10 windows) with the same windows, the same number of updates and
the same recipe (``--recipe reference``: the STCLIF authors' warm-up cosine learning rate and
scheduled sampling, batch 16); STCLIF at 32 channels, where its gate convolutions (16 groups)
mix two channels each instead of none as at the CPU default of 16; ConvLSTM, PredRNN++ and
SimVP (OpenSTL's: gSTA translator, 10 frames decoded at once) at about ten times its
parameters. Each seed trains every model again; the report gives MAE per step, cumulative MAE,
parameters and the verdict with its spread over seeds (:mod:`edge_shm.reports.matched`).

An "epoch" here is ``windows`` windows drawn afresh from the library (two updates at batch 16
by default), so that the reference's 10 warm-up epochs are a small part of a short run, as
they are of its 500 epochs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from edge_shm.app.progress import Note, no_note
from edge_shm.errors import UserError

KIND = "reproduce folder"
STCLIF_WIDTH = 32  # 16 gate groups: two channels per group (at 16, none mix)
MODELS = {
    "stclif": {"hidden": [STCLIF_WIDTH, STCLIF_WIDTH]},
    "convlstm": {"hidden": [36, 36]},
    "predrnnpp": {"hidden": [20, 20]},
    "simvp": {"translator": "gsta", "frames_out": 10, "hid_s": 14, "hid_t": 32, "n_s": 4},
}
ANNS = ("convlstm", "predrnnpp", "simvp")


@dataclass(frozen=True)
class MatchedPlan:
    """Library (samples x frames at ``size`` px), epochs of ``windows`` windows, batch, the
    seeds and each model's options."""

    samples: int = 15
    frames: int = 68
    size: int = 64
    epochs: int = 80
    windows: int = 32
    batch: int = 16
    seeds: tuple[int, ...] = (0, 1, 2)
    models: dict = field(default_factory=lambda: dict(MODELS))

    @property
    def updates(self) -> int:
        """Optimizer updates per model and seed."""
        return self.epochs * -(-self.windows // self.batch)


PLANS = {
    "matched": MatchedPlan(),
    # the code path end to end in seconds (tests): tiny frames, one epoch, one seed
    "tiny": MatchedPlan(
        samples=3,
        frames=22,
        size=16,
        epochs=2,
        windows=4,
        batch=2,
        seeds=(0,),
        models={
            "stclif": {"hidden": [16]},
            "convlstm": {"hidden": [8]},
            "predrnnpp": {"hidden": [8]},
            "simvp": {"translator": "gsta", "frames_out": 10, "hid_s": 8, "hid_t": 16},
        },
    ),  # fmt: skip
}


@dataclass(frozen=True)
class MatchedResult:
    """REPORT.md's path and the summary written beside it (matched.json)."""

    report: Path
    summary: dict


def reproduce_matched(
    out: Path, plan_name: str = "matched", seeds: int | None = None, note: Note = no_note
) -> MatchedResult:
    """Build the library, train and evaluate every model for every seed (resumed when rerun),
    write ``out/REPORT.md``, ``matched.json`` and the figures."""
    from dataclasses import replace

    from edge_shm.app.reproduce import is_reproduce_folder
    from edge_shm.outputs import record_written
    from edge_shm.reports.matched import write_matched_report

    if plan_name not in PLANS:
        raise UserError(f"unknown plan {plan_name!r}; choose one of {', '.join(PLANS)}")
    plan = PLANS[plan_name]
    if seeds is not None:
        if seeds < 1:
            raise UserError(f"--seeds must be a positive integer, got {seeds}")
        plan = replace(plan, seeds=tuple(range(seeds)))
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not is_reproduce_folder(out):
        raise UserError(f"{out}: not empty and not an earlier reproduce folder")
    out.mkdir(parents=True, exist_ok=True)
    record_written(out, [], KIND)
    lib = _library(out / "turing-matched.h5", plan)
    evs: dict[str, list[dict]] = {m: [] for m in plan.models}
    for seed in plan.seeds:
        for m, options in plan.models.items():
            run = out / f"matched-{m}-seed{seed}"
            note(f"reproduce --matched: {m}, seed {seed} ({plan.updates} updates) -> {run}")
            evs[m].append(_train_and_evaluate(lib, run, m, options, seed, plan))
    report, summary = write_matched_report(out, plan_name, plan, evs)
    return MatchedResult(report, summary)


def _library(path: Path, plan: MatchedPlan) -> Path:
    from edge_shm.data.generators import build_turing

    if not path.is_file():
        build_turing(path, plan.samples, 0, n_frames=plan.frames, size=plan.size)
    return path


def _train_and_evaluate(lib_path, run: Path, model: str, options: dict, seed: int, plan) -> dict:
    """Train (resumed when there) and evaluate into ``run``; its evaluation.json."""
    from edge_shm.app.evaluate import evaluate_model
    from edge_shm.data.library import read_library
    from edge_shm.reports.plots import run_loss_curve
    from edge_shm.runs import load_run
    from edge_shm.training import TrainConfig, train

    lib = read_library(lib_path)
    cfg = TrainConfig(
        model=model,
        epochs=plan.epochs,
        batch_size=plan.batch,
        max_train_windows=plan.windows,
        seed=seed,
        recipe="reference",
        model_options=dict(options),
    )
    cfg.check()
    train(lib, run, cfg, on_checkpoint=run_loss_curve)
    if not (run / "evaluation.json").is_file():
        m, config = load_run(run, "cpu")
        evaluate_model(m, config, lib, run)
    ev = json.loads((run / "evaluation.json").read_text())
    ev["parameters"] = int(json.loads((run / "config.json").read_text())["parameters"])
    return ev
