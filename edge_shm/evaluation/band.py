"""The tip-error band of a forecast, on site: how far from the truth it may be (torch-free).

A motion run carries ``band.json`` (:mod:`edge_shm.evaluation.band_fit` calibrates it): per
horizon k the ratio q_k of the 90th percentile of tip errors to ``S + 1 px`` on held-out
windows of a moving crack; the band of a forecast is ``q_k (S + 1 px)``, S the window's mean tip
advance per frame. A run of a pixel network has no such file: its band is the 90th percentile
of the tip error at that horizon in its own ``evaluation.json`` (the same for every window), and a
run with neither has no band (the forecast is then not used for the warning level).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_shm.errors import UserError

FORMAT_NAME = "edge-shm-band"
FORMAT_VERSION = 1
MOVING_PX = 0.5
FILE = "band.json"


def read_band(run_dir) -> dict | None:
    """The run's band (None when it has none); a one-line error for a malformed file."""
    from edge_shm.jsonio import read_json

    path = Path(run_dir) / FILE
    if not path.is_file():
        return None
    band = read_json(path, "band")
    ratio = band.get("ratio") if isinstance(band, dict) else None
    ok = (
        band.get("format") == FORMAT_NAME
        and band.get("format_version") == FORMAT_VERSION
        and isinstance(ratio, list)
        and ratio
        and all(isinstance(r, int | float) and np.isfinite(r) and r >= 0 for r in ratio)
    )
    if not ok:
        raise UserError(f"{path}: not an edge-shm band file (format, ratio per horizon)")
    return band


def band_mm(band: dict | None, horizon: int, scale_px: float, pixel_mm: float) -> float | None:
    """The band (mm) of a forecast ``horizon`` frames ahead from a window moving ``scale_px``
    per frame; None without a band, 0 for a still crack. Beyond the calibrated horizons: the
    last one's ratio, grown linearly with the horizon."""
    if band is None or not np.isfinite(scale_px):
        return None
    if scale_px < MOVING_PX:
        return 0.0
    r = band["ratio"]
    q = r[horizon - 1] if horizon <= len(r) else r[-1] * horizon / len(r)
    return float(q * (scale_px + 1.0) * pixel_mm)


def evaluation_band(run_dir) -> dict | None:
    """A pixel run's band from its evaluation.json: the model's 90th percentile tip error (mm)
    per horizon (None without an evaluation with forecast horizons)."""
    from edge_shm.jsonio import read_json

    path = Path(run_dir) / "evaluation.json"
    if not path.is_file():
        return None
    try:
        horizons = read_json(path).get("forecast", {}).get("horizons", [])
        p90 = [float(h["methods"]["model"]["tip_error_mm"]["p90"]) for h in horizons]
    except (UserError, AttributeError, KeyError, TypeError, ValueError):
        return None
    if not p90 or not all(np.isfinite(p90)):
        return None
    return {"p90_mm": p90, "source": f"{path}: the model's 90th percentile tip error"}


def forecast_band(band: dict | None, horizon: int, scale_px: float | None, pixel_mm: float):
    """The band (mm) of a forecast ``horizon`` frames ahead: from a run's band.json
    (:func:`band_mm`) or its evaluation (``p90_mm``); None when unknown."""
    if band is None:
        return None
    if "p90_mm" in band:
        p = band["p90_mm"]
        return float(p[horizon - 1] if horizon <= len(p) else p[-1] * horizon / len(p))
    return None if scale_px is None else band_mm(band, horizon, scale_px, pixel_mm)
