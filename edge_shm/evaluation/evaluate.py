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

from dataclasses import asdict, dataclass, field

import numpy as np

from edge_shm.data.windows import window_starts
from edge_shm.errors import UserError
from edge_shm.evaluation.forecast import autoregressive_rollout, frame_forecaster, predict_next
from edge_shm.evaluation.horizons import horizon_scores, rollouts, window_contexts
from edge_shm.evaluation.metrics import CrackScores, crack_map, crack_thickness_px, scores
from edge_shm.evaluation.physics_baselines import WindowContext
from edge_shm.evaluation.skill import TOLERANCE_PX


@dataclass
class OneStep:
    """True frames in, the next frame out, over every test window."""

    windows: int
    binary_library: bool
    model: CrackScores
    model_thickness_px: float
    zeros: CrackScores
    copy_last: CrackScores
    truth_thickness_px: float
    model_crack_map: CrackScores | None = None


@dataclass
class RolloutStep:
    """Scores of the k-th forecast of the autoregressive rollout (``frame``: its index)."""

    step: int
    frame: int
    model: CrackScores
    zeros: CrackScores
    copy_last: CrackScores
    model_crack_map: CrackScores | None = None
    geometry: dict | None = None  # mean length/tip/Hausdorff errors (mm) and missing counts


@dataclass
class Rollout:
    samples: int
    steps: list[RolloutStep]
    mean_mae: dict[str, float]


@dataclass
class EvaluationArrays:
    """one_step_pred (N_windows, H, W); rollout and rollout_truth (N, K, H, W); inputs
    (N, skip + n_in, H, W): the true frames the rollout started from."""

    one_step_pred: np.ndarray
    rollout: np.ndarray
    rollout_truth: np.ndarray
    inputs: np.ndarray


FORMAT_NAME = "edge-shm-evaluation"
FORMAT_VERSION = 2


@dataclass
class Evaluation:
    one_step: OneStep
    rollout: Rollout
    run: dict = field(default_factory=dict)
    arrays: EvaluationArrays | None = None
    forecast: list | None = None  # HorizonScores per horizon (crack libraries)
    notes: dict = field(default_factory=dict)  # about the baselines (Paris' refusals)

    def to_dict(self) -> dict:
        """The evaluation.json layout: edge-shm 0.1.0's, plus ``forecast`` (format 2)."""
        one = asdict(self.one_step)
        one["model"]["thickness_px"] = one.pop("model_thickness_px")
        if one["model_crack_map"] is None:
            one.pop("model_crack_map")
        steps = []
        for s in self.rollout.steps:
            d = asdict(s)
            for key in ("model_crack_map", "geometry"):
                if d[key] is None:
                    d.pop(key)
            steps.append(d)
        out = {
            "one_step": one,
            "rollout": {
                "samples": self.rollout.samples,
                "steps": steps,
                "mean_mae": dict(self.rollout.mean_mae),
            },
        }
        if self.run:
            out["run"] = dict(self.run)
        if self.forecast is not None:
            out["forecast"] = {
                "tolerance_px": TOLERANCE_PX,
                "horizons": [h.to_dict() for h in self.forecast],
            }
            if self.notes:
                out["forecast"]["notes"] = self.notes
        out.update(format=FORMAT_NAME, format_version=FORMAT_VERSION)
        return out


@dataclass
class EvaluationSummary:
    """What ``compare`` reads back from an evaluation.json (validated; format 1 has no
    ``forecast``: no skill figures)."""

    one_step_mae: float
    one_step_crack_map_mae: float | None
    one_step_f1: float
    rollout_mae: float
    copy_last_one_step_mae: float
    library: str | None
    horizons: list[dict] = field(default_factory=list)  # per horizon: method -> figures
    evaluated_on: str | None = None  # the library's fingerprint and split (or its path)

    @classmethod
    def from_json(cls, d: dict, where: str) -> EvaluationSummary:
        try:
            one, roll = d["one_step"], d["rollout"]
            values = cls(
                one_step_mae=float(one["model"]["mae"]),
                one_step_crack_map_mae=(
                    None if "model_crack_map" not in one else float(one["model_crack_map"]["mae"])
                ),
                one_step_f1=float(one["model"]["f1"]),
                rollout_mae=float(roll["mean_mae"]["model"]),
                copy_last_one_step_mae=float(one["copy_last"]["mae"]),
                library=(d.get("run") or {}).get("library"),
                evaluated_on=_evaluated_on(d.get("run")),
                horizons=[
                    _horizon_figures(h) for h in (d.get("forecast") or {}).get("horizons", [])
                ],
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise UserError(f"{where}: malformed evaluation ({type(e).__name__}: {e})") from None
        return values


def _num(v) -> float:
    return float("nan") if v is None else float(v)


def _horizon_figures(h: dict) -> dict:
    """method -> tip error median and p90 (mm, null read as NaN), tolerant F1, MAEs."""
    return {
        name: {
            "tip_median_mm": _num(m["tip_error_mm"]["median"]),
            "tip_p90_mm": _num(m["tip_error_mm"]["p90"]),
            "tolerant_f1": float(m["tolerant_f1"]),
            "mae_raw": float(m["mae_raw"]),
            "mae_crack_map": float(m["mae_crack_map"]),
        }
        for name, m in h["methods"].items()
    }


def evaluate(model, lib, geometry: bool = True, split: str = "test") -> Evaluation:
    """All figures on the ``split`` (test; ``all`` for a library of another seed) for a
    next-frame model (a window of n_in frames -> 1 frame), or the test split for a sequence
    model (n_in -> n_out windows: :mod:`edge_shm.evaluation.sequence`)."""
    from edge_shm.training.dataset import WindowDataset

    if getattr(model, "window", None) is not None:
        from edge_shm.evaluation.sequence import evaluate_sequence
        from edge_shm.training.loop import check_window

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
    from edge_shm.training.motion import library_cycles

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


def _evaluated_on(run) -> str | None:
    """What an evaluation was measured on: library fingerprint and split, else the library path
    (evaluations written before the fingerprint was recorded)."""
    if not isinstance(run, dict):
        return None
    if run.get("library_fingerprint") is not None:
        return f"library {run['library_fingerprint']}, split {run.get('split', 'test')}"
    return None if run.get("library") is None else f"library {run['library']}"
