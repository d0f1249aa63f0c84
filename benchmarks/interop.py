"""Benchmark: our NIR files in snnTorch, Norse and Sinabs, against torch, on the test split.

For the forecasting SNN and the base SNN: the file written for each consumer (``--for``), the
generic file in snnTorch 1.0.0 (what happens without the option) and the closest file Sinabs
3.1.3 can load (``--for sinabs`` refuses). Spike agreement over every neuron and step, the
first layer's activity similarity (Pearson correlation of per-neuron spike counts: the NIR
paper reports 0.67 to 0.83 across snnTorch, Sinabs and Speck on its CNN), forecast frames.
"""

from __future__ import annotations

from benchmarks.calibration import NAMES, RUNS
from benchmarks.run import stamp

SEQUENCES = 8


def run(ctx) -> str:
    from edge_shm.data.library import read_library
    from edge_shm.export.nir_consumer_run import interop_rows
    from edge_shm.runs import load_run

    frames = read_library(ctx.crack_library(), load_physics=False).split_frames("test")
    frames = frames[:SEQUENCES]
    lines = [
        f"## NIR in other frameworks ({stamp()})",
        "",
        f"{SEQUENCES} test sequences x {frames.shape[1]} frames of the full library, from a "
        "zero state, one step per frame; each file loaded the way its consumer documents it. "
        "Agreement counts every neuron at every step of every LIF layer (a Sinabs multi-spike "
        "counts as a spike); activity similarity is the Pearson correlation of the first "
        "layer's per-neuron spike counts; frames after the output operations.",
        "",
        "| model | consumer | file | decay / threshold it built | spikes agree (torch rate) "
        "| activity similarity, layer 1 | max abs frame - torch |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, sub in RUNS.items():
        model, _ = load_run(ctx.trained_run(sub.removeprefix("run-")))
        model.eval()
        for r in interop_rows(model, frames):
            if not r["ran"]:
                lines.append(f"| {NAMES[key]} | {r['consumer']} | {r['file']} | not installed |||")
                continue
            n = next(iter(r["neurons"].values()))
            lines.append(
                f"| {NAMES[key]} | {r['consumer']} {r['version']} | {r['file']} | "
                f"{n['decay']:.4f} / {n['threshold']:.4g} | {100 * r['spike_agreement']:.4f} % "
                f"({100 * r['torch_spike_rate']:.2f} %) | "
                f"{r['activity_similarity_first_layer']:.4f} | {r['max_abs_frame_diff']:.3g} |"
            )
    return "\n".join(lines) + "\n"
