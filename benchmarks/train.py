"""Benchmark: the paper's first result on the full crack library.

Trains the base SNN with the paper's protocol (plain MSE), the base SNN with the weighted loss,
and the base LSTM; evaluates all three on the test split next to the two naive forecasts; records
wall times. Epochs come from environment variables so the section can be re-run quickly:
``BENCH_SNN_EPOCHS`` (weighted loss, default 12), ``BENCH_SNN_MSE_EPOCHS`` (paper's protocol,
default 5) and ``BENCH_LSTM_EPOCHS`` (default 3). Batch 16.

The run ``bench-out/run-snn`` (weighted loss) and ``bench-out/run-lstm`` feed the export and
profile sections.
"""

from __future__ import annotations

import os
import time

from benchmarks.run import stamp
from edge_shm.app.evaluate import CompareRequest, compare_runs, evaluate_model
from edge_shm.app.train import TrainRequest, train_run
from edge_shm.data.library import read_library
from edge_shm.jsonio import read_json
from edge_shm.runs import load_run
from edge_shm.training import TrainConfig

SNN_EPOCHS = int(os.environ.get("BENCH_SNN_EPOCHS", 12))
SNN_MSE_EPOCHS = int(os.environ.get("BENCH_SNN_MSE_EPOCHS", 5))
LSTM_EPOCHS = int(os.environ.get("BENCH_LSTM_EPOCHS", 3))

RUNS = {
    "run-snn-mse": TrainConfig(model="snn", epochs=SNN_MSE_EPOCHS, batch_size=16, loss="mse"),
    "run-snn": TrainConfig(model="snn", epochs=SNN_EPOCHS, batch_size=16, loss="weighted"),
    "run-lstm": TrainConfig(model="lstm", epochs=LSTM_EPOCHS, batch_size=16, loss="mse"),
}


def run(ctx) -> str:
    lib_path = ctx.crack_library()
    lib = read_library(lib_path, load_physics=False)
    rows = []
    for name, cfg in RUNS.items():
        path = ctx.work / name
        t0 = time.perf_counter()
        metrics = train_run(TrainRequest(cfg, lib_path, path)).metrics
        wall = time.perf_counter() - t0
        model, config = load_run(path)
        evaluate_model(model, config, lib, path)
        ev = read_json(path / "evaluation.json")
        rows.append((name, cfg, config, metrics, wall, ev))
    runs = tuple(ctx.work / n for n in RUNS)
    compare_runs(CompareRequest(runs, ctx.work / "comparison", energy=False))
    lines = [
        f"## Crack predictors on the full library ({stamp()})",
        "",
        f"Library: 908 samples (800 train / 108 test), 4,000 training windows, 540 test windows; "
        f"`{lib.path.name}` fingerprint `{lib.fingerprint()}`. MAE: paper eq. (8), per pixel "
        "(unit 1); F1 of crack pixels (> 0.5). Batch 16, Adam lr 1e-3, betas (0.9, 0.999), "
        "seed 0.",
        "",
        "| run | model | loss | epochs | parameters | one-step MAE | one-step MAE, crack map "
        "| one-step F1 | rollout MAE | training wall time | s per epoch |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, cfg, config, metrics, wall, ev in rows:
        one = ev["one_step"]["model"]
        cmap = ev["one_step"]["model_crack_map"]["mae"]
        lines.append(
            f"| `{name}` | {cfg.model} | {cfg.loss} | {metrics['epochs_done']} "
            f"| {config['parameters']:,} | {one['mae']:.5f} | {cmap:.5f} | {one['f1']:.3f} "
            f"| {ev['rollout']['mean_mae']['model']:.5f} "
            f"| {metrics['train_seconds_total']:.0f} s (this call: {wall:.0f} s) "
            f"| {metrics['train_seconds_total'] / metrics['epochs_done']:.0f} s |"
        )
    ev0 = rows[0][5]["one_step"]
    lines += [
        f"| all background | - | - | - | 0 | {ev0['zeros']['mae']:.5f} | - "
        f"| {ev0['zeros']['f1']:.3f} "
        f"| {rows[0][5]['rollout']['mean_mae']['zeros']:.5f} | - | - |",
        f"| copy last frame | - | - | - | 0 | {ev0['copy_last']['mae']:.5f} | - "
        f"| {ev0['copy_last']['f1']:.3f} | {rows[0][5]['rollout']['mean_mae']['copy_last']:.5f} "
        "| - | - |",
        "",
    ]
    snn = {n: (c, e) for n, _, c, _, _, e in rows}
    lstm_params = snn["run-lstm"][0]["parameters"]
    for name in ("run-snn-mse", "run-snn"):
        config, ev = snn[name]
        one = ev["one_step"]
        raw, cmap = one["model"]["mae"], one["model_crack_map"]["mae"]
        checks = {
            "parameters <= 1,500": config["parameters"] <= 1500,
            "raw MAE <= 0.01": raw <= 0.01,
            "raw MAE below all-background": raw < one["zeros"]["mae"],
            "raw MAE below copy-last": raw < one["copy_last"]["mae"],
            "crack-map MAE <= 0.01": cmap <= 0.01,
            "crack-map MAE below all-background": cmap < one["zeros"]["mae"],
            "crack-map MAE below copy-last": cmap < one["copy_last"]["mae"],
            "F1 above all-background": one["model"]["f1"] > one["zeros"]["f1"],
            "F1 above copy-last": one["model"]["f1"] > one["copy_last"]["f1"],
        }
        verdict = ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in checks.items())
        lines.append(f"- `{name}`: {verdict}.")
    lines += [
        "",
        f"Parameter ratio LSTM / SNN: {lstm_params:,} / {snn['run-snn'][0]['parameters']:,} = "
        f"{lstm_params / snn['run-snn'][0]['parameters']:,.0f}x.",
        "",
        "Raw MAE scores the clipped network output; the crack map thresholds it at 0.5 (the "
        "MAE-optimal reading of a binary forecast, see `edge_shm.evaluate`). F1 uses the same "
        "threshold, so it is the same for both readings.",
        "",
        "Per-run reports: `bench-out/<run>/evaluation.md`; comparison: "
        "`bench-out/comparison/comparison.md` and `accuracy_vs_parameters.png`.",
    ]
    return "\n".join(lines) + "\n"
