"""Exported artefacts on the device side: recognise one and run it on sequences (torch-free).

An artefact is a ``.onnx`` step graph, a ``.nir`` graph, or a Lava bundle folder (or an export
folder holding ``model.onnx`` / ``model.nir``). Backends: ``onnx`` (ONNX Runtime), ``nir`` (the
numpy reference simulator; also runs a bundle's graph), ``lava`` (Loihi 2 simulation of a
bundle), and for a calibration folder (``edge-shm calibrate``) ``int`` (the integer engine)
and ``lava-fixed`` (Lava fixed_pt, Loihi calibrations).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_shm.errors import UserError

BACKENDS = ("onnx", "nir", "lava", "int", "lava-fixed")
ALLOWED = {
    "onnx": ("onnx",),
    "nir": ("nir",),
    "bundle": ("lava", "nir"),
    "calibration": ("int", "lava-fixed"),
}


def artefact_kind(path: Path) -> tuple[str, Path]:
    """(``onnx`` | ``nir`` | ``bundle``, the file or folder to open)."""
    from edge_shm.firmware_sim.bundle import is_bundle
    from edge_shm.firmware_sim.fixed_graph import is_calibration

    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    if path.is_file() and path.suffix == ".onnx":
        return "onnx", path
    if path.is_file() and path.suffix == ".nir":
        return "nir", path
    if path.is_dir():
        if is_bundle(path):
            return "bundle", path
        if is_calibration(path):
            return "calibration", path
        for name, kind in (("model.onnx", "onnx"), ("model.nir", "nir")):
            if (path / name).is_file():
                return kind, path / name
    raise UserError(f"{path}: not an exported artefact (.onnx, .nir or a Lava bundle folder)")


def choose_backend(kind: str, backend: str | None) -> str:
    if backend is not None and backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    default = {"bundle": "lava", "calibration": "int"}
    backend = backend or default.get(kind, kind)
    if backend not in ALLOWED[kind]:
        raise UserError(f"a {kind} artefact cannot run on the {backend} backend")
    return backend


def open_stepper(kind: str, path: Path, backend: str):
    """A Stepper for the ``onnx`` and ``nir`` backends."""
    from edge_shm.firmware_sim.nir_sim import NIRStepper
    from edge_shm.graph.simulate import GraphStepper

    if backend == "onnx":
        from edge_shm.firmware_sim.onnx_runner import OnnxStepper

        return OnnxStepper(path)
    if kind == "bundle":
        from edge_shm.firmware_sim.bundle import read_bundle

        return GraphStepper(read_bundle(path).graph())
    return NIRStepper(path)


def artefact_codec(kind: str, path: Path):
    """The frame codec recorded in an artefact (a motion network), or None (a pixel one)."""
    import json

    from edge_shm.firmware_sim.codec import codec_from_dict

    if kind == "onnx":
        from edge_shm.firmware_sim.onnx_runner import onnx_metadata

        text = onnx_metadata(path).get("edge_shm_codec")
        try:
            return codec_from_dict(None if text is None else json.loads(text))
        except json.JSONDecodeError:
            raise UserError(f"{path}: its frame codec is not JSON") from None
    if kind == "bundle":
        from edge_shm.firmware_sim.bundle import read_bundle

        return codec_from_dict(read_bundle(path).graph().codec)
    if kind == "calibration":
        from edge_shm.firmware_sim.fixed_graph import FixedGraph

        return codec_from_dict(FixedGraph.load(path).codec)
    from edge_shm.graph.nir_io import read_nir

    return codec_from_dict(read_nir(path).codec)


def frame_shape(kind: str, path: Path, backend: str) -> tuple[int, int]:
    if kind == "bundle":
        from edge_shm.firmware_sim.bundle import read_bundle

        return tuple(read_bundle(path).manifest.frame_shape)
    if kind == "calibration":
        from edge_shm.firmware_sim.fixed_graph import FixedGraph

        return FixedGraph.load(path).frame_shape
    return tuple(open_stepper(kind, path, backend).frame_shape)


def run_artefact(
    kind: str, path: Path, backend: str, frames: np.ndarray, cycles=None
) -> np.ndarray:
    """Forecasts (N, T, H, W) float32 of sequences (N, T, H, W), each from a zero state.

    An artefact of a motion network takes camera frames of any size: they become its codec's
    rows (with ``cycles`` (N, T) where known), and its readouts forecast frames."""
    from edge_shm.firmware_sim.codec import decode_stream, graph_inputs

    codec = artefact_codec(kind, path)
    if codec is None:
        return _run_graph(kind, path, backend, frames)
    rows = graph_inputs(codec, frames, cycles)
    return decode_stream(codec, frames, _run_graph(kind, path, backend, rows))


def _run_graph(kind: str, path: Path, backend: str, frames: np.ndarray) -> np.ndarray:
    """The artefact's raw outputs (N, T, H, W) for its own inputs (N, T, H, W)."""
    from edge_shm.data.frames import check_frame_shape

    check_frame_shape(frames, frame_shape(kind, path, backend), "the artefact")
    if kind == "calibration":
        from edge_shm.firmware_sim.fixed_graph import FixedGraph
        from edge_shm.firmware_sim.int_engine import IntEngine

        fixed = FixedGraph.load(path)
        if backend == "lava-fixed":
            if fixed.target != "loihi":
                raise UserError(f"a {fixed.target} calibration cannot run on Lava fixed_pt")
            from edge_shm.firmware_sim.lava.fixed import run_fixed

            runs = run_fixed(path, frames)
        else:
            runs = [IntEngine(fixed).run(f) for f in frames]
        return np.stack([r["prediction"] for r in runs]).astype(np.float32)
    if backend == "lava":
        from edge_shm.firmware_sim.lava.host import run_bundle

        return np.stack([r.prediction for r in run_bundle(path, frames)]).astype(np.float32)
    from edge_shm.firmware_sim.stepper import stream

    return stream(open_stepper(kind, path, backend), frames)
