"""Evaluation and comparison reports: JSON + Markdown + PNG, written atomically."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edge_shm.atomic import atomic_file
from edge_shm.errors import UserError
from edge_shm.runs import read_json, write_json


def _write_text(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text)


def _row(name: str, s: dict) -> str:
    return f"| {name} | {s['mae']:.5f} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} |"


def evaluation_markdown(ev: dict, config: dict) -> str:
    one = ev["one_step"]
    lines = [
        f"# Evaluation of `{config['model']}` ({config['parameters']:,} parameters)",
        "",
        f"Library fingerprint `{config['library_fingerprint']}`; test split. MAE is the paper's "
        "eq. (8), per pixel, intensities in [0, 1] (unit 1). Crack pixels: value > 0.5.",
        "",
        f"## One step ({one['windows']} windows: true frames in, next frame out)",
        "",
        "| forecast | MAE (1) | precision (1) | recall (1) | F1 (1) |",
        "|---|---|---|---|---|",
        _row(config["model"] + " (raw output)", one["model"]),
        *(
            [_row(config["model"] + " (crack map, > 0.5)", one["model_crack_map"])]
            if "model_crack_map" in one
            else []
        ),
        _row("all background", one["zeros"]),
        _row("copy last frame", one["copy_last"]),
        "",
        f"Crack thickness: predicted {one['model']['thickness_px']:.2f} px, "
        f"true {one['truth_thickness_px']:.2f} px.",
        "",
        f"## Autoregressive rollout ({ev['rollout']['samples']} samples)",
        "",
        "| step | frame | MAE model (1) | MAE crack map (1) | MAE background (1) "
        "| MAE copy-last (1) | F1 model (1) | F1 copy-last (1) | length error (mm) "
        "| tip error (mm) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in ev["rollout"]["steps"]:
        g = s.get("geometry", {})
        cmap = s.get("model_crack_map", {}).get("mae")
        lines.append(
            f"| {s['step']} | {s['frame']} | {s['model']['mae']:.5f} | {_fmt(cmap, 5)} "
            f"| {s['zeros']['mae']:.5f} | {s['copy_last']['mae']:.5f} | {s['model']['f1']:.3f} "
            f"| {s['copy_last']['f1']:.3f} | {_fmt(g.get('length_error_mm'))} "
            f"| {_fmt(g.get('tip_error_mm'))} |"
        )
    m = ev["rollout"]["mean_mae"]
    lines += [
        "",
        f"Mean rollout MAE: model {m['model']:.5f}"
        + (f" (crack map {m['model_crack_map']:.5f})" if "model_crack_map" in m else "")
        + f", background {m['zeros']:.5f}, copy-last {m['copy_last']:.5f}.",
        "",
        "Length and tip errors: vector encoder (`edge_shm.vector.compare_geometry`) on the "
        "rollout's predicted vs true frames, mean absolute, in mm.",
    ]
    return "\n".join(lines) + "\n"


def _fmt(v, digits: int = 3) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def write_evaluation(model, config: dict, lib, out_dir: str | Path) -> str:
    """Evaluate and write evaluation.json, evaluation.md, mae_per_step.png, predictions.png."""
    from edge_shm.evaluate import evaluate
    from edge_shm.plots import mae_per_step, prediction_grid

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ev = evaluate(model, lib)
    arrays = ev.pop("_arrays")
    ev["run"] = {
        "model": config["model"],
        "parameters": config["parameters"],
        "library": str(lib.path),
        "library_fingerprint": lib.fingerprint(),
    }
    write_json(out_dir / "evaluation.json", ev)
    md = evaluation_markdown(ev, config)
    _write_text(out_dir / "evaluation.md", md)
    mae_per_step(ev, out_dir / "mae_per_step.png", config["model"])
    prediction_grid(arrays, out_dir / "predictions.png", config["model"])
    return md + f"\nreport: {out_dir / 'evaluation.md'}"


def _load_for_comparison(run: Path) -> dict:
    from edge_shm.runs import load_run

    model, config = load_run(run)
    ev_path = run / "evaluation.json"
    if not ev_path.is_file():
        raise UserError(f"{run}: not evaluated yet (run `edge-shm evaluate {run} --library ...`)")
    ev = read_json(ev_path)
    return {
        "run": str(run),
        "model": config["model"],
        "parameters": config["parameters"],
        "weight_bytes": int((run / "weights.safetensors").stat().st_size),
        "loss": config["train"]["loss"],
        "one_step_mae": ev["one_step"]["model"]["mae"],
        "one_step_crack_map_mae": ev["one_step"].get("model_crack_map", {}).get("mae"),
        "one_step_f1": ev["one_step"]["model"]["f1"],
        "rollout_mae": ev["rollout"]["mean_mae"]["model"],
        "copy_last_one_step_mae": ev["one_step"]["copy_last"]["mae"],
    }


def write_comparison(
    runs: list[Path], out_dir: Path, extra_columns=None, extra_sections=None
) -> str:
    """comparison.json, comparison.md and accuracy_vs_parameters.png for evaluated runs.

    ``extra_columns``: callables ``hook(rows)`` adding keys to the rows (keys starting with
    ``energy`` or ending in ``_uj`` become table columns; None prints as n/a).
    ``extra_sections``: callables ``section(rows, out_dir) -> str`` whose Markdown is appended
    (they may write figures into ``out_dir``).
    """
    from edge_shm.plots import accuracy_vs_parameters

    if not runs:
        raise UserError("compare needs at least one run directory")
    rows = [_load_for_comparison(Path(r)) for r in runs]
    for hook in extra_columns or []:
        hook(rows)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "comparison.json", {"runs": rows})
    extra = [k for k in rows[0] if k.startswith("energy") or k.endswith("_uj")]
    head = (
        "| run | model | loss | parameters | weights (bytes) | one-step MAE (1) "
        "| one-step MAE, crack map (1) | one-step F1 (1) | rollout MAE (1) |"
        + "".join(f" {_col_label(k)} |" for k in extra)
    )
    lines = ["# Comparison", "", head, "|" + "---|" * (9 + len(extra))]
    for r in rows:
        lines.append(
            f"| {r['run']} | {r['model']} | {r['loss']} | {r['parameters']:,} | "
            f"{r['weight_bytes']:,} | {r['one_step_mae']:.5f} | "
            f"{_fmt(r['one_step_crack_map_mae'], 5)} | {r['one_step_f1']:.3f} | "
            f"{r['rollout_mae']:.5f} |" + "".join(f" {_fmt4(r[k])} |" for k in extra)
        )
    snn = [r for r in rows if r["model"] == "snn"]
    other = [r for r in rows if r["model"] in ("lstm", "rnn")]
    if snn and other:
        for o in other:
            lines.append(
                f"\nParameter ratio {o['model']}/snn: "
                f"{o['parameters'] / snn[0]['parameters']:,.0f}x"
            )
    lines.append(
        f"\nCopy-last-frame one-step MAE on the same windows: "
        f"{rows[0]['copy_last_one_step_mae']:.5f}"
    )
    for section in extra_sections or []:
        lines.append(section(rows, out_dir))
    md = "\n".join(lines) + "\n"
    _write_text(out_dir / "comparison.md", md)
    accuracy_vs_parameters(rows, out_dir / "accuracy_vs_parameters.png")
    return md + f"\nreport: {out_dir / 'comparison.md'}"


def _col_label(key: str) -> str:
    if key.startswith("energy_") and key.endswith("_uj"):
        return f"energy per forecast, {key[7:-3]} (uJ)"
    return key


def _fmt4(v) -> str:
    return "n/a" if v is None else f"{v:.4g}"


def dumps(d) -> str:
    return json.dumps(d, indent=2)
