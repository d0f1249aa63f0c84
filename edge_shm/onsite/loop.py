"""The on-site loop: each arriving frame -> forecasts, crack geometry, remaining life, a record.

One :class:`ForecastLoop` per run. ``push(arrival)`` returns the frame's record (the JSON line,
schema in docs/forecast.md) and keeps what the dashboard and the final outputs show.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass

import numpy as np

from edge_shm.evaluation import remaining
from edge_shm.evaluation.band import forecast_band
from edge_shm.onsite.sources import Arrival
from edge_shm.onsite.view import measure, view_a_mm


@dataclass
class LoopConfig:
    """What the loop needs besides the model (units in the names)."""

    n_in: int
    horizon: int
    pixel_mm: float
    critical_mm: float
    cycles_per_frame: float | None = None
    cycles_at: list[float] | None = None  # the counter at each accepted frame (--cycles-file)
    stress_range_mpa: float | None = None
    width_mm: float | None = None
    a_offset_mm: float = 0.0
    trend: int = 3
    binary: bool = True
    band: dict | None = None  # the forecast's tip-error band (edge_shm.evaluation.band)
    frame_interval_s: float | None = None  # the camera's interval: time to critical in hours


def geometry(
    frame: np.ndarray, pixel_mm: float, a_offset_mm: float = 0.0, *, bridge: bool = False
) -> dict:
    """The crack in a frame (:func:`edge_shm.onsite.view.measure`): from the vector encoder as
    ``evaluate`` encodes it (skeleton gaps up to 6 px joined; a forecast with ``bridge``: the
    pieces of the map the pictures draw joined across gaps first), projected length ``a_mm``
    (tip x from the frame's left edge + offset), path length, tip, polyline and kink angles, all
    in mm, and whether the crack has left the view (``left_view``: a_mm is then a lower bound)."""
    return measure(frame, pixel_mm, a_offset_mm, bridge=bridge)


def camera_record(intake: dict, obs: dict, pixel_mm: float) -> dict:
    """What the camera intake did to a frame, with the tip in the image's own pixels (row,
    column: the frame turned back from the mouth-on-the-left view and the shift undone)."""
    from edge_shm.onsite.camera import image_point

    out = {k: intake[k] for k in ("mouth", "shift_px", "other_cracks") if k in intake}
    mouth, shape = intake.get("mouth"), intake.get("image_shape")
    if obs.get("crack") and mouth and shape:
        rows = shape[0] if mouth in ("left", "right") else shape[1]  # of the turned view
        x, y = obs["tip_mm"]  # x = (col + 0.5) px, y = (rows - row - 0.5) px (vector encoder)
        tip = (rows - 0.5 - y / pixel_mm, x / pixel_mm - 0.5)
        r, c = image_point(tip, mouth, shape)
        dr, dc = intake["shift_px"]
        out["tip_image_px"] = [round(r + dr, 2), round(c + dc, 2)]
    return out


class ForecastLoop:
    def __init__(self, forecaster, cfg: LoopConfig, energy: dict | None = None, info=None):
        """``forecaster``: a StreamingForecaster (or WindowRerunForecaster) of ``cfg``'s
        n_in and horizon."""
        self.cfg, self.energy, self.info = cfg, energy, info or {}
        self.forecaster = forecaster
        self.shape = forecaster.frame_shape  # None (any size): the first frame's
        self.records: list[dict] = []
        self.frames: list[np.ndarray] = []  # accepted frames, packed crack maps (> 0.5)
        self.forecast_maps: list[list[np.ndarray]] = []  # per accepted frame, per horizon
        self.a_obs: list[float | None] = []
        self.left_obs: list[bool] = []  # the observed crack had left the view
        self.cycles_obs: list[float | None] = []
        self.lock = threading.Lock()  # the dashboard reads while the loop writes

    def _cycles(self, arrival: Arrival) -> float | None:
        if arrival.cycles is not None:
            return arrival.cycles
        if self.cfg.cycles_at is not None and len(self.a_obs) < len(self.cfg.cycles_at):
            return float(self.cfg.cycles_at[len(self.a_obs)])
        if self.cfg.cycles_per_frame is not None:
            return self.cfg.cycles_per_frame * len(self.a_obs)
        return None

    def _ahead(self) -> list | None:
        """The cycles of the next ``horizon`` frames where the schedule is known (a cycles
        file or a library that covers them, or a constant count per frame)."""
        i, h = len(self.a_obs), self.cfg.horizon
        if self.cfg.cycles_at is not None and i + h < len(self.cfg.cycles_at):
            return [float(c) for c in self.cfg.cycles_at[i + 1 : i + 1 + h]]
        if self.cfg.cycles_per_frame is not None:
            return [self.cfg.cycles_per_frame * (i + k) for k in range(1, h + 1)]
        return None

    def _hours(self, rec: dict) -> dict:
        """Frames and cycles to critical as hours at the camera's frame interval (cycles: at
        the last interval's cycles per frame)."""
        per_h = self.cfg.frame_interval_s / 3600.0
        ftc, life = rec["frames_to_critical"], rec.get("cycles_to_critical") or {}
        out = {k: None if ftc[k] is None else ftc[k] * per_h for k in ("trend", "forecast")}
        last = [c for c in (*self.cycles_obs[-1:], rec.get("cycles")) if c is not None]
        step = last[1] - last[0] if len(last) == 2 else self.cfg.cycles_per_frame
        for k in ("cycles", "low", "high"):
            v = life.get(k)
            out[f"paris_{k}" if k != "cycles" else "paris"] = (
                v * per_h / step if v is not None and step else None
            )
        return out

    def push(self, arrival: Arrival) -> dict:
        t0 = time.perf_counter()
        rec = {"frame": len(self.records), "name": arrival.name}
        if arrival.frame is None:
            rec.update(status="skipped", error=arrival.error)
            if arrival.detail:  # the technical line behind the reason a person reads
                rec["detail"] = arrival.detail
            with self.lock:
                self.records.append(rec)
            return rec
        cfg = self.cfg
        if self.shape is not None and tuple(arrival.frame.shape) != tuple(self.shape):
            h, w = self.shape
            why = f"{arrival.frame.shape[0]} x {arrival.frame.shape[1]} px, not {h} x {w} px"
            rec.update(status="skipped", error=f"{arrival.name}: {why} as the frames before")
            with self.lock:
                self.records.append(rec)
            return rec
        self.shape = tuple(arrival.frame.shape)
        steps = self.forecaster.steps
        cycles = self._cycles(arrival)
        forecasts = self.forecaster.push(arrival.frame, cycles, self._ahead())
        obs = geometry(arrival.frame, cfg.pixel_mm, cfg.a_offset_mm)
        a_now = obs.get("a_mm")
        a_list = [*self.a_obs, a_now]
        growth = remaining.growth_per_frame(a_list, cfg.trend)
        fc = self._forecast_records(forecasts)
        used = remaining.forecast_within_band(
            [f.get("a_mm") for f in fc], a_now, growth, [f["band_mm"] for f in fc]
        )
        trend = (
            None if a_now is None else remaining.frames_to_critical(a_now, cfg.critical_mm, growth)
        )
        ahead = remaining.first_horizon_reaching(used, cfg.critical_mm)
        if a_now is not None and a_now >= cfg.critical_mm:
            ahead = 0
        left = [*self.left_obs, bool(obs.get("left_view"))]
        capped = self._capped(left[-(cfg.trend + 1) :], a_now)
        capped_fc = capped or self._capped_forecast(fc, ahead)
        rec.update(
            status="ok",
            cycles=cycles,
            observed=obs,
            view_a_mm=view_a_mm(arrival.frame.shape, cfg.pixel_mm, cfg.a_offset_mm),
            growth_mm_per_frame=growth,
            forecast=fc,
            frames_to_critical={"trend": trend, "forecast": ahead, "a_lower_bound": capped_fc},
            baselines_a_mm=remaining.baseline_lengths(
                a_list, [*self.cycles_obs, cycles], cfg.horizon, cfg.width_mm
            )
            if fc
            else {},
        )
        rec.update(self._life(a_list, [*self.cycles_obs, cycles], a_now, trend))
        life = rec["cycles_to_critical"]
        if life is not None:  # Paris' law reads every length so far, the trend the last ones
            life["a_lower_bound"] = capped or (
                life["method"] == "paris" and self._capped(left, a_now)
            )
        if cfg.frame_interval_s:
            rec["hours_to_critical"] = self._hours(rec)
        rec["warning"] = remaining.warning_level(a_now, cfg.critical_mm, cfg.horizon, trend, ahead)
        if left[-1] and rec["warning"] in ("ok", "watch"):
            # the length is a lower bound and its growth stalls at the edge: the crack may
            # already be critical beyond what the camera sees
            rec["warning"] = "alert"
            rec["warning_reason"] = "the crack has left the view: its length is a lower bound"
        if arrival.intake:
            rec["intake"] = camera_record(arrival.intake, obs, cfg.pixel_mm)
        rec["steps"] = self.forecaster.steps - steps
        rec["latency_ms"] = 1e3 * (time.perf_counter() - t0)
        with self.lock:
            self.records.append(rec)
            self.a_obs.append(a_now)
            self.left_obs.append(left[-1])
            self.cycles_obs.append(cycles)
            self.frames.append(np.packbits(arrival.frame > 0.5))
            self.forecast_maps.append([np.packbits(f > 0.5) for f in forecasts])
        return rec

    def _forecast_records(self, forecasts: list) -> list[dict]:
        """Each forecast's geometry, its tip band (mm, None when unknown) and, for a motion
        network, its members' spread (mm) and the window's mean advance (mm per frame)."""
        cfg = self.cfg
        details = self.forecaster.details
        scale = details[0].scale_px if details else None
        out = []
        for k, f in enumerate(forecasts, start=1):
            rec = {"horizon": k, **geometry(f, cfg.pixel_mm, cfg.a_offset_mm, bridge=True)}
            rec["band_mm"] = forecast_band(cfg.band, k, scale, cfg.pixel_mm)
            if k <= len(details):
                rec["spread_mm"] = details[k - 1].spread_px * cfg.pixel_mm
                rec["window_advance_mm"] = details[k - 1].scale_px * cfg.pixel_mm
            out.append(rec)
        return out

    def _capped(self, left: list[bool], a_now: float | None) -> bool:
        """Whether a remaining life read from the frames of ``left`` (each: the crack had left
        the view) comes from a length capped by the view: a crack short of critical that had
        left it (it may be longer, and reach the critical length sooner)."""
        return a_now is not None and a_now < self.cfg.critical_mm and any(left)

    def _capped_forecast(self, fc: list[dict], ahead: int | None) -> bool:
        """Whether a forecast that left the view short of critical comes before the first one
        reaching it (all, when none reaches it): the crack may reach it sooner."""
        upto = fc if ahead is None else fc[: max(ahead - 1, 0)]
        return any(f.get("left_view") for f in upto)

    def _life(self, a_list, cycles, a_now, frames_trend) -> dict:
        """Paris-law fit and cycles to critical, where cycles are known (else the reason)."""
        cfg = self.cfg
        pairs = [
            (a, c) for a, c in zip(a_list, cycles, strict=True) if a is not None and c is not None
        ]
        if a_now is None or not pairs:
            return {
                "paris": {"why": "no cycles known (library cycles or --cycles-per-frame)"},
                "cycles_to_critical": None,
            }
        out = {"paris": None, "cycles_to_critical": None}
        if cfg.stress_range_mpa and cfg.width_mm:
            a, n = (np.array(v) for v in zip(*pairs, strict=True))
            fit = remaining.fit_paris(a, n, cfg.stress_range_mpa, cfg.width_mm)
            if fit is not None:
                out["paris"] = fit.to_dict()
                out["cycles_to_critical"] = {
                    "method": "paris",
                    **remaining.cycles_to_critical(
                        fit, a_now, cfg.critical_mm, cfg.stress_range_mpa, cfg.width_mm, (a, n)
                    ),
                }
                return out
            out["paris"] = {"why": "fewer than 3 frames of growth"}
        else:
            out["paris"] = {
                "why": "no stress range and plate width (--stress-range-mpa, --plate-width-mm)"
            }
        if frames_trend is not None and len(pairs) >= 2:
            per_frame = (pairs[-1][1] - pairs[max(0, len(pairs) - 1 - cfg.trend)][1]) / min(
                cfg.trend, len(pairs) - 1
            )
            n = frames_trend * per_frame
            out["cycles_to_critical"] = {"method": "trend", "cycles": n, "low": None, "high": None}
        return out

    def config(self) -> dict:
        return asdict(self.cfg)
