"""Collect the demo's outputs into one Markdown report: ``python -m edge_shm.reports.demo DIR``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from edge_shm.data.library import read_library
from edge_shm.data.summary import summary
from edge_shm.outputs import atomic_file
from edge_shm.reports.demo_verdict import verdict_section


def build_report(out: Path) -> Path:
    lines = ["# edge-shm demo report", ""]
    lib = read_library(out / "cracks.h5")
    s = summary(lib)
    lines += [
        "## Digital library",
        "",
        f"{s['samples']} simulated fatigue cracks ({s['train_samples']} train / "
        f"{s['test_samples']} test), {s['frames_per_sample']} frames of "
        f"{s['frame_rows_px']} x {s['frame_cols_px']} px at {s['pixel_size_mm']} mm/px. "
        "Preview: `library-preview.png`.",
        "",
    ]
    lines += verdict_section(out)
    cmp = out / "comparison" / "comparison.md"
    if cmp.is_file():
        body = cmp.read_text().split("\n", 1)[1]  # drop the file's own title
        # its figure lines name files beside comparison.md: listed below with their folder
        body = "\n".join(
            ln for ln in body.splitlines() if not ln.startswith(("Figure: ", "Figures: "))
        )
        lines += [
            "## Predictors, energy and memory",
            body.strip(),
            "",
            "Figures: "
            + ", ".join(f"`comparison/{f.name}`" for f in sorted(cmp.parent.glob("*.png")))
            + ".",
            "",
        ]
    lines += timing_section(out)
    exports = sorted((out / "export").glob("*/export.json"))
    if exports:
        lines += [
            f"## Deployment of `{json.loads(exports[0].read_text())['model']}`",
            "",
            "| target | folder | verification |",
            "|---|---|---|",
        ]
        for path in exports:
            rep = json.loads(path.read_text())
            folder = path.parent.relative_to(out)
            lines.append(
                f"| {path.parent.name} | `{folder}` | {_verification(rep.get('verification'))} |"
            )
        lines.append("")
    profiles = sorted(out.glob("profile-*/profile.json"))
    if profiles:
        lines += [
            "## Profiles",
            "",
            "Energies are modelled: operation counts measured on the test windows times "
            "per-operation energies from the literature (sources in "
            "`edge_shm/profile/devices.json`, docs/profile.md), not measured on a chip. Memory "
            "in bytes (B).",
            "",
            "| profile | device | energy per forecast | memory |",
            "|---|---|---|---|",
        ]
        lines += [_profile_row(p, out) for p in profiles] + [""]
    onsite = out / "onsite" / "REPORT.md"
    if onsite.is_file():
        body = onsite.read_text().split("\n", 1)[1]
        lines += [
            "## On site: the sensor images, frame by frame",
            body.strip(),
            "",
            "Figures: `onsite/forecast.png`, `onsite/forecast.gif`.",
            "",
        ]
    lines += [
        "## Run reports",
        "",
        "Each run's `tip_error_per_horizon.png` is its forecast skill beside the baselines; "
        "`predictions.png` shows its rollouts. `mae_per_step.png` is the paper's pixel MAE "
        "(eq. 8) along the rollout, kept to compare with the paper: it cannot judge a thin "
        "crack (one drawn 1 px aside costs twice as much as none), so the verdict above uses "
        "tip errors.",
        "",
    ]
    for run in sorted(out.glob("run-*")):
        if (run / "evaluation.md").is_file():
            lines.append(
                f"- `{run.name}/evaluation.md`, `{run.name}/tip_error_per_horizon.png`, "
                f"`{run.name}/predictions.png`, `{run.name}/mae_per_step.png`"
            )
    path = out / "REPORT.md"
    with atomic_file(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path


TIMINGS = {
    "cycles": "equal load-cycle intervals (a camera)",
    "slices14": "14 equal x slices",
    "mixed": "mixed timings, pauses, late starts",
    "static": "a crack that does not grow",
}


def timing_section(out: Path) -> list[str]:
    """Tip error one frame ahead, every timing of ``timing/``, with a plain verdict each."""
    from edge_shm.evaluation.baselines import LABELS

    rows, verdicts = [], []
    for key, what in TIMINGS.items():
        evs = {
            m: out / "timing" / key / m / "evaluation.json" for m in ("motion-snn", "forecast-snn")
        }
        if not evs["motion-snn"].is_file():
            continue
        h = json.loads(evs["motion-snn"].read_text())["forecast"]["horizons"]
        methods = {"motion SNN": h[0]["methods"]["model"]}
        if evs["forecast-snn"].is_file():
            other = json.loads(evs["forecast-snn"].read_text())["forecast"]["horizons"]
            methods["pixel forecasting SNN"] = other[0]["methods"]["model"]
        for b in ("copy_last", "constant_velocity", "constant_acceleration", "paris"):
            methods[LABELS[b]] = h[0]["methods"][b]
        cells = [
            f"{_mm(m['tip_error_mm']['median'])} / {_mm(m['tip_error_mm']['mean'])} "
            f"(F1 {m['tolerant_f1']:.3f})"
            for m in methods.values()
        ]
        rows.append(f"| {what} ({h[0]['forecasts']}) | " + " | ".join(cells) + " |")
        verdicts.append(_verdict(what, h))
    if not rows:
        return []
    return [
        "## Every frame timing (libraries of other seeds, every sample)",
        "",
        "Tip error one frame ahead, median / mean (mm), and tolerant F1; every forecaster on the "
        "same windows. The shipped pixel forecasting SNN was trained on the paper's timing only.",
        "",
        "| timing (forecasts) | " + " | ".join(methods) + " |",
        "|---|" + "---|" * len(methods),
        *rows,
        "",
        *verdicts,
        "",
    ]


def _mm(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _verdict(what: str, h: list) -> str:
    """Who wins one frame ahead (median, against the better of copy-last and constant
    velocity) and further ahead (mean, against constant velocity)."""
    m = h[0]["methods"]
    model = m["model"]["tip_error_mm"]["median"]
    best_key = min(("copy_last", "constant_velocity"), key=lambda k: _num(m[k]))
    best = m[best_key]["tip_error_mm"]["median"]
    one = (
        f"ties the better naive forecast ({model:.3f} mm)"
        if abs(model - best) < 1e-9
        else f"{'beats' if model < best else 'LOSES to'} {best_key.replace('_', ' ')} "
        f"({model:.3f} vs {best:.3f} mm)"
    )
    later = [
        (x["horizon"], x["methods"]["model"]["tip_error_mm"]["mean"],
         x["methods"]["constant_velocity"]["tip_error_mm"]["mean"])
        for x in h[1:]
    ]  # fmt: skip
    lost = [f"h{k}" for k, a, b in later if a is not None and b is not None and a > b]
    rest = (
        "; further ahead it beats constant velocity (mean) at every horizon"
        if not lost
        else (f"; further ahead it loses to constant velocity (mean) at {', '.join(lost)}")
    )
    return f"- {what}: one frame ahead the motion SNN {one}{rest}."


def _num(m: dict) -> float:
    v = m["tip_error_mm"]["median"]
    return float("inf") if v is None else v


def _profile_row(path: Path, out: Path) -> str:
    p = json.loads(path.read_text())
    e, mb = p.get("energy", {}), p.get("memory_budget", {})
    energy = f"{e['total_pJ'] * 1e-6:.4g} uJ" if e.get("available") else e.get("note", "n/a")
    checks = "; ".join(
        f"{c['memory']}: {'fits' if c['fits'] else 'does not fit'} ({c['need_B']:,.0f} of "
        f"{c['budget_B']:,.0f} {c.get('unit', 'B')})"
        for c in mb.get("checks", [])
    )
    return (
        f"| `{path.parent.relative_to(out)}` ({p['model']}) | {p['device']['name']} | "
        f"{energy} | {checks or 'no budget'} |"
    )


def _verification(v) -> str:
    if not v:
        return "not verified"
    parts = [f"{v['sequences']} held-out sequences x {v['frames_per_sequence']} frames"]
    if "max_abs_diff" in v:
        parts.append(f"max abs diff ONNX vs torch {v['max_abs_diff']:.2g}")
    if "agreement" in v:
        parts.append(
            f"{v['spikes_compared']:,} spikes compared (rate {v['spike_rate']:.2%}), "
            f"agreement {v['agreement']:.4%}, max frame diff {v['max_abs_frame_diff']:.2g}"
        )
    if v.get("sequences_with_ties"):
        free = v.get("max_abs_diff_tie_free", v.get("max_abs_frame_diff_tie_free"))
        parts.append(
            f"{v['sequences_with_ties']} sequence(s) with a threshold tie (a spike flipped by "
            f"float rounding), tie-free max diff {free:.2g}"
        )
    parts.append("passed" if v.get("ok") else "FAILED")
    return "; ".join(parts)


if __name__ == "__main__":
    report = build_report(Path(sys.argv[1]))
    print(f"\ndemo report: {report.resolve()}")
