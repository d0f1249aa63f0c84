"""Architecture analysis across runs (the paper's Figure 5): convolution weight distributions,
connectivity density and, for spiking models, activity sparsity.

Connectivity density is the share of convolution weights with ``|w| >= 1e-3`` (the paper counts
a weight below 0.001 in magnitude as no connection). Activity sparsity is 1 minus the mean spike
rate of the spiking layers over test windows (spikes per neuron per step).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

LINK_THRESHOLD = 1e-3


def connectivity_density(weights: np.ndarray, threshold: float = LINK_THRESHOLD) -> float:
    """Share of weights with |w| >= ``threshold`` (the paper's linked weights)."""
    w = np.asarray(weights, np.float64).ravel()
    return float(np.mean(np.abs(w) >= threshold)) if w.size else 0.0


def conv_weights(model) -> dict[str, np.ndarray]:
    """Every convolution kernel of a torch model, by module name (biases excluded)."""
    from torch import nn

    kinds = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d)
    return {
        name: m.weight.detach().cpu().numpy()
        for name, m in model.named_modules()
        if isinstance(m, kinds)
    }


def weight_stats(weights: dict[str, np.ndarray]) -> dict:
    allw = np.concatenate([w.ravel() for w in weights.values()]) if weights else np.zeros(0)
    return {
        "conv_weights": int(allw.size),
        "mean": float(allw.mean()) if allw.size else None,
        "variance": float(allw.var()) if allw.size else None,
        "min": float(allw.min()) if allw.size else None,
        "max": float(allw.max()) if allw.size else None,
        "connectivity_density": connectivity_density(allw),
        "layers": {
            k: {"weights": int(w.size), "connectivity_density": connectivity_density(w)}
            for k, w in weights.items()
        },
    }


def activity_sparsity(model, windows) -> float | None:
    """1 - mean spike rate over the spiking layers on ``windows`` (B, T, 1, H, W); None for a
    model without spikes."""
    import torch

    if not model.capabilities.spiking:
        return None
    fired = total = 0
    with torch.no_grad():
        state = model.initial_state(windows.shape[0], windows.device)
        for t in range(windows.shape[1]):
            _, state, tr = model.trace_step(windows[:, t], state)
            for z in tr.spikes.values():
                fired += float(z.sum())
                total += z.numel()
    return 1 - fired / total if total else None


def analyze_runs(runs: list[Path], library: Path | None, out: Path, max_windows: int = 8):
    """Write analysis.json, analysis.md and weights.png for ``runs`` into ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from edge_shm.jsonio import write_json
    from edge_shm.outputs import atomic_dir
    from edge_shm.runs import load_run

    rows, hists = [], {}
    windows = None
    if library is not None:
        from edge_shm.data.library import read_library
        from edge_shm.data.windows import windows as test_windows

        lib = read_library(library, load_physics=False)
        w = test_windows(
            lib.split_frames("test"), lib.window_in, skip=lib.window_skip, max_windows=max_windows
        )
        windows = torch.from_numpy(np.ascontiguousarray(w[:, :, None]))
    for run in runs:
        model, config = load_run(run, "cpu")
        weights = conv_weights(model)
        stats = weight_stats(weights)
        sparsity = None
        if windows is not None and windows.shape[-2:] == (model.height, model.width):
            sparsity = activity_sparsity(model, windows)
        rows.append({"run": str(run), "model": config["model"], "parameters":
                     config.get("parameters"), **stats, "activity_sparsity": sparsity})  # fmt: skip
        hists[f"{Path(run).name} ({config['model']})"] = np.concatenate(
            [v.ravel() for v in weights.values()]
        )
    with atomic_dir(out, "analysis folder") as tmp:
        write_json(tmp / "analysis.json", {"link_threshold": LINK_THRESHOLD, "runs": rows})
        fig, ax = plt.subplots(figsize=(8, 4.5))
        lim = max(float(np.percentile(np.abs(v), 99.5)) for v in hists.values())
        bins = np.linspace(-lim, lim, 121)
        for name, v in hists.items():
            ax.hist(v, bins=bins, density=True, histtype="step", lw=1.5, label=name)
        ax.set_xlabel("convolution weight")
        ax.set_ylabel("density")
        ax.set_title("convolution weight distributions (99.5 % range)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(tmp / "weights.png", dpi=110)
        plt.close(fig)
        (tmp / "analysis.md").write_text(markdown(rows))
    return rows


def markdown(rows: list[dict]) -> str:
    def f(v, fmt):
        return "n/a" if v is None else format(v, fmt)

    lines = [
        "# Architecture analysis",
        "",
        f"Connectivity density: share of convolution weights with |w| >= {LINK_THRESHOLD:g}. "
        "Activity sparsity: 1 - spikes per neuron per step of the spiking layers on test "
        "windows. Weight distributions: `weights.png`.",
        "",
        "| run | model | parameters | conv weights | mean | variance | range | "
        "connectivity density | activity sparsity |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        sparsity = r["activity_sparsity"]
        lines.append(
            f"| {r['run']} | {r['model']} | {f(r['parameters'], ',')} | {r['conv_weights']:,} | "
            f"{f(r['mean'], '.2e')} | {f(r['variance'], '.2e')} | "
            f"{f(r['min'], '.3f')} .. {f(r['max'], '.3f')} | "
            f"{100 * r['connectivity_density']:.2f} % | "
            f"{'n/a' if sparsity is None else f'{100 * sparsity:.2f} %'} |"
        )
    return "\n".join(lines) + "\n"
