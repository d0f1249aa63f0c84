"""Views of a library's splits that training and evaluation share: the samples trained on and
those held out for validation, and the load cycles of every frame."""

from __future__ import annotations

import numpy as np

VALIDATION_SHARE = 0.1


def train_and_validation(lib) -> tuple[np.ndarray, np.ndarray]:
    """Library indices of the train split's samples trained on, and of those held out."""
    idx = lib.indices("train")
    held = int(round(len(idx) * VALIDATION_SHARE)) if len(idx) >= 10 else 0
    return idx[: len(idx) - held], idx[len(idx) - held :]


def library_cycles(lib) -> np.ndarray | None:
    """(N, T) load cycles of every frame, or None when the library has none (or bad ones)."""
    c = lib.physics.get("frame_cycles") if lib.physics else None
    if c is None:
        return None
    c = np.asarray(c, np.float64)
    if c.shape != tuple(lib.frames.shape[:2]) or not np.all(np.isfinite(c)):
        return None
    return c


def calibration_samples(lib, n: int) -> np.ndarray:
    """Library indices of at most ``n`` train samples spread evenly over the train split: the
    sequences every calibration (Loihi fixed point, int8 weights, int8 ONNX) is fitted on. The
    test split is never among them."""
    from edge_shm.data.windows import evenly_spaced

    train = lib.indices("train")
    return train[evenly_spaced(len(train), n)]
