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
    """Grid of frames: one row per sample (spread over the library), up to ``max_frames`` columns."""
    n, t = lib.frames.shape[:2]
    rows = np.unique(np.linspace(0, n - 1, min(n_samples, n)).astype(int))
    cols = np.unique(np.linspace(0, t - 1, min(max_frames, t)).astype(int))
    h, w = lib.frames.shape[2:]
    fig, axes = plt.subplots(
        len(rows), len(cols), figsize=(1.6 * len(cols) * w / max(h, w) + 0.5,
                                       1.6 * len(rows) * h / max(h, w) + 0.6),
        squeeze=False,
    )
    for i, s in enumerate(rows):
        for j, f in enumerate(cols):
            ax = axes[i, j]
            ax.imshow(lib.frames[s, f], cmap="gray" if lib.kind != "turing" else "viridis",
                      vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"frame {f}", fontsize=8)
            if j == 0:
                split = "test" if lib.split[s] else "train"
                ax.set_ylabel(f"#{s} ({split})", fontsize=8)
    fig.suptitle(f"{lib.kind} library, {h}x{w} px, pixel {lib.pixel_mm:g} mm", fontsize=9)
    return save(fig, path)
