"""PNG figures (matplotlib, Agg backend), written atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from edge_shm.atomic import atomic_file  # noqa: E402


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


def mae_per_step(ev: dict, path, model_name: str) -> Path:
    steps = ev["rollout"]["steps"]
    k = [s["step"] for s in steps]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for key, label in (
        ("model", model_name),
        ("copy_last", "copy last frame"),
        ("zeros", "all background"),
    ):
        ax.plot(k, [s[key]["mae"] for s in steps], marker="o", label=label)
    ax.set_xlabel("rollout step (frames ahead)")
    ax.set_ylabel("MAE per pixel (1)")
    ax.set_title("autoregressive rollout, test split", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def prediction_grid(arrays: dict, path, model_name: str, n_samples: int = 3) -> Path:
    """Rows: samples; columns: the rollout steps, truth above prediction."""
    roll, truth = arrays["rollout"], arrays["rollout_truth"]
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


def accuracy_vs_parameters(rows: list[dict], path) -> Path:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for r in rows:
        ax.scatter(r["parameters"], r["one_step_mae"], s=40)
        ax.annotate(
            f"{r['model']} ({r['loss']})",
            (r["parameters"], r["one_step_mae"]),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
        )
    ax.axhline(
        rows[0]["copy_last_one_step_mae"], color="grey", ls="--", lw=1, label="copy last frame"
    )
    ax.set_xscale("log")
    ax.set_xlabel("parameters (count)")
    ax.set_ylabel("one-step test MAE (1)")
    ax.set_title("accuracy vs cost", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save(fig, path)
