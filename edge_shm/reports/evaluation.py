"""The evaluation report of one run: evaluation.json, evaluation.md and two PNGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_shm.evaluation.baselines import LABELS
from edge_shm.evaluation.evaluate import Evaluation
from edge_shm.jsonio import write_json
from edge_shm.outputs import report_dir, write_text

FILES = (
    "evaluation.json",
    "evaluation.md",
    "mae_per_step.png",
    "predictions.png",
    "tip_error_per_horizon.png",
)


def _fmt(v, digits: int = 3) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def _row(name: str, s) -> str:
    return f"| {name} | {s.mae:.5f} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} |"


def evaluation_markdown(ev: Evaluation, config: dict) -> str:
    one, name = ev.one_step, config["model"]
    on = (
        "every sample (a library the run never saw)"
        if ev.run.get("split") == "all"
        else "test split"
    )
    lines = [
        f"# Evaluation of `{name}` ({config.get('parameters', 0):,} parameters)",
        "",
        f"Library fingerprint `{ev.run.get('library_fingerprint')}`; {on}. MAE is the "
        "paper's eq. (8), per pixel, intensities in [0, 1] (unit 1). Crack pixels: value > 0.5.",
        "",
        f"## One step ({one.windows} windows: true frames in, next frame out)",
        "",
        "| forecast | MAE (1) | precision (1) | recall (1) | F1 (1) |",
        "|---|---|---|---|---|",
        _row(name + " (raw output)", one.model),
        *([_row(name + " (crack map, > 0.5)", one.model_crack_map)] if one.model_crack_map else []),
        _row("all background", one.zeros),
        _row("copy last frame", one.copy_last),
        "",
        f"Crack thickness: predicted {one.model_thickness_px:.2f} px, "
        f"true {one.truth_thickness_px:.2f} px.",
        "",
        f"## Autoregressive rollout ({ev.rollout.samples} samples)",
        "",
        "| step | frame | MAE model (1) | MAE crack map (1) | MAE background (1) "
        "| MAE copy-last (1) | F1 model (1) | F1 copy-last (1) | length error (mm) "
        "| tip error (mm) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in ev.rollout.steps:
        g = s.geometry or {}
        cmap = s.model_crack_map.mae if s.model_crack_map else None
        lines.append(
            f"| {s.step} | {s.frame} | {s.model.mae:.5f} | {_fmt(cmap, 5)} "
            f"| {s.zeros.mae:.5f} | {s.copy_last.mae:.5f} | {s.model.f1:.3f} "
            f"| {s.copy_last.f1:.3f} | {_fmt(g.get('length_error_mm'))} "
            f"| {_fmt(g.get('tip_error_mm'))} |"
        )
    m = ev.rollout.mean_mae
    lines += [
        "",
        f"Mean rollout MAE: model {m['model']:.5f}"
        + (f" (crack map {m['model_crack_map']:.5f})" if "model_crack_map" in m else "")
        + f", background {m['zeros']:.5f}, copy-last {m['copy_last']:.5f}. Cumulative MAE "
        f"(summed over the {len(ev.rollout.steps)} steps): model "
        f"{sum(s.model.mae for s in ev.rollout.steps):.5f}, copy-last "
        f"{sum(s.copy_last.mae for s in ev.rollout.steps):.5f}.",
        "",
        "Length and tip errors: vector encoder (`edge_shm.vector.compare_geometry`) on the "
        "rollout's predicted vs true frames, mean absolute, in mm. This rollout is the paper's "
        "protocol: the raw output is fed back as the next input, from the first window of each "
        "sample only. The forecast-skill tables below feed back the crack map (> 0.5) and "
        "start from every test window, so their tip error at the same step differs; judge the "
        "forecast by those tables.",
    ]
    lines += forecast_lines(ev)
    return "\n".join(lines) + "\n"


NAMES = {"model": None, **LABELS}


def _mm(v) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.3f}"


def forecast_lines(ev: Evaluation) -> list[str]:
    """The forecast-skill tables (one per horizon) of a crack evaluation."""
    if not ev.forecast:
        return []
    name = ev.run.get("model", "model")
    lines = [
        "",
        "## Forecast skill: where the crack will be, 1 to 4 frames ahead",
        "",
        "Every test window starts an autoregressive forecast; horizon k scores the k-th forecast "
        "against the true frame k frames ahead. Tip and length errors from the vector encoder "
        "(mm; a forecast without a crack counts as missing and as infinite in the median and "
        "90th percentile). Tolerant F1: crack pixels within 2 px count. Skill: 1 - error / "
        "copy-last's error (tip, median).",
    ]
    for h in ev.forecast:
        lines += [
            "",
            f"### Horizon {h.horizon} ({h.forecasts} forecasts)",
            "",
            "| forecast | tip error median / mean / p90 (mm) | missing | length error median (mm) "
            "| tolerant F1 (1) | MAE raw (1) | MAE crack map (1) | tip skill (1) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for key, s in h.methods.items():
            t = s.tip_error_mm
            sk = h.skill_vs_copy_last.get(key, {}).get("tip_error_median")
            lines.append(
                f"| {NAMES.get(key) or name} | {_mm(t.median)} / {_mm(t.mean)} / {_mm(t.p90)} "
                f"| {t.missing} | {_mm(s.length_error_mm.median)} | {s.tolerant_f1:.3f} "
                f"| {s.mae_raw:.5f} | {s.mae_crack_map:.5f} | {_mm(sk)} |"
            )
    paris = (ev.notes or {}).get("paris")
    if paris and paris["refused"]:
        why = "; ".join(f"{k} ({v})" for k, v in paris["reasons"].items())
        lines += [
            "",
            f"Paris-law extrapolation refused {paris['refused']} of {paris['forecasts']} "
            f"forecasts ({why}); those forecasts are the last frame.",
        ]
    return lines


def run_record(config: dict, lib, split: str = "test") -> dict:
    """What an evaluation scored: the run's model and size, the library and its split."""
    return {
        "split": split,
        "model": config["model"],
        "parameters": config.get("parameters"),
        "library": str(Path(lib.path).resolve()),
        "library_fingerprint": lib.fingerprint(),
    }


def write_evaluation_report(ev: Evaluation, config: dict, out_dir: str | Path) -> str:
    """Write evaluation.json, evaluation.md, mae_per_step.png, predictions.png (and
    tip_error_per_horizon.png) of ``ev`` into ``out_dir``; return the Markdown with the report's
    path.

    ``out_dir`` may be the run folder: files of these names are replaced, nothing else is
    touched, and a failure writes nothing.
    """
    from edge_shm.reports.plots import mae_per_step, prediction_grid, tip_error_per_horizon

    md = evaluation_markdown(ev, config)
    with report_dir(out_dir, "evaluation folder") as tmp:
        write_json(tmp / "evaluation.json", ev.to_dict())
        write_text(tmp / "evaluation.md", md)
        mae_per_step(ev, tmp / "mae_per_step.png", config["model"])
        prediction_grid(ev.arrays, tmp / "predictions.png", config["model"])
        if ev.forecast:
            tip_error_per_horizon(ev, tmp / "tip_error_per_horizon.png", config["model"])
    return md + f"\nreport: {Path(out_dir) / 'evaluation.md'}"


def training_summary(metrics: dict, band: dict | None, loss: str, run: Path) -> str:
    """What a finished training run says on the console: the forecast band of a motion network
    (``band``: band.json, ratios of tip error to S + 1 px per horizon; None for other models)
    and the final train loss (``metrics``: metrics.json; seconds of training)."""
    lines = []
    what = f"{loss} loss, per pixel"
    if band is not None:
        q = " / ".join(f"{r:.2f}" for r in band["ratio"])
        lines.append(
            f"forecast band ({band['quantile']:.0%} of tip errors, {sum(band['windows'][:1])} "
            f"held-out windows): {q} x (S + 1 px) at horizons 1-{len(band['ratio'])}"
        )
        what = "log(1 + tip error / (S + 1 px)), per window"
    lines.append(
        f"final train loss {metrics['final_train_loss']:.6f} ({what}), "
        f"{metrics['train_seconds_total']:.1f} s of training; run in {run}"
    )
    return "\n".join(lines)
