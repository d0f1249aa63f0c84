"""Remaining life: frames and cycles until the crack reaches a critical length.

Crack length ``a`` is the projected length along the ligament (mm from the mouth edge, the
frame's left edge, plus any length outside the view), the length the SENT stress-intensity
formula takes (``data/generators/fcg.py``). Rules (docs/forecast.md):

- growth per frame: the mean of the last ``trend`` observed increments of ``a`` (mm/frame);
  frames to critical by that trend: ``(a_crit - a) / growth`` (None when not growing).
- from the forecast: the first horizon whose forecast ``a`` reaches ``a_crit`` (None beyond).
- cycles, where cycles per frame are known: a Paris-law fit ``da/dN = C dK^m``,
  ``dK = d_sigma sqrt(pi a) F(a/W)``, of the observed (a, N), integrated from ``a`` to
  ``a_crit``, with a 5-95 % band from the fit's parameter covariance (seeded draws).
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np

from edge_shm.data.generators.fcg import sent_geometry_factor

BAND_DRAWS = 400
BAND_SEED = 0
PRIOR_M = (2.0, 4.0)
"""Paris exponents of structural metals (steels, aluminium and titanium alloys: m about 2 to 4;
T. L. Anderson, Fracture Mechanics, 4th ed., section 10.2): the band's range of m when the
fit has too few points to estimate its own uncertainty."""
MIN_POINTS_FOR_COVARIANCE = 5
"""Lengths a fit needs before its residuals estimate the spread of (log C, m): 2 parameters
and at least 2 residual degrees of freedom beyond them."""


def growth_per_frame(a_mm: list[float], trend: int = 3) -> float | None:
    """Mean of the last ``trend`` increments of the observed lengths (mm/frame)."""
    a = np.asarray([x for x in a_mm if x is not None and np.isfinite(x)], np.float64)
    if len(a) < 2:
        return None
    return float(np.mean(np.diff(a)[-trend:]))


def frames_to_critical(a_now: float, a_crit: float, growth: float | None) -> float | None:
    """Frames until ``a_crit`` at ``growth`` mm/frame: 0 when reached, None when not growing."""
    if a_now >= a_crit:
        return 0.0
    if growth is None or growth <= 0:
        return None
    return float((a_crit - a_now) / growth)


def first_horizon_reaching(a_forecast: list[float | None], a_crit: float) -> int | None:
    """1-based horizon of the first forecast with ``a >= a_crit`` (None within the horizon)."""
    for k, a in enumerate(a_forecast, start=1):
        if a is not None and a >= a_crit:
            return k
    return None


def delta_k(a_mm, stress_range_mpa: float, width_mm: float) -> np.ndarray:
    """SENT stress-intensity range (MPa sqrt(m)) at projected lengths ``a_mm`` (mm)."""
    a = np.asarray(a_mm, np.float64)
    return stress_range_mpa * np.sqrt(np.pi * a * 1e-3) * sent_geometry_factor(a / width_mm)


def paris_cycles_between(a0, a1, log_c, m, stress_range_mpa, width_mm, nodes: int = 64):
    """Cycles to grow from ``a0`` to ``a1`` (mm) by da/dN = C dK^m (Gauss-Legendre in a).

    ``log_c`` and ``m`` may be arrays (broadcast): one integral per parameter pair."""
    x, w = _gauss_legendre(nodes)
    a = 0.5 * (a1 - a0) * x + 0.5 * (a1 + a0)  # (nodes,)
    dk = delta_k(a, stress_range_mpa, width_mm)
    log_rate = np.asarray(log_c)[..., None] + np.asarray(m)[..., None] * np.log(dk)  # m/cycle
    return 0.5 * (a1 - a0) * 1e-3 * np.sum(w * np.exp(-log_rate), axis=-1)


@functools.lru_cache(maxsize=8)
def _gauss_legendre(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(nodes)


@dataclass
class ParisFit:
    """da/dN = C dK^m fitted to observed (a, N): C in m/cycle/(MPa sqrt(m))^m."""

    C: float
    m: float
    log_c_std: float
    m_std: float
    correlation: float
    points: int
    rms_residual_cycles: float

    def to_dict(self) -> dict:
        return asdict(self)


def growth_points(a_mm, cycles, width_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """The (a, N) a Paris fit uses: finite, inside the plate, each length longer than the one
    before (a frame without growth adds nothing)."""
    a, n = np.asarray(a_mm, np.float64), np.asarray(cycles, np.float64)
    inside = (a > 0) & (a < width_mm) & np.isfinite(a) & np.isfinite(n)
    a, n = a[inside], n[inside]
    if len(a) == 0:
        return a, n
    keep = np.concatenate([[True], np.diff(a) > 0])
    return a[keep], n[keep]


def fit_paris(a_mm, cycles, stress_range_mpa: float, width_mm: float) -> ParisFit | None:
    """Least-squares fit of (log C, m) to cycles ``N_i - N_0`` predicted by integrating the law
    from ``a_0`` to each ``a_i`` (no finite differences: unbiased on coarse frames).

    Parameters
    ----------
    a_mm : (n,) projected crack lengths, mm, increasing.
    cycles : (n,) load cycles at each length.

    Returns None with fewer than 3 points of growth.
    """
    from scipy.optimize import least_squares

    a, n = growth_points(a_mm, cycles, width_mm)
    if len(a) < 3 or not np.all(np.diff(n) > 0):
        return None
    dn = n[1:] - n[0]
    # Start from finite differences at the mid-points.
    mid = 0.5 * (a[1:] + a[:-1])
    slope = np.diff(a) * 1e-3 / np.diff(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        x, y = np.log(delta_k(mid, stress_range_mpa, width_mm)), np.log(slope)
    ok = np.isfinite(x) & np.isfinite(y)
    m0 = lc0 = np.nan
    if ok.sum() >= 2 and np.ptp(x[ok]) > 0:
        m0, lc0 = np.polyfit(x[ok], y[ok], 1)
    if not (np.isfinite(m0) and np.isfinite(lc0)):
        lc0, m0 = np.log(1e-11), 3.0

    def residual(p):
        pred = np.array(
            [paris_cycles_between(a[0], ai, p[0], p[1], stress_range_mpa, width_mm) for ai in a[1:]]
        )
        return (pred - dn) / dn[-1]

    try:
        sol = least_squares(residual, [lc0, m0], method="lm")
    except (ValueError, np.linalg.LinAlgError):  # a degenerate series: no fit
        return None
    if not np.all(np.isfinite(sol.x)):
        return None
    dof = max(len(dn) - 2, 1)
    s2 = float(np.sum(sol.fun**2) / dof)
    try:
        cov = np.linalg.inv(sol.jac.T @ sol.jac) * s2
    except np.linalg.LinAlgError:
        cov = np.zeros((2, 2))
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    corr = float(cov[0, 1] / (sd[0] * sd[1])) if sd.all() else 0.0
    return ParisFit(
        C=float(np.exp(sol.x[0])),
        m=float(sol.x[1]),
        log_c_std=float(sd[0]),
        m_std=float(sd[1]),
        correlation=corr,
        points=len(a),
        rms_residual_cycles=float(np.sqrt(np.mean(sol.fun**2)) * dn[-1]),
    )


def prior_band(
    a_mm, cycles, a_now: float, a_crit: float, stress_range_mpa: float, width_mm: float
) -> tuple[float, float]:
    """(low, high) cycles from ``a_now`` to ``a_crit`` over Paris exponents ``m`` in
    :data:`PRIOR_M`, each with the C that best fits the observed (a, N) (least squares on the
    cycles from the first length, closed form for C at a given m)."""
    a, n = np.asarray(a_mm, np.float64), np.asarray(cycles, np.float64)
    out = []
    for m in np.linspace(*PRIOR_M, 21):
        per_c = np.array([paris_cycles_between(a[0], ai, 0.0, m, stress_range_mpa, width_mm)
                          for ai in a[1:]])  # fmt: skip
        inv_c = float(per_c @ (n[1:] - n[0]) / (per_c @ per_c))  # 1 / C
        ahead = paris_cycles_between(a_now, a_crit, 0.0, m, stress_range_mpa, width_mm)
        out.append(inv_c * float(ahead))
    return float(min(out)), float(max(out))


def cycles_to_critical(
    fit: ParisFit,
    a_now: float,
    a_crit: float,
    stress_range_mpa: float,
    width_mm: float,
    observed=None,
) -> dict:
    """Cycles from ``a_now`` to ``a_crit`` (median of the fit) and its band: 5-95 % from the
    fit's parameter covariance when it has :data:`MIN_POINTS_FOR_COVARIANCE` lengths or more;
    with fewer (a curve through two or three growth steps has no residuals to judge it by)
    the range over the prior exponents :data:`PRIOR_M` fitted to ``observed`` = (a_mm, cycles),
    widened to include the fit's own value; without ``observed``, no band (None). ``band``
    says which."""
    if a_now >= a_crit:
        return {"cycles": 0.0, "low": 0.0, "high": 0.0, "band": "reached"}
    if a_crit >= width_mm:
        a_crit = 0.999 * width_mm  # the SENT factor diverges at the far edge
    best = float(
        paris_cycles_between(a_now, a_crit, np.log(fit.C), fit.m, stress_range_mpa, width_mm)
    )
    sd = np.array([fit.log_c_std, fit.m_std])
    if fit.points < MIN_POINTS_FOR_COVARIANCE or not sd.any():
        if observed is None:
            return {"cycles": best, "low": None, "high": None, "band": "unknown"}
        a, n = growth_points(*observed, width_mm)
        lo, hi = prior_band(a, n, a_now, a_crit, stress_range_mpa, width_mm)
        m_lo, m_hi = PRIOR_M
        return {"cycles": best, "low": min(lo, best), "high": max(hi, best),
                "band": f"prior m {m_lo:g}-{m_hi:g}"}  # fmt: skip
    cov = np.array(
        [
            [sd[0] ** 2, fit.correlation * sd[0] * sd[1]],
            [fit.correlation * sd[0] * sd[1], sd[1] ** 2],
        ]
    )
    rng = np.random.default_rng(BAND_SEED)
    draws = rng.multivariate_normal([np.log(fit.C), fit.m], cov, size=BAND_DRAWS)
    n = paris_cycles_between(a_now, a_crit, draws[:, 0], draws[:, 1], stress_range_mpa, width_mm)
    lo, hi = np.percentile(n, [5, 95])
    return {"cycles": best, "low": float(lo), "high": float(hi), "band": "5-95 %"}


def paris_extrapolate(a_mm, cycles, cycles_next: float, width_mm: float) -> float | str:
    """The projected length (mm) at ``cycles_next`` by Paris' law fitted to (a, N); or the
    reason there is none (fewer than 3 frames of growth, a failed fit, a length beyond the
    plate)."""
    from scipy.optimize import brentq

    a_mm, cycles = np.asarray(a_mm, np.float64), np.asarray(cycles, np.float64)
    growing = np.concatenate([[True], np.diff(a_mm) > 0])
    if growing.sum() < 3 or not np.all(np.diff(cycles) >= 0):
        return "fewer than 3 frames of growth"
    fit = fit_paris(a_mm, cycles, 1.0, width_mm)
    if fit is None:
        return "the fit failed"
    a_now, dn = float(a_mm[-1]), float(cycles_next - cycles[-1])
    if dn <= 0:
        return a_now
    top = 0.999 * width_mm
    if a_now >= top:
        return "the crack is at the plate's far edge"

    def gap(a):
        return paris_cycles_between(a_now, a, np.log(fit.C), fit.m, 1.0, width_mm) - dn

    if gap(top) < 0:
        return top  # the law reaches the far edge before the next frame
    return float(brentq(gap, a_now, top, xtol=1e-6))


def baseline_lengths(a_mm: list, cycles: list, horizon: int, width_mm=None) -> dict:
    """The physical and naive forecasts of the crack length a (mm) 1..``horizon`` frames
    ahead from the observed (a, cycles) so far (None entries: no crack or no counter):
    constant velocity (the last increment repeated), constant acceleration (quadratic
    through the last three) and Paris' law (fitted to every known (a, N), frames taken at the
    last interval; its reason when it cannot)."""
    a = [x for x in a_mm if x is not None]
    out: dict = {}
    if len(a) >= 2:
        d = a[-1] - a[-2]
        out["constant_velocity"] = [a[-1] + k * d for k in range(1, horizon + 1)]
    if len(a) >= 3:
        d, acc = a[-1] - a[-2], (a[-1] - a[-2]) - (a[-2] - a[-3])
        out["constant_acceleration"] = [
            max(a[-1] + k * d + k * (k + 1) / 2 * acc, a[-1]) for k in range(1, horizon + 1)
        ]
    pairs = [(x, c) for x, c in zip(a_mm, cycles, strict=True) if x is not None and c is not None]
    if not width_mm:
        out["paris"] = {"why": "plate width unknown (--plate-width-mm)"}
    elif len(pairs) < 2 or pairs[-1][1] <= pairs[-2][1]:
        out["paris"] = {"why": "no cycle counter, or no interval between the last frames"}
    else:
        x, n = (np.array(v) for v in zip(*pairs, strict=True))
        step = n[-1] - n[-2]
        got = [paris_extrapolate(x, n, n[-1] + k * step, width_mm) for k in range(1, horizon + 1)]
        why = next((g for g in got if isinstance(g, str)), None)
        out["paris"] = {"why": why} if why else [float(g) for g in got]
    return out


def forecast_within_band(a_forecast, a_now, growth, bands) -> list:
    """The forecast lengths the warning level may use: each clipped to the measured trend
    (``a_now + k growth``) plus or minus its band; the trend itself where the band is unknown;
    never beyond ``a_now`` when the crack is not measured to grow (a crack that does not grow
    never raises the level)."""
    out = []
    for k, (a, band) in enumerate(zip(a_forecast, bands, strict=True), start=1):
        if a is None or a_now is None:
            out.append(a)
            continue
        if growth is None or growth <= 0:
            out.append(min(a, a_now))
            continue
        trend = a_now + k * growth
        b = 0.0 if band is None else band
        out.append(float(np.clip(a, trend - b, trend + b)))
    return out


LEVELS = ("unknown", "ok", "watch", "alert", "critical")


def warning_level(
    a_now: float | None,
    a_crit: float,
    horizon: int,
    frames_trend: float | None,
    frames_forecast: int | None,
) -> str:
    """critical: reached; alert: reached within the forecast horizon (forecast or trend);
    watch: within three horizons by the trend; ok otherwise; unknown without a crack."""
    if a_now is None:
        return "unknown"
    if a_now >= a_crit:
        return "critical"
    if frames_forecast is not None or (frames_trend is not None and frames_trend <= horizon):
        return "alert"
    if frames_trend is not None and frames_trend <= 3 * horizon:
        return "watch"
    return "ok"
