"""``reproduce``: both libraries, every model of the paper, one report with each figure and
table of the paper recreated beside its claim and a verdict.

Presets (``quick`` within 20 minutes on 2 cores; ``full`` the paper's sizes and protocol,
hours, resumable: libraries and trained runs already in the folder are kept). Every step is a
call of the same functions the commands use (library build, train, evaluate, analyze, encode);
the report is :mod:`edge_shm.reports.reproduce`'s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from edge_shm.app.progress import Note, no_note
from edge_shm.errors import UserError
from edge_shm.reports.reproduce import FCG_MODELS, TURING_MODELS


@dataclass(frozen=True)
class Preset:
    """Library sizes (samples, Turing frames and frame side in px), epochs, training windows
    per epoch (None: all) and whether the Turing models take the paper's layer sizes."""

    fcg_samples: int
    turing_samples: int
    turing_frames: int
    turing_size: int
    fcg_epochs: int
    lstm_epochs: int
    turing_epochs: int
    max_windows: int | None
    lstm_windows: int | None
    paper_size: bool


KIND = "reproduce folder"
PRESETS = {
    "tiny": Preset(12, 3, 22, 16, 1, 1, 1, 4, 4, False),
    "quick": Preset(64, 6, 30, 64, 6, 1, 3, 48, 32, False),
    "full": Preset(908, 15, 68, 200, 20, 20, 50, None, None, True),
}


@dataclass(frozen=True)
class ReproduceRequest:
    """The ``output`` folder (resumed when rerun) and the preset's name (tiny, quick, full)."""

    output: Path
    preset: str = "quick"


@dataclass(frozen=True)
class ReproduceResult:
    """REPORT.md's path and each model's evaluation.json, by model name."""

    report: Path
    evaluations: dict[str, dict]


def reproduce(request: ReproduceRequest, note: Note = no_note) -> ReproduceResult:
    """Build, train, evaluate, analyze; write ``output/REPORT.md``. ``note`` hears each model
    as its training starts."""
    from edge_shm.app.analyze import analyze_runs
    from edge_shm.outputs import record_written
    from edge_shm.reports.reproduce import write_reproduce_report

    out, name = request.output, request.preset
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not is_reproduce_folder(out):
        raise UserError(f"{out}: not empty and not an earlier reproduce folder")
    p = PRESETS[name]
    out.mkdir(parents=True, exist_ok=True)
    record_written(out, [], KIND)  # marks it as ours: a rerun resumes it, nothing else does
    fcg = library(out / "fcg.h5", "fcg", p)
    tur = library(out / "turing.h5", "turing", p)
    evs = {}
    for m in FCG_MODELS:
        lstm = m == "lstm"
        epochs, windows = (p.lstm_epochs, p.lstm_windows) if lstm else (p.fcg_epochs, p.max_windows)
        evs[m] = train_and_evaluate(fcg, out / f"fcg-{m}", m, epochs, windows, False, note)
    for m in TURING_MODELS:
        run = out / f"turing-{m}"
        evs[m] = train_and_evaluate(tur, run, m, p.turing_epochs, p.max_windows, p.paper_size, note)
    rows = analyze_runs([out / "turing-convlstm", out / "turing-stclif"], tur, out / "analysis")
    params = {m: _parameters(out, m) for m in (*FCG_MODELS, *TURING_MODELS)}
    report = write_reproduce_report(out, name, p, evs, params, rows, _memory(fcg))
    return ReproduceResult(report, evs)


def is_reproduce_folder(folder: Path) -> bool:
    """A folder ``reproduce`` wrote (its record says so; before edge-shm 0.3: its library)."""
    from edge_shm.data.library import is_library
    from edge_shm.outputs import read_record

    rec = read_record(folder)
    if rec is not None:
        return rec["kind"] == KIND
    return (folder / "fcg.h5").is_file() and is_library(folder / "fcg.h5")


def library(path: Path, kind: str, p: Preset, seed: int = 0) -> Path:
    """The preset's crack (``kind`` fcg) or Turing library at ``path``, built unless there."""
    from edge_shm.data.generators import build_fcg, build_turing

    if not path.is_file():
        if kind == "fcg":
            build_fcg(path, p.fcg_samples, seed)
        else:
            build_turing(path, p.turing_samples, seed, n_frames=p.turing_frames, size=p.turing_size)
    return path


def train_and_evaluate(
    lib_path: Path,
    run: Path,
    model: str,
    epochs: int,
    windows: int | None,
    paper: bool,
    note: Note = no_note,
) -> dict:
    """Train ``model`` into ``run`` (batch 8, at most ``windows`` windows per epoch; resumed
    when there) and evaluate it into the run unless evaluated; its evaluation.json."""
    from edge_shm.app.evaluate import evaluate_model
    from edge_shm.data.library import read_library
    from edge_shm.reports.plots import run_loss_curve
    from edge_shm.runs import load_run
    from edge_shm.training import TrainConfig, train

    lib = read_library(lib_path)
    cfg = TrainConfig.from_options(
        model,
        paper_size=paper,
        epochs=epochs,
        batch_size=8,
        max_train_windows=windows,
        loss="mse",  # the paper's protocol, whatever train's defaults
    )
    note(f"reproduce: training {model} ({epochs} epochs) -> {run}")
    train(lib, run, cfg, on_checkpoint=run_loss_curve)
    if not (run / "evaluation.json").is_file():
        m, config = load_run(run, "cpu")
        evaluate_model(m, config, lib, run)
    return json.loads((run / "evaluation.json").read_text())


def _parameters(out: Path, m: str) -> int:
    folder = out / (f"fcg-{m}" if m in FCG_MODELS else f"turing-{m}")
    return int(json.loads((folder / "config.json").read_text())["parameters"])


def _memory(fcg: Path) -> dict:
    """Bytes of a crack frame as float32 pixels and as a vector (mean over 8 test samples'
    frames), and its mean node count."""
    from edge_shm.data.library import read_library
    from edge_shm.vector.encode import encode_stack

    lib = read_library(fcg, load_physics=False)
    frames = lib.split_frames("test")[:8]
    _, stats = encode_stack(frames, lib.pixel_mm)
    h, w = lib.frame_shape
    return {
        "pixel_B": 4 * h * w,
        "vector_B": float(stats["vector_bytes"].mean()),
        "nodes": float(stats["nodes"].mean()),
        "frames": int(stats["nodes"].size),
    }
