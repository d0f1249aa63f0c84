"""PNG figures (matplotlib, Agg backend), written atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from edge_shm.outputs import atomic_file  # noqa: E402


def save(fig, path: str | Path) -> Path:
    path = Path(path)
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def library_preview(lib, path, n_samples: int = 4, max_frames: int = 8) -> Path:
    """Grid of frames: a row per sample (spread over the library), ``max_frames`` columns."""
    n, t = lib.frames.shape[:2]
    rows = np.unique(np.linspace(0, n - 1, min(n_samples, n)).astype(int))
    cols = np.unique(np.linspace(0, t - 1, min(max_frames, t)).astype(int))
    h, w = lib.frames.shape[2:]
    fig, axes = plt.subplots(
        len(rows),
        len(cols),
        figsize=(1.6 * len(cols) * w / max(h, w) + 0.5, 1.6 * len(rows) * h / max(h, w) + 0.6),
        squeeze=False,
    )
    for i, s in enumerate(rows):
        for j, f in enumerate(cols):
            ax = axes[i, j]
            ax.imshow(
                lib.frames[s, f],
                cmap="gray" if lib.kind != "turing" else "viridis",
                vmin=0,
                vmax=1,
                interpolation="nearest",
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"frame {f}", fontsize=8)
            if j == 0:
                split = "test" if lib.split[s] else "train"
                ax.set_ylabel(f"#{s} ({split})", fontsize=8)
    fig.suptitle(f"{lib.kind} library, {h}x{w} px, pixel {lib.pixel_mm:g} mm", fontsize=9)
    return save(fig, path)


def loss_curve(history: list[dict], path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([h["epoch"] for h in history], [h["train_loss"] for h in history], marker="o")
    ax.set_xlabel("epoch")
    ax.set_ylabel("train loss (per pixel)")
    ax.set_yscale("log")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    return save(fig, path)


def run_loss_curve(folder, config: dict, history: list[dict]) -> Path:
    """``loss.png`` of a run folder at a checkpoint (``train(on_checkpoint=...)``)."""
    title = f"{config['model']} ({config['train']['loss']})"
    return loss_curve(history, Path(folder) / "loss.png", title)


def mae_per_step(ev, path, model_name: str) -> Path:
    """MAE per autoregressive rollout step (an :class:`Evaluation`), model and baselines."""
    steps = ev.rollout.steps
    k = [s.step for s in steps]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for key, label in (
        ("model", model_name),
        ("copy_last", "copy last frame"),
        ("zeros", "all background"),
    ):
        ax.plot(k, [getattr(s, key).mae for s in steps], marker="o", label=label)
    ax.set_xlabel("rollout step (frames ahead)")
    ax.set_ylabel("MAE per pixel (1)")
    ax.set_title("autoregressive rollout, test split", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def tip_error_per_horizon(ev, path, model_name: str) -> Path:
    """Median tip error (mm, log) per forecast horizon: the model beside the naive forecasts,
    the band from the median to the 90th percentile shaded."""
    fig, ax = plt.subplots(figsize=(5, 3.4))
    from edge_shm.evaluation.baselines import LABELS

    keys = ("copy_last", "constant_velocity", "constant_acceleration", "paris")
    labels = {"model": model_name, **{k: LABELS[k] for k in keys}}
    k = [h.horizon for h in ev.forecast]
    for i, (key, label) in enumerate(labels.items()):
        if key not in ev.forecast[0].methods:  # evaluations of edge-shm 0.2 and older
            continue
        med = np.array([h.methods[key].tip_error_mm.median for h in ev.forecast])
        p90 = np.array([h.methods[key].tip_error_mm.p90 for h in ev.forecast])
        ok = np.isfinite(med)
        ax.plot(np.array(k)[ok], med[ok], marker="o", color=f"C{i}", label=label)
        both = ok & np.isfinite(p90)
        ax.fill_between(np.array(k)[both], med[both], p90[both], color=f"C{i}", alpha=0.15)
    ax.set_yscale("log")
    ax.set_xticks(k)
    ax.set_xlabel("forecast horizon (frames ahead)")
    ax.set_ylabel("tip error (mm), median to p90")
    ax.set_title("where the crack tip will be, test split", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def prediction_grid(arrays, path, model_name: str, n_samples: int = 3) -> Path:
    """Rows: samples; columns: the rollout steps, truth above prediction."""
    roll, truth = arrays.rollout, arrays.rollout_truth
    n = min(n_samples, roll.shape[0])
    steps = roll.shape[1]
    fig, axes = plt.subplots(2 * n, steps, figsize=(1.7 * steps, 2.6 * n), squeeze=False)
    for i in range(n):
        for k in range(steps):
            for j, (img, lab) in enumerate(((truth[i, k], "truth"), (roll[i, k], model_name))):
                ax = axes[2 * i + j, k]
                ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if k == 0:
                    ax.set_ylabel(f"#{i} {lab}", fontsize=7)
                if i == 0 and j == 0:
                    ax.set_title(f"+{k + 1} frame", fontsize=8)
    return save(fig, path)


def _accuracy_axes(ax, axis, xlabel: str, title: str, legend_size: int = 8) -> None:
    """Shared look of the accuracy-vs-cost scatter plots (log x, copy-last reference line);
    ``axis``: an :class:`~edge_shm.reports.comparison.AccuracyAxis`."""
    if axis.reference is not None:
        ax.axhline(axis.reference, color="grey", ls="--", lw=1, label="copy last frame")
    ax.set_xscale("log")
    if axis.tip and min(axis.values.values(), default=0) > 0:
        ax.set_yscale("log")  # tip errors span decades (0.1 mm to the plate width)
        ax.yaxis.set_minor_locator(matplotlib.ticker.LogLocator(subs=(2.0, 5.0)))
        for axis_ticks in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            axis_ticks(matplotlib.ticker.FormatStrFormatter("%g"))  # 0.2, not 2 x 10^-1
    ax.set_xlabel(xlabel)
    ax.set_ylabel(axis.label)
    if axis.left_out:
        title += f" ({len(axis.left_out)} run(s) without tip error not drawn)"
    ax.set_title(title, fontsize=9)
    if axis.reference is not None:
        ax.legend(fontsize=legend_size)
    ax.grid(alpha=0.3)


def _label(ax, text: str, xy) -> None:
    ax.annotate(text, xy, fontsize=7, xytext=(4, 4), textcoords="offset points")


def accuracy_vs_parameters(rows: list, axis, path) -> Path:
    """Accuracy (``axis``: tip error in mm, or MAE when no run has one) against parameters."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for r in (r for r in rows if r.run in axis.values):
        y = axis.values[r.run]
        ax.scatter(r.parameters, y, s=40)
        _label(ax, f"{r.model} ({r.loss})", (r.parameters, y))
    _accuracy_axes(ax, axis, "parameters (count)", "accuracy vs cost")
    return save(fig, path)


# --- profiler ------------------------------------------------------------------------------------

_ENERGY_PARTS = (
    ("mac", "MACs"),
    ("ac", "ACs (spike-driven)"),
    ("neuron_active", "neuron updates (active)"),
    ("neuron_inactive", "neuron updates (inactive)"),
    ("mult", "gate products"),
    ("add", "gate sums"),
    ("nonlinear", "nonlinearities"),
)


def energy_split(reports: list[tuple[str, dict]], path) -> Path:
    """Stacked bars of energy per forecast (uJ): compute per op class, then memory traffic."""
    fig, ax = plt.subplots(figsize=(max(4.5, 1.6 * len(reports) + 2), 3.6))
    labels = [lab for lab, _ in reports]
    x = np.arange(len(reports))
    bottom = np.zeros(len(reports))
    colors = plt.cm.tab10.colors
    for i, (key, name) in enumerate(_ENERGY_PARTS):
        vals = np.array([r.compute_pJ.get(key, 0.0) * 1e-6 for _, r in reports])
        if vals.any():
            ax.bar(x, vals, bottom=bottom, label=name, color=colors[i % 10])
            bottom += vals
    mem = np.array([r.memory_total_pJ * 1e-6 for _, r in reports])
    if mem.any():
        ax.bar(x, mem, bottom=bottom, label="memory access", color="0.35", hatch="//")
        bottom += mem
    for xi, b in zip(x, bottom, strict=True):
        ax.annotate(f"{b:.3g} uJ", (xi, b), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylabel("energy per forecast frame (uJ)")
    ax.set_title("energy per forecast: compute and memory access", fontsize=9)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.grid(alpha=0.3, axis="y")
    return save(fig, path)


def memory_budget(reports: list[tuple[str, dict]], path) -> Path:
    """Horizontal stacked bars of the memory lines (KiB) per RAM / flash, budget marked."""
    rows = []
    for label, rep in reports:
        for where in ("RAM", "flash"):
            lines = [ln for ln in rep.lines if ln.where == where]
            if lines:
                budget = next((c.budget_B for c in rep.checks if c.memory == where), None)
                rows.append((f"{label} {where}", lines, budget))
    fig, ax = plt.subplots(figsize=(7, 0.55 * len(rows) + 1.4))
    colors = plt.cm.Set2.colors
    names = []
    palette: dict[str, tuple] = {}
    for i, (_label, lines, budget) in enumerate(rows):
        left = 0.0
        for ln in lines:
            name = ln.line.split(" (")[0]
            ax.barh(
                i,
                ln.bytes / 1024,
                left=left,
                color=palette.setdefault(name, colors[len(palette) % 8]),
                label=name if name not in names else None,
            )
            names.append(name)
            left += ln.bytes / 1024
        if budget is not None:
            ax.plot([budget / 1024] * 2, [i - 0.4, i + 0.4], color="red", lw=2)
            ok = "fits" if left * 1024 <= budget else "does not fit"
            ax.annotate(
                f"budget {budget / 1024:,.0f} KiB ({ok})",
                (budget / 1024, i + 0.42),
                fontsize=6,
                color="red",
            )
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("bytes (KiB = 1,024 B, log scale)")
    ax.set_title("memory per forecast vs device budget", fontsize=9)
    ax.legend(fontsize=6, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    return save(fig, path)


def energy_vs_accuracy(rows: list, devices: list[str], axis, path) -> Path:
    """Energy per forecast (uJ, log) against accuracy (``axis``: median tip error one frame
    ahead in mm, or MAE when no run has one), one marker per run and device; spiking models in
    blue, the others in orange; no marker for a deployment that cannot exist (energy None)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    markers = "osD^v<>"
    for j, dev in enumerate(devices):
        for r in (r for r in rows if r.run in axis.values):
            uj, y = r.energy_uj.get(dev), axis.values[r.run]
            if uj is None:
                continue
            ax.scatter(
                uj, y, marker=markers[j % len(markers)], s=40, color="C0" if r.spiking else "C1"
            )
            _label(ax, f"{r.model} @ {dev}", (uj, y))
    _accuracy_axes(ax, axis, "energy per forecast frame (uJ)", "accuracy vs energy per forecast", 7)
    return save(fig, path)


def energy_vs_firing_rate(curves: list[dict], path) -> Path:
    """SNN energy per forecast vs input spike rate; LSTM and non-spiking twin as references.

    Each item: ``label``, ``curve`` (a :class:`~edge_shm.profile.energy.RateCurve`), ``references``
    (label -> pJ) and ``break_even`` (label -> rate or None).
    """
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for i, item in enumerate(curves):
        c = item["curve"]
        color = f"C{i}"
        ax.plot(c.rates, np.array(c.energy_pJ) * 1e-6, color=color, label=f"SNN @ {item['label']}")
        if c.measured_rate is not None:
            ax.scatter([c.measured_rate], [c.measured_pJ * 1e-6], color=color, zorder=3)
        for j, (ref, pj) in enumerate(item["references"].items()):
            ax.axhline(
                pj * 1e-6,
                color=color,
                ls=("--", ":")[j % 2],
                lw=1,
                label=f"{ref} @ {item['label']}",
            )
            r = item["break_even"].get(ref)
            if r is not None:
                ax.axvline(r, color=color, ls=("--", ":")[j % 2], lw=0.6)
    ax.set_yscale("log")
    ax.set_xlim(0, 1)
    ax.set_xlabel("input spike rate of the spike-driven layers (spikes / neuron / step)")
    ax.set_ylabel("energy per forecast frame (uJ)")
    ax.set_title("SNN energy vs input spike rate (dot: measured rate)", fontsize=9)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.grid(alpha=0.3)
    return save(fig, path)
