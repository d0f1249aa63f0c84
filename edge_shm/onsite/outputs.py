"""What a forecast run leaves behind (docs/forecast.md): JSON lines, plots, GIF, report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edge_shm.onsite.render import overlay, unpack
from edge_shm.onsite.skill import METHODS, onsite_skill
from edge_shm.onsite.view import EDGE_PX, a_text, lower_bound
from edge_shm.reports.escape import md

JSONL = "forecast.jsonl"


def _clean(v):
    if isinstance(v, float) and not np.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.generic):
        return _clean(v.item())
    return v


SUMMARY_KEYS = (
    "frame",
    "name",
    "observed",
    "view_a_mm",
    "growth_mm_per_frame",
    "frames_to_critical",
    "cycles_to_critical",
    "hours_to_critical",
    "paris",
    "warning",
)


def pick(rec: dict | None, keys) -> dict | None:
    """The record's ``keys`` (None without a record)."""
    return None if rec is None else {k: rec.get(k) for k in keys}


def record_line(rec: dict) -> str:
    """One JSON line (NaN and infinities written as null: strict JSON)."""
    return json.dumps(_clean(rec), separators=(",", ":"), allow_nan=False)


def peak_memory_mb() -> dict:
    """Peak resident memory of this process and of its largest child so far (Linux: KiB)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"process": round(own, 1), "largest_child": round(child, 1)}


def summary(loop, stopped_by: str) -> dict:
    ok = [r for r in loop.records if r["status"] == "ok"]
    last = ok[-1] if ok else None
    lat = np.array([r["latency_ms"] for r in ok]) if ok else np.zeros(0)
    return _clean(
        {
            **loop.info,
            "config": loop.config(),
            "frames": len(ok),
            "skipped": [
                {"name": r["name"], "error": r["error"]}
                for r in loop.records
                if r["status"] != "ok"
            ],
            "stopped_by": stopped_by,
            "latency_ms": {
                "median": float(np.median(lat)) if lat.size else None,
                "max": float(lat.max()) if lat.size else None,
            },
            "energy": loop.energy,
            "peak_memory_MB": peak_memory_mb(),
            "last": pick(last, SUMMARY_KEYS),
            "skill_on_site": onsite_skill(loop.records, loop.cfg.horizon),
        }
    )


def plot(loop, path: Path) -> None:
    """Crack length against frame (observed, and each frame's forecasts) beside the last frame
    with its forecast drawn over it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in loop.records if r["status"] == "ok"]
    fig, (ax, im) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1.2, 1]})
    idx = np.arange(len(ok))
    a = [r["observed"].get("a_mm", np.nan) for r in ok]
    ax.plot(idx, a, "o-", color="k", label="observed")
    beyond = []  # (frame, a at least) of every crack, observed or forecast, that left the view
    for i, r in enumerate(ok):
        fa = [f.get("a_mm", np.nan) for f in r["forecast"]]
        if fa:
            ax.plot(
                [i, *range(i + 1, i + 1 + len(fa))],
                [a[i], *fa],
                "--",
                color="tab:red",
                alpha=0.5,
                label="forecast" if i == len(ok) - 1 else None,
            )
        for t, g in [(i, r["observed"]), *((i + f["horizon"], f) for f in r["forecast"])]:
            low = lower_bound(g, r.get("view_a_mm"), loop.cfg.pixel_mm)
            if low is not None:
                beyond.append((t, low))
    ax.axhline(loop.cfg.critical_mm, color="tab:orange", label="critical length")
    edge = next((r["view_a_mm"] for r in ok if r.get("view_a_mm") is not None), None)
    if edge is not None:
        ax.axhline(edge, color="tab:gray", ls=":", label=f"view's far edge (a = {edge:.4g} mm)")
    if beyond:
        t, low = zip(*beyond, strict=True)
        ax.plot(t, low, "^", color="tab:purple", ms=8, ls="none", label="beyond the view (a >=)")
    ax.set_xlabel("frame")
    ax.set_ylabel("crack length a (mm, projected)")
    ax.legend(loc="upper left")
    ax.set_title("crack length: observed and forecast")
    if loop.frames:
        shape = loop.shape
        fr = unpack(loop.frames[-1], shape)
        fc = [unpack(b, shape) for b in loop.forecast_maps[-1]]
        im.imshow(overlay(fr, fc, 1))
        name = ok[-1]["name"].replace("$", r"\$")  # a '$' would start matplotlib's mathtext
        im.set_title(f"{name}: crack (white), forecast +1 (red), +2.. (orange)")
    im.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def gif(loop, path: Path, ms_per_frame: int = 500) -> None:
    from PIL import Image

    shape = loop.shape
    pics = [
        Image.fromarray(overlay(unpack(f, shape), [unpack(b, shape) for b in fc], 3))
        for f, fc in zip(loop.frames, loop.forecast_maps, strict=True)
    ]
    if pics:
        pics[0].save(
            path, format="GIF", save_all=True, append_images=pics[1:], duration=ms_per_frame, loop=0
        )


def _fmt(v, unit: str, digits: int = 3) -> str:
    return "n/a" if v is None else f"{v:.{digits}g} {unit}"


def report(loop, summ: dict) -> str:
    last = summ["last"] or {}
    ftc = last.get("frames_to_critical") or {}
    ctc = last.get("cycles_to_critical") or {}
    obs = last.get("observed") or {}
    paris = last.get("paris") or {}
    energy = summ.get("energy") or {}
    px = loop.cfg.pixel_mm
    low = " (from a length capped by the view: a lower bound; critical may come sooner)"
    lines = [
        "# On-site crack forecast",
        "",
        f"Model: {md(summ.get('model'))} ({summ.get('backend')} backend), "
        f"source: {md(summ.get('source'))}.",
        f"Frames: {summ['frames']} processed, {len(summ['skipped'])} skipped; stopped by "
        f"{summ['stopped_by']}. Latency per frame: median "
        f"{_fmt(summ['latency_ms']['median'], 'ms')}, max {_fmt(summ['latency_ms']['max'], 'ms')}.",
        "",
        "| quantity | value |",
        "|---|---|",
        f"| crack length a (projected) | {a_text(obs, last.get('view_a_mm'), px, ' mm')} |",
        f"| crack path length | {_fmt(obs.get('length_mm'), 'mm')} |",
        f"| growth (last {loop.cfg.trend} frames) | "
        f"{_fmt(last.get('growth_mm_per_frame'), 'mm/frame')} |",
        f"| critical length | {_fmt(loop.cfg.critical_mm, 'mm')} |",
        f"| frames to critical, by the trend | {_fmt(ftc.get('trend'), 'frames')}"
        f"{low if ftc.get('a_lower_bound') else ''} |",
        f"| frames to critical, by the forecast (horizon {loop.cfg.horizon}) | "
        f"{ftc.get('forecast') if ftc.get('forecast') is not None else f'> {loop.cfg.horizon}'}"
        f"{low if ftc.get('a_lower_bound') else ''} |",
        f"| cycles to critical ({ctc.get('method', 'n/a')}) | {_fmt(ctc.get('cycles'), 'cycles')}"
        + (
            f" ({ctc.get('band', '5-95 %')}: {_fmt(ctc.get('low'), '')} to "
            f"{_fmt(ctc.get('high'), 'cycles')})"
            if ctc.get("low") is not None and ctc.get("band") != "reached"
            else (" (band unknown)" if ctc.get("band") == "unknown" else "")
        )
        + (low if ctc.get("a_lower_bound") else "")
        + " |",
        f"| time to critical (frame interval {_fmt(loop.cfg.frame_interval_s, 's')}) | "
        + _hours_text(last.get("hours_to_critical"))
        + " |",
        "| Paris fit C, m | "
        + (
            f"{paris['C']:.3g} m/cycle/(MPa sqrt(m))^m, {paris['m']:.3g}"
            if "C" in paris
            else paris.get("why", "n/a")
        )
        + " |",
        f"| warning level | **{last.get('warning', 'unknown')}** |",
        "| energy per forecast | "
        + (
            f"{energy['per_forecast_uJ']:.3g} uJ on {energy['device']}"
            if energy.get("per_forecast_uJ") is not None
            else "not given (--profile)"
        )
        + " |",
        "",
        "`forecast.png`: crack length against frame, observed and forecast, and the last frame "
        "with its forecast. `forecast.gif`: every frame with its forecast. `forecast.jsonl`: one "
        "record per frame (docs/forecast.md).",
    ]
    if getattr(loop, "camera", None) is not None:
        said = "; ".join(md(x) for x in loop.info.get("intake", [])) or "as given"
        lines += [
            "",
            f"Camera intake: mouth {md(loop.camera.mouth)}, channel {md(loop.camera.channel)}, "
            f"registration {'on' if loop.camera.register else 'off'} ({said}). `intake.png`: "
            "the first and the last frame as read, registered, beside the crack found and the "
            "fixed features (notch, ruler, scratches) left out: check the reading there.",
            "",
            "![intake](intake.png)",
        ]
    lines += skill_lines(summ.get("skill_on_site") or [])
    lines += _beyond_lines(loop.records)
    lines += [
        "",
        "| frame | name | a (mm) | growth (mm/frame) | forecast a +- its tip band, +1 .. +H (mm) "
        "| frames to critical (trend / forecast) | warning |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in loop.records:
        if r["status"] != "ok":
            lines.append(f"| {r['frame']} | {md(r['name'])} | skipped: {md(r['error'])} | | | | |")
            continue
        view = r.get("view_a_mm")
        fa = ", ".join(_with_band(f, view, px) for f in r["forecast"]) or "-"
        ftc = r["frames_to_critical"]
        lines.append(
            f"| {r['frame']} | {md(r['name'])} | {a_text(r['observed'], view, px)} | "
            f"{_fmt(r['growth_mm_per_frame'], '', 2)} | {fa} | "
            f"{_fmt(ftc['trend'], '', 2)} / {'-' if ftc['forecast'] is None else ftc['forecast']}"
            f"{' (a is a lower bound)' if ftc.get('a_lower_bound') else ''} | {r['warning']} |"
        )
    return "\n".join(lines) + "\n"


def _beyond_lines(records: list[dict]) -> list[str]:
    """What ``beyond the view`` means, when a crack observed or forecast left it."""
    ok = [r for r in records if r.get("status") == "ok"]
    if not any(g.get("left_view") for r in ok for g in [r["observed"], *r["forecast"]]):
        return []
    return [
        "",
        f"`beyond the view (>= X)`: the crack's tip lies within {EDGE_PX} px of the view's border "
        "in its growth direction (X: the view's far edge, or the tip's a where it leaves by the "
        "top or bottom): the crack goes on out of sight and its length a is at least X. Growth, "
        "frames and cycles to critical read from such a length say so: the crack may reach the "
        "critical length sooner.",
    ]


def _with_band(f: dict, view_a: float | None, pixel_mm: float) -> str:
    """A forecast a +- its band; ``beyond the view (>= X)`` for one that left the view."""
    a = a_text(f, view_a, pixel_mm)
    if f.get("left_view") or f.get("band_mm") is None:
        return a
    return f"{a} +- {f['band_mm']:.2f}"


NAMES = {
    "model": "the model",
    "copy_last": "copy-last (no growth)",
    "constant_velocity": "constant velocity",
    "constant_acceleration": "constant acceleration",
    "paris": "Paris' law",
}


def skill_lines(skill: list[dict]) -> list[str]:
    """The on-site scores: mean / median absolute error of a (mm) per horizon and method."""
    if not skill or not any(s["forecasts"] or s["paris_forecasts"] for s in skill):
        return []
    lines = [
        "",
        "How the forecasts did on these frames (each scored when its frame arrived; mean / "
        "median |a forecast - a measured|, mm; Paris' law on the frames where it could fit):",
        "",
        "| method | " + " | ".join(f"+{s['horizon']} ({s['forecasts']})" for s in skill) + " |",
        "|---|" + "---|" * len(skill),
    ]
    for m in METHODS:
        cells = []
        for s in skill:
            mean, med = s["mean_abs_error_mm"][m], s["median_abs_error_mm"][m]
            n = f" (n={s['paris_forecasts']})" if m == "paris" else ""
            cells.append("n/a" if mean is None else f"{mean:.3f} / {med:.3f}{n}")
        lines.append(f"| {NAMES[m]} | " + " | ".join(cells) + " |")
    beyond = [f"+{s['horizon']}: {s['beyond_view']}" for s in skill if s.get("beyond_view")]
    if beyond:
        lines += ["", "Not scored, the crack having left the view: " + ", ".join(beyond) + "."]
    return lines


def write_all(loop, folder: Path, stopped_by: str, figures: bool = True) -> dict:
    """summary.json and REPORT.md (and with ``figures`` forecast.png and forecast.gif), each
    replaced atomically and added to the folder's record: a reader never sees half a file."""
    from edge_shm.jsonio import write_json
    from edge_shm.outputs import atomic_file, record_written, write_text

    summ = summary(loop, stopped_by)
    write_json(folder / "summary.json", summ)
    names = ["summary.json", "REPORT.md"]
    if figures:
        drawn = (("forecast.png", plot), ("forecast.gif", gif))
        for name, draw in drawn if loop.frames else drawn[:1]:
            with atomic_file(folder / name) as tmp:
                draw(loop, tmp)
            names.append(name)
    camera = getattr(loop, "camera", None)
    if figures and camera is not None and camera.views:
        with atomic_file(folder / "intake.png") as tmp:
            intake_figure(camera, tmp)
        names.append("intake.png")
    write_text(folder / "REPORT.md", report(loop, summ))
    record_written(folder, names)
    return summ


def intake_figure(camera, path: Path) -> None:
    """The first and the last frame as the intake read them (registered to the first, the
    mouth on the left) beside the crack it found (white) and the fixed features left out
    (blue), so a person can check the reading."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(9, 6), squeeze=False)
    for row, key in enumerate(("first", "last")):
        grey, crack, fixed = camera.views[key]
        axes[row, 0].imshow(grey, cmap="gray")
        axes[row, 0].set_title(f"{key} frame, registered (mouth left)", fontsize=9)
        shown = np.zeros((*crack.shape, 3), np.float32)
        shown[fixed] = (0.2, 0.35, 0.8)
        shown[crack > 0.5] = 1.0
        axes[row, 1].imshow(shown)
        axes[row, 1].set_title("crack found (white), fixed features (blue)", fontsize=9)
    for ax in axes.ravel():
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=90)
    plt.close(fig)


def _hours_text(h: dict | None) -> str:
    """Time to critical in hours by the trend and by Paris' law, or why it is unknown."""
    if not h:
        return "unknown: no frame interval (`--frame-interval SECONDS`)"
    parts = [f"trend {_fmt(h.get('trend'), 'h')}"]
    if h.get("paris") is not None:
        band = (
            f" ({_fmt(h.get('paris_low'), '')} to {_fmt(h.get('paris_high'), 'h')})"
            if h.get("paris_low") is not None
            else ""
        )
        parts.append(f"Paris {_fmt(h['paris'], 'h')}{band}")
    return ", ".join(parts)
