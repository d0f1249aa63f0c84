"""The forecaster of a run folder or a deployment artefact, on the backend asked for, with
what the on-site loop needs to know of it (window, frame shape, pixel size, band, codec).

A run opens on the host (``torch``). An artefact opens on a device backend of
``firmware_sim/backends.py``: a Stepper streams (staggered states, one step per frame); a
runtime that runs only whole sequences re-runs each window. What the artefact was made for
comes from the artefact itself (a calibration of format 3, an ``export.json`` with ``window``
and ``pixel_mm``), else from the training run its ``export.json`` names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from edge_shm.errors import UserError
from edge_shm.firmware_sim.backends import BACKENDS, backend_for, find_kind
from edge_shm.firmware_sim.codec import MotionCodec, codec_from_dict

HOST = "torch"  # a run folder's backend: the trained model itself
STREAMING = "streaming, state carried"


def on_site_backends() -> tuple[str, ...]:
    """The ``--backend`` names ``forecast`` takes: the host's, then the device ones."""
    return (HOST, *(b.name for b in BACKENDS.values() if b.on_site))


@dataclass(frozen=True)
class OpenForecaster:
    """A forecaster ready to be made, and what it was made for.

    Attributes
    ----------
    name : the model's name (a run's registered name, an export's model, else the file name).
    backend : the backend that runs it.
    n_in : frames per forecast it was trained for; None when unknown.
    pixel_mm : its model frame's pixel edge, mm; None when unknown.
    shape : the frames (H, W) it steps; None when it takes any size (a motion network).
    binary : the data are crack maps (forecasts fed back as maps); False for Turing patterns.
    band : its tip-error band (``edge_shm.evaluation.band``), or None.
    codec : a motion network's frame codec, or None.
    forecaster : how forecasts are computed (said in the report).
    make : ``make(n_in, horizon, binary)`` -> an object with ``push(frame, cycles, ahead)``.
    """

    name: str
    backend: str
    n_in: int | None
    pixel_mm: float | None
    shape: tuple[int, int] | None
    binary: bool
    band: dict | None
    codec: MotionCodec | None
    forecaster: str
    make: Callable[[int, int, bool], object]


@dataclass(frozen=True)
class _Made:
    """What is known of an artefact or run before it is opened."""

    name: str
    n_in: int | None = None
    pixel_mm: float | None = None
    binary: bool = True
    band: dict | None = None


def open_forecaster(path: Path, backend: str | None = None) -> OpenForecaster:
    """The forecaster of a run folder (backend ``torch``) or an exported artefact (its
    default backend, or ``backend``); UserError when the pair does not go together."""
    from edge_shm.runs import is_run

    names = on_site_backends()
    if backend is not None and backend not in names:
        raise UserError(f"unknown backend {backend!r}; choose one of {', '.join(names)}")
    if is_run(path):
        if backend not in (None, HOST):
            raise UserError(
                f"{path} is a run: the {backend} backend runs an exported artefact; "
                f"export it first (edge-shm export {path} --target ...)"
            )
        return _open_run(path)
    if backend == HOST:
        raise UserError(f"{path}: the torch backend needs a run folder")
    kind, art = find_kind(path)
    runtime = backend_for(kind.name, backend, names)
    codec = codec_from_dict(kind.codec(art))
    made = _artefact_made(path, art, kind.made_for)
    if codec is not None:
        made = replace(made, n_in=codec.n_in)
    if runtime.open is None:
        from edge_shm.onsite.streaming import WindowRerunForecaster

        shape = None if codec is not None else tuple(kind.frame_shape(art))

        def rerun(windows):
            return runtime.run_sequences(kind.name, art, windows)[:, -1]

        how = f"window re-run ({runtime.title} runs whole sequences)"
        return _opened(
            made,
            runtime.name,
            shape,
            codec,
            how,
            lambda n, h, b: WindowRerunForecaster(rerun, n, h, b, shape, codec),
        )
    return _streaming(made, runtime.name, runtime.open(kind.name, art), codec)


def _open_run(path: Path) -> OpenForecaster:
    from edge_shm.evaluation.forecast import TorchStepper
    from edge_shm.runs import load_run

    model, config = load_run(path, "cpu")
    made = replace(_run_made(config), name=config["model"], band=_band(path))
    return _streaming(made, HOST, TorchStepper(model), model.codec)


def _opened(made: _Made, backend, shape, codec, how, make) -> OpenForecaster:
    return OpenForecaster(
        made.name, backend, made.n_in, made.pixel_mm, shape, made.binary, made.band, codec,
        how, make,
    )  # fmt: skip


def _streaming(made: _Made, backend: str, stepper, codec=None) -> OpenForecaster:
    from edge_shm.firmware_sim.codec import CodecStepper
    from edge_shm.onsite.streaming import StreamingForecaster

    if codec is not None:
        stepper = CodecStepper(stepper, codec)
    shape = None if stepper.frame_shape is None else tuple(stepper.frame_shape)
    return _opened(
        made,
        backend,
        shape,
        codec,
        STREAMING,
        lambda n, h, b: StreamingForecaster(stepper, n, h, b),
    )


def _band(run: Path) -> dict | None:
    """The run's forecast band: band.json (motion), else its evaluation's 90th percentiles."""
    from edge_shm.evaluation.band import evaluation_band, read_band

    return read_band(run) or evaluation_band(run)


def _run_made(config: dict) -> _Made:
    window = config.get("window") or [None]
    return _Made(
        name="",
        n_in=window[0],
        pixel_mm=config.get("pixel_mm"),
        binary=config.get("library_kind", "fcg") != "turing",
    )


def _artefact_made(path: Path, art: Path, made_for) -> _Made:
    """What an artefact was made for: its own record (``made_for``, a calibration's), else its
    export folder's ``export.json`` (``window`` and ``pixel_mm`` when it has them) and the
    training run that file names (window and pixel size where the export has none, data kind,
    band)."""
    if made_for is not None:
        return _Made(art.name, *made_for(art))
    from edge_shm.jsonio import read_json

    made = _Made(art.name)
    for folder in (path if path.is_dir() else path.parent, art.parent):
        exp = folder / "export.json"
        if not exp.is_file():
            continue
        try:
            report = read_json(exp)
        except UserError:
            continue
        if not isinstance(report, dict):
            continue
        made = replace(made, name=str(report.get("model", made.name)))
        cfg = Path(str(report.get("run", ""))) / "config.json"
        if cfg.is_file():
            try:
                made = replace(_run_made(read_json(cfg)), name=made.name, band=_band(cfg.parent))
            except UserError:
                pass
        window, pixel_mm = _recorded(report)
        return replace(
            made,
            n_in=made.n_in if window is None else window,
            pixel_mm=made.pixel_mm if pixel_mm is None else pixel_mm,
        )
    return made


def _recorded(report: dict) -> tuple[int | None, float | None]:
    """(n_in, pixel_mm) an export.json records at its top level, each None when absent or out
    of the range a calibration may record (``window``: n_in, or [n_in, n_out] as a run's
    config; ``frame_shape`` is not needed: the artefact's graph gives the frame it steps)."""
    from edge_shm.firmware_sim.fixed_checks import MAX_WINDOW, PIXEL_MM_RANGE

    window = report.get("window")
    if isinstance(window, list) and window:
        window = window[0]
    if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= MAX_WINDOW:
        window = None
    px = report.get("pixel_mm")
    lo, hi = PIXEL_MM_RANGE
    number = isinstance(px, int | float) and not isinstance(px, bool)
    ok = number and math.isfinite(px) and lo <= px <= hi
    return window, float(px) if ok else None
