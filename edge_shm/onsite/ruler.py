"""The pixel size from a ruler in the view: regular ticks -> mm per pixel.

A ruler photographed beside the specimen gives the images' scale. :func:`read_ruler` reads it
in a box, or else in the most periodic of four bands along the image's edges (a sixth of the
image each), on the grey image:

1. profile: each line across the band is high-passed along the band's long axis (minus its
   Gaussian mean, sigma 3 px); the lines holding structure well above the noise (the ticks)
   are averaged, signed: one peak or trough per tick, the noise averaging out;
2. period: the first strong peak of the profile's autocorrelation (lags from 4 px to a quarter
   of the band: 5 ticks at least; an oscillation, not a slow decay), at sub-pixel by a
   parabola through it; the ticks' polarity from the profile folded at that period;
3. ticks: the profile's peaks standing out of its background (median + 4 robust standard
   deviations), at sub-pixel by a parabola, numbered along the period's comb; a robust line
   (Theil-Sen) through position versus number drops what lies off the comb (the strip's ends),
   and a least-squares line through the rest gives the tick spacing over the whole ruler.

The confidence is the autocorrelation at the period times the fraction of the comb's ticks
found between the first and the last. Below :data:`MIN_CONFIDENCE`, or with fewer than
:data:`MIN_TICKS` ticks, there is no ruler (a UserError). Positions are pixel centres, px.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_shm.errors import UserError

MIN_TICKS = 5
MIN_CONFIDENCE = 0.3
MIN_PERIOD_PX = 4
HIGH_PASS_PX = 3.0
LINE_NOISE = 4.0  # a line across the band is read when its energy exceeds 4 noise variances
PROMINENCE = 0.25  # how far the autocorrelation dips before a period's peak
MIN_TOLERANCE_PX = 0.5  # ticks within this of the fitted comb always count
HARMONIC = 0.7  # an autocorrelation peak this close to the strongest one is the period


@dataclass(frozen=True)
class RulerScale:
    """What :func:`read_ruler` measured."""

    pixel_mm: float  # mm per pixel: tick_mm / tick_px
    tick_px: float  # spacing of the ticks, px
    ticks: np.ndarray  # (n,) centres of the ticks found along ``axis``, image px
    box: tuple[int, int, int, int]  # (r0, c0, r1, c1) region read, half-open, px
    confidence: float  # 0..1 (module docstring)
    axis: str = "cols"  # the image axis the ruler runs along: rows or cols


def read_ruler(image: np.ndarray, box=None, tick_mm: float = 1.0) -> RulerScale:
    """The pixel size from a ruler of regular ticks ``tick_mm`` apart.

    Parameters
    ----------
    image : (H, W) grey or (H, W, 3) RGB, integers (scaled by their type's maximum) or floats
        in [0, 1].
    box : (r0, c0, r1, c1), half-open, px: where the ruler lies (its long side along the ruler);
        None: the most periodic band along the four edges.
    tick_mm : spacing of the ticks on the ruler, mm.

    Raises
    ------
    UserError : no ruler of regular ticks (weak periodicity, too few ticks), a bad box.
    """
    grey = _grey(image)
    if not tick_mm > 0:
        raise UserError(f"the ruler's tick spacing must be positive, not {tick_mm} mm")
    boxes = [_check_box(box, grey.shape)] if box is not None else edge_bands(grey.shape)
    found = [m for m in (_measure(grey, b, tick_mm) for b in boxes) if m is not None]
    best = max(found, key=lambda m: m.confidence, default=None)
    if best is None or best.confidence < MIN_CONFIDENCE:
        where = f"in the box {tuple(box)}" if box is not None else "along the image's edges"
        score = 0.0 if best is None else best.confidence
        raise UserError(
            f"no ruler of regular ticks found {where} (periodicity {score:.2f}, needs "
            f"{MIN_CONFIDENCE} and {MIN_TICKS} ticks or more); give the ruler's box"
        )
    return best


def edge_bands(shape: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """(r0, c0, r1, c1) of the top, bottom, left and right bands, a sixth of the image each."""
    h, w = shape
    bh, bw = max(h // 6, 8), max(w // 6, 8)
    return [(0, 0, bh, w), (h - bh, 0, h, w), (0, 0, h, bw), (0, w - bw, h, w)]


def _grey(image) -> np.ndarray:
    img = np.asarray(image)
    scale = np.iinfo(img.dtype).max if np.issubdtype(img.dtype, np.integer) else 1.0
    if img.ndim == 3 and img.shape[-1] in (3, 4):
        img = img[..., :3] @ np.array([0.2125, 0.7154, 0.0721])  # luminance, as scikit-image
    if img.ndim != 2 or min(img.shape) < 8:
        raise UserError(f"a ruler is read in a grey or RGB image, not an array of {img.shape}")
    return np.asarray(img, np.float64) / scale


def _check_box(box, shape) -> tuple[int, int, int, int]:
    try:
        r0, c0, r1, c1 = (int(v) for v in box)
    except (TypeError, ValueError):
        raise UserError(f"the ruler's box must be (r0, c0, r1, c1), not {box!r}") from None
    if not (0 <= r0 < r1 <= shape[0] and 0 <= c0 < c1 <= shape[1]):
        raise UserError(f"the ruler's box {box} is not inside the {shape[0]} x {shape[1]} image")
    return r0, c0, r1, c1


def _measure(grey: np.ndarray, box, tick_mm: float) -> RulerScale | None:
    """The ruler read in ``box``, or None when nothing there is periodic."""
    from scipy.ndimage import gaussian_filter1d

    r0, c0, r1, c1 = box
    region = grey[r0:r1, c0:c1]
    axis = "cols" if region.shape[1] >= region.shape[0] else "rows"
    if axis == "rows":
        region = region.T
    if region.shape[1] < MIN_TICKS * MIN_PERIOD_PX:
        return None
    high = region - gaussian_filter1d(region, HIGH_PASS_PX, axis=1, mode="nearest")
    # the lines across the band that hold structure (ticks) well above the noise: a mean over
    # the whole band would drown ticks a few px long; signed, so the noise averages out
    noise = (1.4826 * np.median(np.abs(high - np.median(high)))) ** 2
    lines = (high**2).mean(axis=1) > LINE_NOISE * max(noise, 1e-12)
    if not lines.any():
        return None
    profile = high[lines].mean(axis=0)
    period, strength = _period(profile)
    if period is None:
        return None
    ticks = _tick_peaks(profile * _polarity(profile, period), period)
    if len(ticks) < MIN_TICKS:
        return None
    # number the ticks along the period's comb, fit a line robustly (the median of the pairs'
    # slopes), keep the ticks close to it (a strip's end a px or two off it is not a tick)
    start = _phase(ticks, period)
    number = np.round((ticks - start) / period)
    on = np.abs(ticks - start - number * period) <= period / 4
    if on.sum() < MIN_TICKS or np.ptp(number[on]) == 0:
        return None
    spacing, start = _median_line(number[on], ticks[on])
    number = np.round((ticks - start) / spacing)
    miss = np.abs(ticks - start - number * spacing)
    spread = 1.4826 * float(np.median(miss[on]))
    on = miss <= min(period / 4, max(MIN_TOLERANCE_PX, 4 * spread))
    if on.sum() < MIN_TICKS or np.ptp(number[on]) == 0:
        return None
    spacing = float(np.polyfit(number[on], ticks[on], 1)[0])
    ticks, number = ticks[on], number[on]
    found = len(ticks) / (np.ptp(number) + 1)
    return RulerScale(
        pixel_mm=tick_mm / spacing,
        tick_px=spacing,
        ticks=ticks + (c0 if axis == "cols" else r0),
        box=(r0, c0, r1, c1),
        confidence=float(np.clip(strength, 0, 1) * found),
        axis=axis,
    )


def _period(profile: np.ndarray) -> tuple[float | None, float]:
    """(period, px, or None; normalised autocorrelation there) of a profile."""
    x = profile - np.median(profile)
    top = np.percentile(np.abs(x), 97)
    # clipped: long and short ticks weigh alike, and a strong edge (the strip's ends) is tamed
    x = np.clip(x, -top, top)
    x = x - x.mean()
    n, energy = len(x), float(x @ x)
    last = n // (MIN_TICKS - 1)
    if energy <= 0 or last <= MIN_PERIOD_PX + 1:
        return None, 0.0
    acf = np.correlate(x, x, "full")[n - 1 :] / energy  # biased: decays with the lag
    lags = np.arange(MIN_PERIOD_PX, last)
    peak = (acf[lags] >= acf[lags - 1]) & (acf[lags] > acf[lags + 1])
    # an oscillation, not a slow decay: the autocorrelation dipped well below the peak before it
    dip = np.array([acf[lag] - acf[1:lag].min() for lag in lags])
    peaks = lags[peak & (dip >= PROMINENCE) & (acf[lags] > 0)]
    if len(peaks) == 0:
        return None, 0.0
    best = float(acf[peaks].max())
    lag = int(peaks[acf[peaks] >= HARMONIC * best][0])  # the fundamental, not a multiple
    # unbiased at the period: a short ruler of few ticks is as regular as a long one
    return lag + _vertex(acf[lag - 1 : lag + 2]), float(acf[lag]) * n / (n - lag)


def _polarity(profile: np.ndarray, period: float) -> float:
    """+1 when the ticks are the profile's peaks, -1 its troughs: the sign of the extreme of
    the profile folded at the period (the ticks pile up at one phase)."""
    phase = np.floor(np.arange(len(profile)) % period).astype(np.int64)
    total = np.bincount(phase, profile - np.median(profile))
    folded = total / np.maximum(np.bincount(phase), 1)
    return 1.0 if folded.max() >= -folded.min() else -1.0


def _vertex(y: np.ndarray) -> float:
    """Offset in (-0.5, 0.5) of the vertex of the parabola through 3 equally spaced values."""
    den = y[0] - 2 * y[1] + y[2]
    return 0.0 if den >= 0 else float(np.clip(0.5 * (y[0] - y[2]) / den, -0.5, 0.5))


def _tick_peaks(profile: np.ndarray, period: float) -> np.ndarray:
    """Sub-pixel positions (sorted) of the profile's peaks above its background, at least half
    a period apart (the strongest kept)."""
    base = np.median(profile)
    spread = 1.4826 * np.median(np.abs(profile - base))
    i = np.arange(1, len(profile) - 1)
    is_peak = (profile[i] >= profile[i - 1]) & (profile[i] > profile[i + 1])
    cand = i[is_peak & (profile[i] > base + 4 * max(spread, 1e-6))]
    kept: list[int] = []
    for j in cand[np.argsort(profile[cand])[::-1]]:
        if all(abs(j - k) >= period / 2 for k in kept):
            kept.append(int(j))
    kept.sort()
    return np.array([k + _vertex(profile[k - 1 : k + 2]) for k in kept])


def _phase(ticks: np.ndarray, period: float) -> float:
    """Where the comb of ``period`` that fits ``ticks`` best crosses 0 (circular mean), px."""
    mean = np.exp(2j * np.pi * ticks / period).mean()
    return float(np.angle(mean)) * period / (2 * np.pi)


def _median_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of y = intercept + slope x by Theil-Sen: medians of the pairs'
    slopes and of the intercepts, robust to a few wrong points."""
    i, j = np.triu_indices(len(x), 1)
    ok = x[j] != x[i]
    slope = float(np.median((y[j] - y[i])[ok] / (x[j] - x[i])[ok]))
    return slope, float(np.median(y - slope * x))
