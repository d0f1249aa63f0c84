"""The on-site loop as a use case: frames in (a stack, an image folder, a library sample or a
watched folder), forecasts, crack geometry and remaining life out (the ``forecast`` command).

:func:`forecast_run` checks the request, opens the forecaster (:mod:`edge_shm.app.forecaster`),
builds the intake and the frame source, and pushes frames through the loop, writing the
forecast folder as it goes. Nothing is printed: frames of a finite source advance a
``progress("forecast", frames)`` stage, and news (the dashboard's address, a ruler's reading,
what the camera intake decided, each frame of a watched folder) goes to ``note(line)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from edge_shm.app.forecaster import OpenForecaster, open_forecaster
from edge_shm.app.progress import Note, Stages, no_note, quiet
from edge_shm.errors import UserError

MAX_HORIZON = 64  # frames ahead; the bands are calibrated to a few
MAX_WINDOW = 1024  # frames per forecast
MAX_A_OFFSET_MM = 10_000.0  # crack length outside the view
FIGURES_EVERY = 10  # frames between refreshes of forecast.png and forecast.gif while running
KIND = "forecast folder"


@dataclass(frozen=True)
class ForecastRequest:
    """A forecast to run (the ``forecast`` command's options, same names).

    Exactly one of ``frames`` (an image folder, a .npy (T, H, W) stack or a library .h5, of
    which ``sample``) and ``watch`` (a folder images are written into). ``horizon``: forecasts
    per frame (1..horizon frames ahead); ``critical``: critical crack length, mm; ``window``
    (frames per forecast) and ``pixel_mm`` (model-frame pixel edge, mm) override what the
    model records; ``cycles_per_frame``, ``cycles_file`` (JSON ``{"cycles": [...]}``),
    ``stress_range`` (MPa), ``plate_width`` (mm) feed the Paris fit; ``a_offset``: crack length
    left of the view, mm; ``profile``: a profile folder (energy per forecast); ``serve``,
    ``host``: the live dashboard; ``roi``, ``binarize``, ``crack``, ``mouth``, ``channel``,
    ``register``, ``mask``, ``ruler``: how frames are read (docs/forecast.md).
    """

    model: Path
    output: Path
    frames: Path | None = None
    sample: int | None = None
    watch: Path | None = None
    max_frames: int | None = None
    horizon: int = 4
    critical: float = 8.0
    backend: str | None = None
    window: int | None = None
    roi: str = "none"
    binarize: str = "auto"
    crack: str = "bright"
    pixel_mm: float | None = None
    cycles_per_frame: float | None = None
    cycles_file: Path | None = None
    stress_range: float | None = None
    plate_width: float | None = None
    a_offset: float = 0.0
    profile: Path | None = None
    serve: int | None = None
    host: str = "127.0.0.1"
    mouth: str = "left"
    channel: str = "luminance"
    register: bool = True
    mask: Path | None = None
    ruler: bool = False
    frame_interval_s: float | None = None


@dataclass(frozen=True)
class ForecastResult:
    """A finished forecast. ``summary``: summary.json's content; ``stopped_by``: what ended
    it; ``warning``: the last warning level; ``interrupt``: the signal (KeyboardInterrupt)
    that ended it, to be re-raised by the caller once it has said the rest (the outputs are
    written)."""

    output: Path
    frames: int
    skipped: int
    stopped_by: str
    warning: str
    summary: dict
    interrupt: KeyboardInterrupt | None = None


def forecast_run(
    request: ForecastRequest, progress: Stages = quiet, note: Note = no_note
) -> ForecastResult:
    """Run the on-site loop over the request's frames and write the forecast folder."""
    from edge_shm.onsite.cycles import read_cycles_file
    from edge_shm.onsite.intake import Intake
    from edge_shm.onsite.loop import ForecastLoop, LoopConfig
    from edge_shm.outputs import Output, owned, plan_outputs

    r = request
    frames, watch = r.frames, r.watch
    if (frames is None) == (watch is None):
        raise UserError("give exactly one of --frames SRC and --watch DIR")
    if watch is not None and not watch.is_dir():
        raise UserError(f"--watch {watch}: not a folder")
    _positive(horizon=r.horizon, critical_length=r.critical, max_frames=r.max_frames)
    _positive(window=r.window, pixel_mm=r.pixel_mm, cycles_per_frame=r.cycles_per_frame)
    _positive(stress_range_mpa=r.stress_range, plate_width_mm=r.plate_width)
    _positive(frame_interval=r.frame_interval_s)
    _at_most(horizon=(r.horizon, MAX_HORIZON), window=(r.window, MAX_WINDOW))
    if not (math.isfinite(r.a_offset) and abs(r.a_offset) <= MAX_A_OFFSET_MM):
        raise UserError(
            f"--a-offset-mm must be a length within +-{MAX_A_OFFSET_MM:g} mm, got {r.a_offset}"
        )
    given = (frames, watch, r.profile, r.cycles_file, r.mask)
    (output,) = plan_outputs(
        [Output(r.output, KIND, True, owned(KIND))], [r.model, *(p for p in given if p is not None)]
    )
    for folder in (f for f in (frames, watch) if f is not None and f.is_dir()):
        if folder.resolve() in output.resolve().parents:
            raise UserError(f"{output}: inside the image folder {folder}; choose another output")
    opened = open_forecaster(r.model, r.backend)
    n_in = r.window or opened.n_in
    if n_in is None:
        raise UserError(f"{r.model}: its window is unknown; give --window N")
    if opened.codec is not None and n_in != opened.codec.n_in:
        raise UserError(f"--window {n_in}: this motion network reads {opened.codec.n_in} frames")
    images = watch is not None or frames.is_dir()
    view = _camera_view(r, images and r.binarize == "auto")
    intake = Intake(opened.shape, r.roi, r.binarize, r.crack, camera=view)
    cycles_file = read_cycles_file(r.cycles_file) if r.cycles_file is not None else None
    named = (
        {}
        if cycles_file is None or cycles_file.names is None
        else dict(zip(cycles_file.names, cycles_file.cycles, strict=True))
    )
    order = cycles_file.order if named else None
    source = _source(frames, r.sample, intake, r.max_frames, order, note) if frames else None
    pixel_mm = r.pixel_mm
    if r.ruler:
        if pixel_mm is not None:
            raise UserError("give --pixel-mm or --ruler, not both")
        pixel_mm = _ruler_scale(frames, watch, intake, note)
    physics = source.physics if source is not None else {}
    if source is not None and len(source.arrivals) < n_in:
        raise UserError(
            f"{n_in} frames per forecast (--window) but the source has {len(source.arrivals)}"
        )
    cycles_at = None if cycles_file is None or named else list(cycles_file.cycles)
    if cycles_at is not None and source is not None:
        cycles_file.cycles_for([a.name for a in source.arrivals])  # one count per frame
    for arrival in source.arrivals if source is not None and named else []:
        arrival.cycles = named[arrival.name]
    px = pixel_mm or opened.pixel_mm or physics.get("pixel_mm")
    if px is None:
        raise UserError("the pixel size is unknown; give --pixel-mm")
    if source is not None and source.arrivals and source.arrivals[0].frame is not None:
        view_mm = source.arrivals[0].frame.shape[1] * px  # a negative offset: a margin
        if r.a_offset < -view_mm:
            raise UserError(
                f"--a-offset-mm {r.a_offset:g}: more than the {view_mm:.3g} mm wide view; a "
                "negative offset only takes off a margin before the mouth"
            )
    cfg = LoopConfig(
        n_in=n_in,
        horizon=r.horizon,
        pixel_mm=px,
        critical_mm=r.critical,
        cycles_per_frame=r.cycles_per_frame,
        cycles_at=cycles_at or physics.get("cycles"),
        stress_range_mpa=r.stress_range or physics.get("stress_range_mpa"),
        width_mm=r.plate_width or physics.get("width_mm"),
        a_offset_mm=r.a_offset,
        binary=opened.binary,
        band=opened.band,
        frame_interval_s=r.frame_interval_s,
    )
    info = _info(r, opened, source, physics)
    loop = ForecastLoop(opened.make(n_in, r.horizon, cfg.binary), cfg, _energy(r.profile), info)
    loop.camera = intake.camera
    return _run(loop, r, source, intake, output, named, progress, note)


def _info(r: ForecastRequest, opened: OpenForecaster, source, physics: dict) -> dict:
    return {
        "model": opened.name,
        "model_path": str(r.model),
        "backend": opened.backend,
        "source": source.description if source is not None else f"watching {r.watch}/",
        "physics_source": physics.get("source"),
        "forecaster": opened.forecaster,
    }


def _camera_view(r: ForecastRequest, images: bool):
    """The camera intake for image folders (the classic one for stacks, libraries and the
    explicit ``--binarize`` choices); None when not used."""
    from edge_shm.onsite.camera import CameraView

    if not images:
        if r.mouth != "left" or r.channel != "luminance" or r.mask is not None:
            raise UserError("--mouth, --channel and --mask apply to image folders (with "
                            "--binarize auto)")  # fmt: skip
        return None
    m = None
    if r.mask is not None:
        from edge_shm.data.frames import read_image

        img = read_image(r.mask)
        m = (img if img.ndim == 2 else img[0]) > 0.5
    return CameraView(r.mouth, r.channel, r.crack, r.register, m)


def _ruler_scale(frames, watch, intake, note: Note) -> float:
    """Model-frame pixel size, mm, from a ruler in the first image; said through ``note``
    and in the report."""
    from edge_shm.data.frames import IMAGE_SUFFIXES, image_files, natural_key, read_image
    from edge_shm.onsite.ruler import read_ruler

    if frames is not None:
        first = image_files(frames, sidecars=True)[0]
    else:
        images = [f for f in watch.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES]
        first = min(images, key=lambda f: natural_key(f.name), default=None)
    if first is None:
        raise UserError(f"--ruler: no image in {watch} yet to read the ruler from")
    img = read_image(first)
    img = img if img.ndim == 2 else img[0]
    scale = read_ruler(img)
    said = (f"ruler: {len(scale.ticks)} ticks of 1 mm, {scale.tick_px:.2f} px apart in "
            f"{first.name}: {scale.pixel_mm:.5f} mm per image pixel")  # fmt: skip
    note(said)
    if intake.camera is not None:
        intake.camera.said.append(said)
    return scale.pixel_mm * intake.scale(img.shape)


def _at_most(**values) -> None:
    for name, (v, most) in values.items():
        if v is not None and v > most:
            raise UserError(f"--{name} must be at most {most}, got {v}")


def _positive(**values) -> None:
    for name, v in values.items():
        if v is not None and not (math.isfinite(v) and v > 0):
            raise UserError(f"--{name.replace('_', '-')} must be positive, got {v}")


def _source(frames: Path, sample, intake, max_frames, order=None, note=no_note):
    from edge_shm.data.frames import load_npy
    from edge_shm.data.library import is_library
    from edge_shm.onsite import sources

    if not frames.exists():
        raise UserError(f"{frames}: no such file or folder")
    if sample is not None and not is_library(frames):
        raise UserError(f"--sample is for a library (.h5), not {frames}")
    if is_library(frames):
        if sample is None:
            from edge_shm.data.library import read_library

            test = read_library(frames, load_physics=False).indices("test")
            sample = int(test[0]) if len(test) else 0
        src = sources.library_source(frames, sample, intake)
    elif frames.is_dir():
        src = sources.folder_source(frames, intake, order, note)
    elif frames.suffix == ".npy":
        src = sources.stack_source(load_npy(frames), intake, frames.name)
    else:
        raise UserError(f"{frames}: not an image folder, a .npy stack or a library")
    if max_frames is not None:
        src.arrivals = src.arrivals[:max_frames]
    return src


def _energy(profile: Path | None) -> dict | None:
    """The profile's energy per forecast (device, µJ), or None without ``--profile``."""
    if profile is None:
        return None
    from edge_shm.jsonio import read_json

    path = profile / "profile.json" if profile.is_dir() else profile
    if not path.is_file():
        raise UserError(f"--profile {profile}: no profile.json (edge-shm profile ... -o DIR)")
    energy = read_json(path).get("energy") or {}
    if not energy.get("available"):
        raise UserError(f"--profile {profile}: the profile has no energy figures for its device")
    return {"device": energy["device"], "per_forecast_uJ": energy["total_pJ"] * 1e-6}


def _run(loop, r: ForecastRequest, source, intake, output, named, progress, note):
    """Frames through the loop, the outputs written where the user looks as they go: each
    record appended and flushed, summary.json and REPORT.md replaced after every frame and the
    figures every :data:`FIGURES_EVERY` frames, all of them once more at the end, whatever ends
    the run (the frames, --max-frames, a signal, the watched folder gone)."""
    from edge_shm import signals
    from edge_shm.onsite import outputs
    from edge_shm.onsite.sources import WatchEnded
    from edge_shm.onsite.sources import watch as watch_folder

    dashboard = None
    if r.serve is not None:
        from edge_shm.onsite.dashboard import Dashboard

        dashboard = Dashboard(loop, r.serve, r.host)
        note(f"dashboard: {dashboard.url} (read-only)")
    stopped, interrupt = "end of the frames", None
    folder = _live_folder(output)
    try:
        with (folder / outputs.JSONL).open("a", encoding="utf-8") as jl:
            said = intake.camera.said if intake.camera is not None else []
            told = len(said)

            def take(arrival) -> dict:
                nonlocal told
                rec = loop.push(arrival)
                for line in said[told:]:  # what the camera intake decided (mouth, channel)
                    note(line)
                told = len(said)
                loop.info["intake"] = list(said)
                jl.write(outputs.record_line(rec) + "\n")
                jl.flush()
                n = len(loop.records)
                outputs.write_all(loop, folder, "still running", figures=n % FIGURES_EVERY == 0)
                return rec

            try:
                if source is not None:
                    with progress("forecast", len(source.arrivals)) as advance:
                        for arrival in source:
                            advance(1, status_line(take(arrival)))
                else:
                    stopped = "--max-frames"
                    for arrival in watch_folder(r.watch, intake, r.max_frames, note=note):
                        if named:  # a cycles file that names its frames: by name
                            arrival.cycles = named.get(arrival.name)
                        rec = take(arrival)
                        note(f"frame {rec['frame']} {rec['name']}: {status_line(rec)}")
            except KeyboardInterrupt as e:
                interrupt = e
                stopped = signals.NAMES.get(signals.stop_signal(e), "a signal")
            except WatchEnded as e:
                stopped = str(e)
    finally:
        if dashboard is not None:
            dashboard.close()
        summ = outputs.write_all(loop, folder, stopped)
    warning = (summ["last"] or {}).get("warning", "unknown")
    n_skipped = len(summ["skipped"])
    return ForecastResult(output, summ["frames"], n_skipped, stopped, warning, summ, interrupt)


def _live_folder(output: Path) -> Path:
    """The forecast folder, made now (an earlier forecast folder there is replaced: the
    output check allowed only one that edge-shm wrote), with its record."""
    import shutil

    from edge_shm.outputs import fix_mode, record_written

    if output.exists():
        shutil.rmtree(output)
    output.mkdir()
    fix_mode(output, folder=True)
    record_written(output, ["forecast.jsonl"], KIND)
    return output


def status_line(rec: dict) -> str:
    """One frame's record in a few words: crack length (mm), growth (mm/frame), frames to
    the critical length, warning level; or why it was skipped."""
    if rec["status"] != "ok":
        return f"skipped ({rec['error']})"
    obs, ftc = rec["observed"], rec["frames_to_critical"]
    if not obs.get("crack"):
        return "no crack"
    g = rec["growth_mm_per_frame"]
    trend = ftc["trend"]
    beyond = obs.get("left_view")  # the crack reaches past the view: a is a lower bound
    return (
        (f"a >= {obs['a_mm']:.2f} mm (beyond the view)" if beyond else f"a {obs['a_mm']:.2f} mm")
        + ("" if g is None else f", {g:+.2f} mm/frame")
        + ("" if trend is None else f", critical in {trend:.1f} frames")
        + f" ({rec['warning']})"
    )
