"""Evaluation on the test split: MAE (paper eq. 8), crack F1, thickness, naive baselines.

Predictions are the model's raw outputs clipped to [0, 1] (frames are intensities). Crack pixels
are those above ``CRACK_THRESHOLD``. On binary libraries (crack 1, background 0) the model's
forecast is also scored as a crack map, ``model_crack_map``: the prediction thresholded at
``CRACK_THRESHOLD``. For a binary target that is the MAE-optimal reading of the output (the
median of a Bernoulli variable), while MSE training makes the raw output the crack probability;
raw and crack-map figures are both reported. Two naive forecasts are scored on the same windows
so that a reader sees what a model adds: ``zeros`` (all background) and ``copy_last`` (the last
input frame repeated).
"""

from __future__ import annotations

import numpy as np
import torch

from edge_shm.dataset import WindowDataset, window_starts

CRACK_THRESHOLD = 0.5


def mae(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean absolute error per pixel, the paper's eq. (8): sum |y - y_hat| / (N_x N_y N)."""
    return float(np.abs(np.asarray(pred, np.float64) - np.asarray(true, np.float64)).mean())


def crack_scores(pred: np.ndarray, true: np.ndarray, threshold: float = CRACK_THRESHOLD) -> dict:
    """Precision, recall and F1 of crack pixels (pixels above ``threshold``), pooled."""
    p, t = pred > threshold, true > threshold
    tp = int(np.sum(p & t))
    fp, fn = int(np.sum(p & ~t)), int(np.sum(~p & t))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def crack_thickness_px(frames: np.ndarray, threshold: float = CRACK_THRESHOLD) -> float:
    """Mean crack thickness in pixels: crack area / skeleton length, over frames with a crack."""
    from skimage.morphology import skeletonize

    values = []
    for f in np.asarray(frames).reshape(-1, *np.shape(frames)[-2:]):
        b = f > threshold
        if b.any():
            values.append(b.sum() / max(1, skeletonize(b).sum()))
    return float(np.mean(values)) if values else float("nan")


@torch.no_grad()
def predict_windows(model, inputs: torch.Tensor, batch: int = 64) -> np.ndarray:
    """inputs (N, T, 1, H, W) -> clipped forecasts of the next frame (N, H, W)."""
    outs = [
        model(inputs[i : i + batch])[:, -1, 0].clamp(0, 1) for i in range(0, len(inputs), batch)
    ]
    return torch.cat(outs).numpy()


@torch.no_grad()
def rollout(model, frames: np.ndarray, n_in: int, skip: int = 0) -> np.ndarray:
    """Autoregressive forecast of every sample: (N, T, H, W) -> (N, T - skip - n_in, H, W).

    The first ``n_in`` frames after ``skip`` are true; every later frame is forecast from the
    last ``n_in`` frames, predictions fed back in place of the truth.
    """
    seq = torch.from_numpy(np.array(frames[:, skip : skip + n_in]))  # (N, n_in, H, W)
    preds = []
    for _ in range(frames.shape[1] - skip - n_in):
        nxt = torch.from_numpy(predict_windows(model, seq[:, -n_in:].unsqueeze(2)))
        preds.append(nxt)
        seq = torch.cat([seq, nxt.unsqueeze(1)], dim=1)
    return torch.stack(preds, dim=1).numpy()


def crack_map(pred: np.ndarray, threshold: float = CRACK_THRESHOLD) -> np.ndarray:
    """Binary crack map of a forecast: 1 where the prediction exceeds ``threshold``."""
    return (np.asarray(pred) > threshold).astype(np.float32)


def _scores(pred: np.ndarray, true: np.ndarray) -> dict:
    return {"mae": mae(pred, true), **crack_scores(pred, true)}


def evaluate(model, lib, geometry: bool = True) -> dict:
    """All test-split figures for a next-frame model (a window of n_in frames -> 1 frame)."""
    data = WindowDataset(lib, "test", n_out=1)
    x, y = data.batch(np.arange(len(data)))
    truth = y[:, 0, 0].numpy()
    last = x[:, -1, 0].numpy()
    pred = predict_windows(model, x)
    binary = bool(np.isin(lib.frames, (0.0, 1.0)).all())
    one_step = {
        "windows": len(data),
        "binary_library": binary,
        "model": _scores(pred, truth) | {"thickness_px": crack_thickness_px(pred)},
        "zeros": _scores(np.zeros_like(truth), truth),
        "copy_last": _scores(last, truth),
        "truth_thickness_px": crack_thickness_px(truth),
    }
    if binary:
        one_step["model_crack_map"] = _scores(crack_map(pred), truth)
    frames = lib.frames[lib.indices("test")]
    n_in, skip = data.n_in, lib.window_skip
    window_starts(frames.shape[1], n_in, 1, skip)  # validates the length
    roll = rollout(model, frames, n_in, skip)
    true_roll = frames[:, skip + n_in :]
    copy = np.repeat(frames[:, skip + n_in - 1 : skip + n_in], roll.shape[1], axis=1)
    steps = []
    for k in range(roll.shape[1]):
        step = {
            "step": k + 1,
            "frame": skip + n_in + k,
            "model": _scores(roll[:, k], true_roll[:, k]),
            "zeros": _scores(np.zeros_like(true_roll[:, k]), true_roll[:, k]),
            "copy_last": _scores(copy[:, k], true_roll[:, k]),
        }
        if binary:
            step["model_crack_map"] = _scores(crack_map(roll[:, k]), true_roll[:, k])
        if geometry and lib.kind in ("fcg", "imported"):
            step["geometry"] = _geometry_errors(roll[:, k], true_roll[:, k], lib.pixel_mm)
        steps.append(step)
    return {
        "one_step": one_step,
        "rollout": {
            "samples": int(frames.shape[0]),
            "steps": steps,
            "mean_mae": {
                m: float(np.mean([s[m]["mae"] for s in steps]))
                for m in ("model", "zeros", "copy_last") + (("model_crack_map",) if binary else ())
            },
        },
        "_arrays": {
            "one_step_pred": pred,
            "rollout": roll,
            "rollout_truth": true_roll,
            "inputs": frames[:, : skip + n_in],
        },
    }


def _geometry_errors(pred: np.ndarray, true: np.ndarray, pixel_mm: float) -> dict:
    """Mean crack-length and tip-position errors in mm (vector encoder), NaN-safe."""
    try:
        from edge_shm.vector import compare_geometry
    except ImportError:
        return {}
    rows = [compare_geometry(p, t, pixel_mm) for p, t in zip(pred, true, strict=True)]
    out = {}
    for key in rows[0] if rows else []:
        vals = np.array([r[key] for r in rows], dtype=float)
        ok = np.isfinite(vals)
        out[key] = float(vals[ok].mean()) if ok.any() else float("nan")
        out[f"{key}_missing_count"] = int((~ok).sum())
    return out
