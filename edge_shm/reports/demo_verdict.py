"""The demo's verdict: who forecasts the crack tip best at each horizon, models beside the naive
and physical forecasts, as a table of median tip errors (mm) and one plain line per horizon
written from that table's numbers (``tests/reports/test_demo_verdict.py`` reads both back).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from edge_shm.evaluation.baselines import LABELS

MODELS = {
    "run-motion-snn": "motion SNN",
    "run-forecast-snn": "pixel forecasting SNN",
    "run-snn": "base SNN",
    "run-lstm": "base LSTM",
}
BASELINES = ("copy_last", "constant_velocity", "constant_acceleration", "paris")
TIE_MM = 0.0005
"""Medians closer than this tie: the table prints three decimals (mm)."""


def skill_table(out: Path) -> tuple[list[str], dict[str, list[float | None]], list[int]]:
    """(forecaster names, median tip error per horizon in mm (None: no crack drawn), forecasts
    per horizon) from the evaluation.json of every demo run, the baselines from the first run's
    (every run is scored on the same test windows)."""
    medians: dict[str, list[float | None]] = {}
    counts: list[int] = []
    for run, name in MODELS.items():
        path = out / run / "evaluation.json"
        if not path.is_file():
            continue
        hs = json.loads(path.read_text())["forecast"]["horizons"]
        if not counts:
            counts = [h["forecasts"] for h in hs]
            base = {LABELS[k]: [_median(h["methods"][k]) for h in hs] for k in BASELINES}
        medians[name] = [_median(h["methods"]["model"]) for h in hs]
    if not medians:
        return [], {}, []
    models = list(medians)
    medians.update(base)
    return models, medians, counts


def _median(m: dict) -> float | None:
    v = m["tip_error_mm"]["median"]
    return None if v is None or not math.isfinite(v) else float(v)


def verdict_lines(models: list[str], medians: dict, counts: list[int]) -> list[str]:
    """One line per horizon: the winner, and the best model against the best baseline (mm and
    percent of the baseline's error)."""
    lines = []
    for k, n in enumerate(counts):
        col = {name: v[k] for name, v in medians.items() if v[k] is not None}
        if not col:
            continue
        best = min(col.values())
        winners = sorted(name for name, v in col.items() if v - best < TIE_MM)
        m_name = min((m for m in models if m in col), key=col.get, default=None)
        b_name = min((b for b in col if b not in models), key=col.get)
        head = f"- **h{k + 1}** ({n} forecasts): " + (
            f"{winners[0]} wins ({best:.3f} mm)"
            if len(winners) == 1
            else f"{' and '.join(winners)} tie ({best:.3f} mm)"
        )
        if m_name is None:
            lines.append(f"{head}; no model drew a crack.")
            continue
        m, b = col[m_name], col[b_name]
        if abs(m - b) < TIE_MM:
            rest = f"the best model, {m_name}, ties the best baseline, {b_name} ({m:.3f} mm)"
        else:
            word = "beats" if m < b else "LOSES to"
            rest = (
                f"the best model, {m_name} ({m:.3f} mm), {word} the best baseline, {b_name} "
                f"({b:.3f} mm), by {abs(m - b):.3f} mm ({100 * abs(m - b) / b:.0f} %)"
            )
        lines.append(f"{head}; {rest}.")
    for name in models:
        lines.append(f"- {name}: " + _against(name, medians, counts, models))
    return lines


def _against(name: str, medians: dict, counts: list[int], models: list[str]) -> str:
    """Where one model beats copy-last and the best baseline, horizon by horizon."""
    copy = LABELS["copy_last"]
    beats_copy, beats_best = [], []
    for k in range(len(counts)):
        v = medians[name][k]
        if v is None:
            continue
        base = [b[k] for n, b in medians.items() if n not in models and b[k] is not None]
        if medians[copy][k] is not None and medians[copy][k] - v >= TIE_MM:
            beats_copy.append(f"h{k + 1}")
        if base and min(base) - v >= TIE_MM:
            beats_best.append(f"h{k + 1}")
    drawn = sum(v is not None for v in medians[name])
    if not drawn:
        return "draws no crack at any horizon."
    return (
        f"beats copy-last at {_which(beats_copy, len(counts))}; beats every baseline at "
        f"{_which(beats_best, len(counts))}."
    )


def _which(hs: list[str], n: int) -> str:
    if not hs:
        return "no horizon"
    return "every horizon" if len(hs) == n else ", ".join(hs) + " only"


def verdict_section(out: Path) -> list[str]:
    """The report's first section (and ``skill.png``), or nothing without evaluated runs."""
    models, medians, counts = skill_table(out)
    if not models:
        return []
    plot_skill(medians, models, out / "skill.png")
    hs = range(1, len(counts) + 1)
    lines = [
        "## Verdict: where the crack tip will be, 1 to 4 frames ahead",
        "",
        "Median tip error (mm) on the demo library's test split, every forecaster on the same "
        "windows; horizon k feeds each forecaster its own forecasts back k - 1 times. n/a: no "
        "crack drawn. Figure: `skill.png` (the same numbers).",
        "",
        "| forecast | kind | " + " | ".join(f"h{k} (mm)" for k in hs) + " |",
        "|---|---|" + "---|" * len(counts),
    ]
    for name, vals in medians.items():
        kind = "model" if name in models else "baseline"
        cells = " | ".join("n/a" if v is None else f"{v:.3f}" for v in vals)
        lines.append(f"| {name} | {kind} | {cells} |")
    lines += ["", *verdict_lines(models, medians, counts), ""]
    return lines


def plot_skill(medians: dict, models: list[str], path: Path) -> Path:
    """Median tip error (mm, log) per horizon: models solid, baselines dashed."""
    from edge_shm.reports.plots import plt, save

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for i, (name, vals) in enumerate(medians.items()):
        k = np.arange(1, len(vals) + 1)
        v = np.array([np.nan if x is None else x for x in vals], dtype=float)
        ok = np.isfinite(v) & (v > 0)
        ax.plot(
            k[ok], v[ok], marker="o", color=f"C{i}", label=name,
            linestyle="-" if name in models else "--",
        )  # fmt: skip
    ax.set_yscale("log")
    ax.set_xticks(np.arange(1, len(next(iter(medians.values()))) + 1))
    ax.set_xlabel("forecast horizon (frames ahead)")
    ax.set_ylabel("median tip error (mm)")
    ax.set_title("models (solid) beside naive and physical forecasts (dashed)", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)
    return save(fig, path)
