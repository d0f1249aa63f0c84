"""``edge-shm compare``: one table of evaluated runs (comparison.json, .md, PNG).

Rows are typed (:class:`ComparisonRow`); extra columns (energy per device) are filled before
writing (:func:`edge_shm.app.evaluate.compare_runs`).
Spiking models are told apart by their declared capabilities, never by name. Accuracy is the
median tip error one frame ahead (mm, :func:`accuracy_axis`); MAE, which cannot judge a crack
forecast, is a secondary column.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.evaluation.baselines import LABELS
from edge_shm.evaluation.evaluate import EvaluationSummary
from edge_shm.jsonio import read_json, write_json
from edge_shm.outputs import report_dir, write_text

FILES = ("comparison.json", "comparison.md", "accuracy_vs_parameters.png")


@dataclass
class ComparisonRow:
    run: str
    model: str
    spiking: bool
    parameters: int
    weight_bytes: int
    loss: str
    one_step_mae: float
    one_step_crack_map_mae: float | None
    one_step_f1: float
    rollout_mae: float
    copy_last_one_step_mae: float
    library: str | None = None
    evaluated_on: str | None = None
    firing_rate: float | None = None
    energy_uj: dict[str, float | None] = field(default_factory=dict)  # device -> uJ
    horizons: list[dict] = field(default_factory=list)  # forecast skill per horizon

    @property
    def tip_error_mm(self) -> float | None:
        """Median tip error one frame ahead (mm); None when the evaluation has no forecast
        skill (a Turing run, an evaluation of edge-shm 0.1) or the model drew no crack."""
        model = self.horizons[0].get("model") if self.horizons else None  # horizons 1, 2, ...
        v = None if model is None else model["tip_median_mm"]
        return None if v is None or not np.isfinite(v) else float(v)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("energy_uj")
        d["tip_error_h1_median_mm"] = self.tip_error_mm
        d.update({f"energy_{k}_uj": v for k, v in self.energy_uj.items()})
        return d


def load_row(run: Path) -> ComparisonRow:
    from edge_shm.models import model_class
    from edge_shm.runs import read_run_config

    config = read_run_config(run)
    cls = model_class(config["model"])
    ev_path = run / "evaluation.json"
    if not ev_path.is_file():
        raise UserError(f"{run}: not evaluated yet (run `edge-shm evaluate {run} --library ...`)")
    ev = EvaluationSummary.from_json(read_json(ev_path, "evaluation"), str(ev_path))
    params, train = config.get("parameters"), config.get("train")
    if not isinstance(params, int) or not isinstance(train, dict):
        raise UserError(
            f"{run}/config.json: lacks its training record ('train', 'parameters'); "
            "is it a folder written by edge-shm train?"
        )
    return ComparisonRow(
        run=str(run),
        model=config["model"],
        spiking=cls.capabilities.spiking,
        parameters=params,
        weight_bytes=int((run / "weights.safetensors").stat().st_size),
        loss=str(train.get("loss", "-")),
        one_step_mae=ev.one_step_mae,
        one_step_crack_map_mae=ev.one_step_crack_map_mae,
        one_step_f1=ev.one_step_f1,
        rollout_mae=ev.rollout_mae,
        copy_last_one_step_mae=ev.copy_last_one_step_mae,
        library=ev.library,
        horizons=ev.horizons,
        evaluated_on=ev.evaluated_on,
    )


def _fmt(v, digits: int = 5) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def _fmt4(v) -> str:
    return "n/a" if v is None else f"{v:.4g}"


def _tip(figures: dict | None) -> str:
    v = None if figures is None else figures["tip_median_mm"]
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.3f}"


def skill_table(rows: list[ComparisonRow]) -> list[str]:
    """Forecast skill per horizon: every run beside the naive forecasts of the first one."""
    with_skill = [r for r in rows if r.horizons]
    if not with_skill:
        return []
    k = max(len(r.horizons) for r in with_skill)
    head = (
        "| forecast | "
        + " | ".join(f"tip error h{i + 1} median (mm)" for i in range(k))
        + " | tip error h1 p90 (mm) | tolerant F1 h1..h4 (1) | MAE raw h1 (1) "
        "| MAE crack map h1 (1) |"
    )
    lines = [
        "",
        "## Forecast skill (tip error in mm, median; tolerant F1 within 2 px)",
        "",
        head,
        "|" + "---|" * (k + 5),
    ]

    def line(label: str, per: list) -> str:
        h1 = per[0] if per else None
        f1 = " / ".join("n/a" if x is None else f"{x['tolerant_f1']:.3f}" for x in per)
        p90 = _tip(None if h1 is None else {"tip_median_mm": h1["tip_p90_mm"]})
        mae = "n/a | n/a" if h1 is None else f"{h1['mae_raw']:.5f} | {h1['mae_crack_map']:.5f}"
        return f"| {label} | " + " | ".join(_tip(x) for x in per) + f" | {p90} | {f1} | {mae} |"

    for r in with_skill:
        lines.append(line(f"{r.model} ({Path(r.run).name})", [h.get("model") for h in r.horizons]))
    ref = with_skill[0].horizons
    for key in ("copy_last", "constant_velocity", "constant_acceleration", "paris", "zeros"):
        if any(key in h for h in ref):
            lines.append(line(LABELS[key], [h.get(key) for h in ref]))
    lines += [
        "",
        "Baselines on the test windows of the first run's evaluation; a model that does "
        "not beat copy-last on tip error does not forecast the crack. n/a: no crack drawn "
        "(tip undefined). MAE is eq. (8); a thin crack drawn 1 px to the side costs twice "
        "under it, so tip error and tolerant F1 are the forecast's measure.",
    ]
    return lines


@dataclass
class AccuracyAxis:
    """The accuracy axis of a cost figure: the median tip error one frame ahead (mm) of the runs
    that have one (``tip``), else one-step MAE with a label saying so. ``values``: run -> value;
    ``reference``: copy-last on the same windows; ``left_out``: runs not drawn (no tip error)."""

    tip: bool
    label: str
    values: dict[str, float]
    reference: float | None
    left_out: list[str]

    def note(self) -> str:
        """One sentence on what the accuracy axis shows and what it leaves out."""
        if not self.tip:
            return (
                "Accuracy axis: one-step MAE (1), as no run has a tip error (a Turing library, "
                "an evaluation of edge-shm 0.1, or no crack drawn); MAE cannot judge a crack "
                "forecast."
            )
        out = "Accuracy axis: median tip error one frame ahead (mm)."
        if self.left_out:
            out += (
                " Not drawn (no tip error: no forecast skill in the evaluation, or no crack "
                "drawn): " + ", ".join(f"`{r}`" for r in self.left_out) + "."
            )
        return out


def accuracy_axis(rows: list[ComparisonRow]) -> AccuracyAxis:
    """Tip error when any run has one, the others left out; else MAE for all (labelled)."""
    tips = {r.run: r.tip_error_mm for r in rows}
    have = {k: v for k, v in tips.items() if v is not None}
    if not have:
        mae = {r.run: r.one_step_mae for r in rows}
        label = "one-step test MAE (1); no tip error in these evaluations"
        return AccuracyAxis(False, label, mae, rows[0].copy_last_one_step_mae, [])
    ref = next((r.horizons[0].get("copy_last") for r in rows if r.horizons), None)
    ref_mm = None if ref is None or not np.isfinite(ref["tip_median_mm"]) else ref["tip_median_mm"]
    left = [r.run for r in rows if r.run not in have]
    return AccuracyAxis(
        True, "tip error 1 frame ahead, median (mm; lower is better)", have, ref_mm, left
    )


def comparison_markdown(rows: list[ComparisonRow]) -> str:
    devices = list(rows[0].energy_uj)
    head = (
        "| run | model | loss | parameters | weights (bytes) | tip error h1 median (mm) "
        "| one-step F1 (1) | one-step MAE (1, secondary) "
        "| one-step MAE, crack map (1, secondary) | rollout MAE (1, secondary) |"
        + "".join(f" energy per forecast, {d} (uJ) |" for d in devices)
    )
    lines = ["# Comparison", "", head, "|" + "---|" * (10 + len(devices))]
    for r in rows:
        lines.append(
            f"| {r.run} | {r.model} | {r.loss} | {r.parameters:,} | {r.weight_bytes:,} | "
            f"{_tip({'tip_median_mm': r.tip_error_mm})} | {r.one_step_f1:.3f} | "
            f"{r.one_step_mae:.5f} | {_fmt(r.one_step_crack_map_mae)} | {r.rollout_mae:.5f} |"
            + "".join(f" {_fmt4(r.energy_uj[d])} |" for d in devices)
        )
    spiking = [r for r in rows if r.spiking]
    for o in (r for r in rows if not r.spiking):
        if spiking:
            lines.append(
                f"\nParameter ratio {o.model}/{spiking[0].model}: "
                f"{o.parameters / spiking[0].parameters:,.0f}x"
            )
    lines.append(
        f"\nCopy-last-frame one-step MAE on the same windows: {rows[0].copy_last_one_step_mae:.5f}"
    )
    if any(r.energy_uj.get(d) is None for r in rows for d in devices if not r.spiking):
        lines.append(
            "\nEnergy n/a for a model that is not a spiking network on a device that runs "
            "spiking networks only (Loihi, SpiNNaker): it cannot run there."
        )
    lines.append(
        "\nTip error: median distance of the forecast crack tip from the true one, one frame "
        "ahead (n/a: no forecast skill in the evaluation, or no crack drawn). MAE is kept as a "
        "secondary figure: it cannot judge a crack forecast."
    )
    lines.append(f"\nFigure: accuracy_vs_parameters.png. {accuracy_axis(rows).note()}")
    lines += skill_table(rows)
    return "\n".join(lines)


def same_evaluation_data(rows: list[ComparisonRow]) -> None:
    """One table compares figures measured on one library and split, or it misleads."""
    seen = {r.evaluated_on: r.run for r in rows if r.evaluated_on is not None}
    if len(seen) > 1:
        (a, ra), (b, rb) = list(seen.items())[:2]
        raise UserError(
            f"{ra} was evaluated on {a} but {rb} on {b}; evaluate them on one library "
            "(edge-shm evaluate RUN --library LIB --into-run) before comparing"
        )


def write_comparison(rows: list[ComparisonRow], out_dir: Path, extra_sections=None) -> str:
    """comparison.json, comparison.md and accuracy_vs_parameters.png of ``rows`` (one per
    evaluated run, :func:`load_row`, their extra columns filled); returns the Markdown with the
    report's path. ``extra_sections``: callables ``section(rows, folder) -> str`` whose Markdown
    is appended (they may write figures into the folder).
    """
    from edge_shm.reports.plots import accuracy_vs_parameters

    with report_dir(out_dir, "comparison folder") as tmp:
        write_json(tmp / "comparison.json", {"runs": [r.to_dict() for r in rows]})
        parts = [comparison_markdown(rows)] + [s(rows, tmp) for s in extra_sections or []]
        md = "\n".join(parts) + "\n"
        write_text(tmp / "comparison.md", md)
        accuracy_vs_parameters(rows, accuracy_axis(rows), tmp / "accuracy_vs_parameters.png")
    return md + f"\nreport: {Path(out_dir) / 'comparison.md'}"


def models_table(models: list):
    """A rich table of the registered predictors (``models``: name, parameters at 96 x 132 px,
    spiking, export targets, description each, as :func:`edge_shm.app.train.model_catalog`)."""
    from rich.table import Table

    tab = Table(title="registered predictors (edge-shm train --model NAME)")
    for col in ("model", "parameters at 96 x 132 px", "spiking", "export targets", "what it is"):
        tab.add_column(col, justify="right" if col.startswith("param") else "left")
    for m in models:
        spiking = "yes" if m.spiking else "no"
        tab.add_row(m.name, f"{m.parameters:,}", spiking, ", ".join(m.targets), m.description)
    return tab
