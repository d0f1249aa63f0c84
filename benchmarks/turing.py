"""Benchmark: the Turing study (paper protocol, 10 -> 10, autoregressive evaluation) at a size
that fits the bench: 15 samples x 68 frames (10 train / 5 test, the paper's split) at 64 x
64 px instead of 200, the CPU-default layer sizes, a few epochs. MAE per predicted step and
parameters for every model, copy-last beside them, STCLIF against the best ANN next to the
paper's 27.71 %, and the parameter ratio."""

from __future__ import annotations

import numpy as np

from benchmarks.run import stamp
from edge_shm.app.reproduce import Preset, library, train_and_evaluate
from edge_shm.reports.reproduce import ANNS, TURING_MODELS, mae_steps

BENCH = Preset(0, 15, 68, 64, 0, 0, 3, 96, None, False)


def run(ctx) -> str:
    lib = library(ctx.work / "turing-bench.h5", "turing", BENCH)
    evs, params = {}, {}
    for m in TURING_MODELS:
        run_dir = ctx.work / f"run-turing-{m}"
        evs[m] = train_and_evaluate(
            lib, run_dir, m, BENCH.turing_epochs, BENCH.max_windows, False, print
        )
        params[m] = int(evs[m]["run"]["parameters"])
    mean = {m: float(np.mean(mae_steps(evs[m]))) for m in TURING_MODELS}
    best = min(ANNS, key=lambda m: mean[m])
    rel = 100 * (mean[best] - mean["stclif"]) / mean[best]
    copy = mae_steps(evs["stclif"], "copy_last")
    lines = [
        f"## Turing study, 10 -> 10 ({stamp()})",
        "",
        f"{BENCH.turing_samples} samples x {BENCH.turing_frames} frames at "
        f"{BENCH.turing_size} x {BENCH.turing_size} px (the paper: 200 x 200), 10 train / 5 "
        f"test; {BENCH.turing_epochs} epochs of at most {BENCH.max_windows} windows, batch 8, "
        "Adam 1e-3, MSE with scheduled sampling; evaluation feeds every forecast back (all "
        "test windows). CPU-default layer sizes (docs/sequence-models.md).",
        "",
        "| step | " + " | ".join(TURING_MODELS) + " | copy-last |",
        "|---|" + "---|" * (len(TURING_MODELS) + 1),
    ]
    for k in range(len(copy)):
        cells = " | ".join(f"{mae_steps(evs[m])[k]:.5f}" for m in TURING_MODELS)
        lines.append(f"| {k + 1} | {cells} | {copy[k]:.5f} |")
    lines += [
        "| mean | "
        + " | ".join(f"{mean[m]:.5f}" for m in TURING_MODELS)
        + f" | {np.mean(copy):.5f} |",
        "| parameters | " + " | ".join(f"{params[m]:,}" for m in TURING_MODELS) + " | - |",
        "",
        f"STCLIF against the best ANN ({best}): mean MAE {abs(rel):.2f} % "
        f"{'lower' if rel > 0 else 'HIGHER'} (paper: 27.71 % lower): "
        f"{'reproduced' if rel > 0 else 'not reproduced at this size and training'}. "
        f"Parameters, best ANN / STCLIF: {params[best] / params['stclif']:.1f}x; "
        f"smallest ANN / STCLIF: {min(params[m] for m in ANNS) / params['stclif']:.1f}x. "
        + (
            "Copy-last beats every model on the mean."
            if np.mean(copy) < min(mean.values())
            else "At least one model beats copy-last on the mean."
        ),  # fmt: skip
    ]
    return "\n".join(lines) + "\n"
