"""Test-split evaluation of a next-frame model, next to the naive forecasts, as typed results.

Predictions are the model's raw outputs clipped to [0, 1] (frames are intensities). On binary
libraries (crack 1, background 0) the forecast is also scored as a crack map (the prediction
thresholded at 0.5): for a binary target that is the MAE-optimal reading of the output (the
median of a Bernoulli variable), while MSE training makes the raw output the crack probability.
Two naive forecasts are scored on the same windows: ``zeros`` (all background) and
``copy_last`` (the last input frame repeated). On crack libraries, :mod:`horizons` adds the
forecast skill (tip and length errors in mm, tolerant F1, MAE) 1 to 4 frames ahead for the
model, copy-last, constant-velocity extrapolation and all-background, with the skill against
copy-last. ``evaluation.json`` is :meth:`Evaluation.to_dict` (format 2: format 1 of edge-shm
0.1.0 plus ``forecast``).
"""

from __future__ import annotations

import numpy as np

from edge_shm.data.windows import window_starts
from edge_shm.evaluation.forecast import autoregressive_rollout, frame_forecaster, predict_next
from edge_shm.evaluation.horizons import horizon_scores, rollouts, window_contexts
from edge_shm.evaluation.metrics import crack_map, crack_thickness_px, scores
from edge_shm.evaluation.physics_baselines import WindowContext
from edge_shm.evaluation.results import (  # noqa: F401  (re-exported: their old home)
    FORMAT_NAME,
    FORMAT_VERSION,
    Evaluation,
    EvaluationArrays,
    EvaluationSummary,
    OneStep,
    Rollout,
    RolloutStep,
)
from edge_shm.evaluation.sequence import evaluate_sequence


def evaluate(model, lib, geometry: bool = True, split: str = "test") -> Evaluation:
    """All figures on the ``split`` (test; ``all`` for a library of another seed) for a
    next-frame model (a window of n_in frames -> 1 frame), or the test split for a sequence
    model (n_in -> n_out windows: :mod:`edge_shm.evaluation.sequence`)."""
    from edge_shm.data.window_dataset import WindowDataset

    if model.window is not None:
        from edge_shm.models.windows import check_window

        check_window(model.name, lib)
        return evaluate_sequence(model, lib)

    n_in = model.codec.n_in if model.codec is not None else lib.window_in
    forecast = frame_forecaster(model)
    cycles, context = test_context(lib, split)
    data = WindowDataset(lib, split, n_in=n_in, n_out=1)
    x, y = data.batch(np.arange(len(data)))
    truth, last = y[:, 0, 0].numpy(), x[:, -1, 0].numpy()
    frames = lib.split_frames(split)
    skip = lib.window_skip
    window_starts(frames.shape[1], n_in, 1, skip)  # validates the length
    if model.codec is None:
        pred = predict_next(model, x)
        roll = autoregressive_rollout(model, frames, n_in, skip)
    else:
        first = window_contexts(frames, n_in, skip, cycles, context)
        pred = forecast(x[:, :, 0].numpy(), first)
        rolled, _, _ = rollouts(
            {"m": forecast}, frames, n_in, skip, frames.shape[1], lib.binary, cycles, context, True
        )
        roll = rolled["m"]
    binary = lib.binary
    one = OneStep(
        windows=len(data),
        binary_library=binary,
        model=scores(pred, truth),
        model_thickness_px=crack_thickness_px(pred),
        zeros=scores(np.zeros_like(truth), truth),
        copy_last=scores(last, truth),
        truth_thickness_px=crack_thickness_px(truth),
        model_crack_map=scores(crack_map(pred), truth) if binary else None,
    )
    true_roll = frames[:, skip + n_in :]
    copy = np.repeat(frames[:, skip + n_in - 1 : skip + n_in], roll.shape[1], axis=1)
    steps = []
    for k in range(roll.shape[1]):
        steps.append(
            RolloutStep(
                step=k + 1,
                frame=skip + n_in + k,
                model=scores(roll[:, k], true_roll[:, k]),
                zeros=scores(np.zeros_like(true_roll[:, k]), true_roll[:, k]),
                copy_last=scores(copy[:, k], true_roll[:, k]),
                model_crack_map=scores(crack_map(roll[:, k]), true_roll[:, k]) if binary else None,
                geometry=(
                    geometry_errors(roll[:, k], true_roll[:, k], lib.pixel_mm)
                    if geometry and lib.kind in ("fcg", "imported")
                    else None
                ),
            )
        )
    keys = ("model", "zeros", "copy_last") + (("model_crack_map",) if binary else ())
    mean = {m: float(np.mean([getattr(s, m).mae for s in steps])) for m in keys}
    horizons, notes = None, {}
    if geometry and lib.kind in ("fcg", "imported"):
        methods = forecasters(model)
        horizons = horizon_scores(
            methods, frames, n_in, skip, lib.pixel_mm, cycles=cycles, context=context
        )
        notes = baseline_notes(methods)
    return Evaluation(
        one_step=one,
        rollout=Rollout(int(frames.shape[0]), steps, mean),
        arrays=EvaluationArrays(pred, roll, true_roll, frames[:, : skip + n_in]),
        forecast=horizons,
        notes=notes,
    )


def forecasters(model) -> dict:
    """The model and every baseline (naive and physical), by name: ``f(windows, ctx)``."""
    from edge_shm.evaluation.baselines import baselines

    return {"model": frame_forecaster(model), **baselines()}


def baseline_notes(methods: dict) -> dict:
    """What a reader must know about the baselines' forecasts: where Paris' law refused."""
    paris = methods.get("paris")
    if paris is None or not paris.forecasts:
        return {}
    refused = sum(paris.refusals.values())
    return {
        "paris": {
            "forecasts": paris.forecasts,
            "refused": refused,
            "reasons": dict(paris.refusals.most_common()),
            "note": "where the fit is refused the forecast is the last frame (copy-last)",
        }
    }


def test_context(lib, split: str = "test"):
    """(cycles (N_split, T) or None, WindowContext) of a library's split: load cycles where
    the library has them; the plate width of a generated crack library."""
    from edge_shm.data.splits import library_cycles

    cycles = library_cycles(lib)
    if cycles is not None:
        cycles = cycles[lib.indices(split)]
    width = lib.params.get("width_mm") if lib.kind == "fcg" else None
    width = float(width) if isinstance(width, int | float) and width > 0 else None
    return cycles, WindowContext(pixel_mm=lib.pixel_mm, width_mm=width)


def geometry_errors(pred: np.ndarray, true: np.ndarray, pixel_mm: float) -> dict:
    """Mean crack-length and tip-position errors in mm (vector encoder), NaN-safe."""
    from edge_shm.vector import compare_geometry

    rows = [compare_geometry(p, t, pixel_mm) for p, t in zip(pred, true, strict=True)]
    out = {}
    for key in rows[0] if rows else []:
        vals = np.array([r[key] for r in rows], dtype=float)
        ok = np.isfinite(vals)
        out[key] = float(vals[ok].mean()) if ok.any() else float("nan")
        out[f"{key}_missing_count"] = int((~ok).sum())
    return out
