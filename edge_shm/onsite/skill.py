"""How the forecasts did on site: each forecast of a, scored when its frame arrived.

A forecast made at frame t for k frames ahead is scored against the crack length measured at
frame t + k (once that frame arrived and shows a crack), beside the naive and physical
forecasts of the same record (``baselines_a_mm``: constant velocity, constant acceleration,
Paris' law) and copy-last (a stays as it is). Errors are absolute differences of the projected
length a, mm: what a user on site can check on their own frames. A frame whose crack has left
the view (``observed.left_view``) measures only a lower bound of a: no forecast is scored
against it (counted in ``beyond_view``).
"""

from __future__ import annotations

import numpy as np

METHODS = ("model", "copy_last", "constant_velocity", "constant_acceleration", "paris")


def _forecast_a(rec: dict, method: str, k: int):
    if method == "model":
        fc = rec.get("forecast") or []
        return fc[k - 1].get("a_mm") if len(fc) >= k else None
    if method == "copy_last":
        return (rec.get("observed") or {}).get("a_mm")
    got = (rec.get("baselines_a_mm") or {}).get(method)
    return got[k - 1] if isinstance(got, list) and len(got) >= k else None


def onsite_skill(records: list[dict], horizon: int) -> list[dict]:
    """Per horizon k and method: how many forecasts were scored and their mean and median
    absolute error of a (mm). The model, copy-last, constant velocity and constant
    acceleration are scored on the same frames (where all four forecast); Paris' law on the
    frames where it could fit (``paris_forecasts``); ``beyond_view``: forecasts not scored, their
    frame's crack having left the view."""
    ok = {r["frame"]: r for r in records if r.get("status") == "ok"}
    out = []
    for k in range(1, horizon + 1):
        errors = {m: [] for m in METHODS}
        beyond = 0
        for t, rec in ok.items():
            later = (ok.get(t + k) or {}).get("observed") or {}
            truth = later.get("a_mm")
            if truth is None:
                continue
            if later.get("left_view"):
                beyond += _forecast_a(rec, "model", k) is not None
                continue
            got = {m: _forecast_a(rec, m, k) for m in METHODS}
            if all(got[m] is not None for m in METHODS[:4]):
                for m in METHODS[:4]:
                    errors[m].append(abs(got[m] - truth))
            if got["paris"] is not None:
                errors["paris"].append(abs(got["paris"] - truth))
        out.append(
            {
                "horizon": k,
                "forecasts": len(errors["model"]),
                "paris_forecasts": len(errors["paris"]),
                "beyond_view": beyond,
                "mean_abs_error_mm": {m: _stat(np.mean, e) for m, e in errors.items()},
                "median_abs_error_mm": {m: _stat(np.median, e) for m, e in errors.items()},
            }
        )
    return out


def _stat(f, values: list) -> float | None:
    return float(f(values)) if values else None
