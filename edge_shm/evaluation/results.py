"""The typed results of an evaluation and the ``evaluation.json`` format they read and write
(format 2: format 1 of edge-shm 0.1.0 plus ``forecast``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from edge_shm.errors import UserError
from edge_shm.evaluation.metrics import CrackScores
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


def _evaluated_on(run) -> str | None:
    """What an evaluation was measured on: library fingerprint and split, else the library path
    (evaluations written before the fingerprint was recorded)."""
    if not isinstance(run, dict):
        return None
    if run.get("library_fingerprint") is not None:
        return f"library {run['library_fingerprint']}, split {run.get('split', 'test')}"
    return None if run.get("library") is None else f"library {run['library']}"
