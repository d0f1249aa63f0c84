"""The ARM side of ``benchmarks/arm.py``: runs inside the arm64 root (no torch, no benchmarks)."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np


def child(folder: Path) -> None:
    """Stream ``folder/held.npy`` through every ``*.onnx`` in ``folder``: predictions, times."""
    from edge_shm.export.int8_onnx import stream_timed

    held = np.load(folder / "held.npy")
    times = {}
    for path in sorted(folder.glob("*.onnx")):
        stream_timed(path, held[:1, :2])  # warm-up: session arenas, thread pool
        pred, ms = stream_timed(path, held)
        np.save(folder / f"{path.stem}.pred.npy", pred)
        times[path.stem] = ms
    out = {"machine": platform.machine(), "ms_per_step": times}
    (folder / "times.json").write_text(json.dumps(out))
