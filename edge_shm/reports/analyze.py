"""The architecture analysis report (analysis.json, analysis.md, weights.png) and its console
lines; the measures are :mod:`edge_shm.app.analyze`'s."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_analysis(
    rows: list[dict], hists: dict[str, np.ndarray], out: Path, link_threshold: float
) -> None:
    """Write analysis.json, analysis.md and weights.png (the distribution of each run's
    convolution weights, ``hists``: label -> all its weights) into ``out`` atomically.
    ``link_threshold``: the smallest |w| counted as a connection."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from edge_shm.jsonio import write_json
    from edge_shm.outputs import atomic_dir

    with atomic_dir(out, "analysis folder") as tmp:
        write_json(tmp / "analysis.json", {"link_threshold": link_threshold, "runs": rows})
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
        (tmp / "analysis.md").write_text(markdown(rows, link_threshold))


def console_line(row: dict) -> str:
    """One run's figures in one line (densities and sparsity in %)."""
    sp = row["activity_sparsity"]
    return (
        f"{row['model']}: {row['conv_weights']:,} conv weights, variance {row['variance']:.3g}, "
        f"connectivity density {100 * row['connectivity_density']:.2f} %"
        + ("" if sp is None else f", activity sparsity {100 * sp:.2f} %")
    )


def markdown(rows: list[dict], link_threshold: float) -> str:
    def f(v, fmt):
        return "n/a" if v is None else format(v, fmt)

    lines = [
        "# Architecture analysis",
        "",
        f"Connectivity density: share of convolution weights with |w| >= {link_threshold:g}. "
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
