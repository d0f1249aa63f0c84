"""The forecaster of a run folder or an exported artefact, on the backend asked for, with what
the on-site loop needs to know of it (window, frame shape, pixel size, band, codec)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_shm.errors import UserError

BACKENDS = ("torch", "onnx", "nir", "lava", "int")


def open_model(path: Path, backend: str | None):
    """(meta, forecaster_for(n_in, horizon, binary)) for a run or an exported artefact."""
    from edge_shm.runs import is_run

    if backend is not None and backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if is_run(path):
        if backend not in (None, "torch"):
            raise UserError(
                f"{path} is a run: the {backend} backend runs an exported artefact; "
                f"export it first (edge-shm export {path} --target ...)"
            )
        from edge_shm.evaluation.forecast import TorchStepper
        from edge_shm.runs import load_run

        model, config = load_run(path, "cpu")
        stepper = TorchStepper(model)
        meta = _run_meta(config) | {"name": config["model"], "backend": "torch"}
        meta["band"] = _band(path)
        return _streaming(meta, stepper, model.codec)
    if backend == "torch":
        raise UserError(f"{path}: the torch backend needs a run folder")
    from edge_shm.firmware_sim.artefacts import (
        artefact_codec,
        artefact_kind,
        choose_backend,
        open_stepper,
    )

    kind, art = artefact_kind(path)
    backend = choose_backend(kind, backend)
    meta = _artefact_meta(path, art) | {"backend": backend}
    codec = artefact_codec(kind, art)
    if codec is not None:
        meta["n_in"] = codec.n_in
    if backend == "lava":
        from edge_shm.firmware_sim.bundle import read_bundle
        from edge_shm.firmware_sim.lava.host import run_bundle
        from edge_shm.onsite.streaming import WindowRerunForecaster

        shape = tuple(read_bundle(art).manifest.frame_shape)
        meta["shape"] = None if codec is not None else shape
        meta["forecaster"] = "window re-run (Lava runs whole sequences)"
        meta["codec"] = codec

        def rerun(windows):
            return np.stack([r.prediction[-1] for r in run_bundle(art, windows)])

        return meta, lambda n, h, b: WindowRerunForecaster(rerun, n, h, b, meta["shape"], codec)
    if kind == "calibration":
        from edge_shm.firmware_sim.fixed_graph import FixedGraph
        from edge_shm.firmware_sim.int_engine import EngineStepper, IntEngine

        if backend != "int":
            raise UserError("forecast runs a calibration on the int backend (lava-fixed: export)")
        stepper = EngineStepper(IntEngine(FixedGraph.load(art)))
    else:
        stepper = open_stepper(kind, art, backend)
    return _streaming(meta, stepper, codec)


def _streaming(meta: dict, stepper, codec=None):
    from edge_shm.firmware_sim.codec import CodecStepper
    from edge_shm.onsite.streaming import StreamingForecaster

    if codec is not None:
        stepper = CodecStepper(stepper, codec)
    shape = None if stepper.frame_shape is None else tuple(stepper.frame_shape)
    meta = meta | {"shape": shape, "forecaster": "streaming, state carried", "codec": codec}
    return meta, lambda n, h, b: StreamingForecaster(stepper, n, h, b)


def _band(run: Path) -> dict | None:
    """The run's forecast band: band.json (motion), else its evaluation's 90th percentiles."""
    from edge_shm.evaluation.band import evaluation_band, read_band

    return read_band(run) or evaluation_band(run)


def _run_meta(config: dict) -> dict:
    window = config.get("window") or [None]
    return {
        "n_in": window[0],
        "pixel_mm": config.get("pixel_mm"),
        "binary": config.get("library_kind", "fcg") != "turing",
    }


def _artefact_meta(path: Path, art: Path) -> dict:
    """What the export folder says of its run (window, pixel size), when it can be read."""
    from edge_shm.jsonio import read_json

    meta = {"name": art.name}
    for folder in (path if path.is_dir() else path.parent, art.parent):
        exp = folder / "export.json"
        if exp.is_file():
            try:
                report = read_json(exp)
            except UserError:
                continue
            meta["name"] = report.get("model", meta["name"])
            cfg = Path(str(report.get("run", ""))) / "config.json"
            if cfg.is_file():
                try:
                    meta |= _run_meta(read_json(cfg))
                    meta["band"] = _band(cfg.parent)
                except UserError:
                    pass
            break
    return meta
