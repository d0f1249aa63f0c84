"""Exported artefacts on the device side: recognise one and run it on sequences (torch-free).

An artefact is a ``.onnx`` step graph, a ``.nir`` graph, a Lava bundle folder (or an export
folder holding ``model.onnx`` / ``model.nir``), or a calibration folder (``edge-shm
calibrate``). What can run each is the backend table of ``backends.py``: ``onnx`` (ONNX
Runtime), ``nir`` (the numpy reference simulator; also runs a bundle's graph), ``lava`` (Loihi 2
simulation of a bundle), ``int`` (the integer engine) and ``lava-fixed`` (Lava fixed_pt, Loihi
calibrations).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_shm.firmware_sim.backends import BACKENDS, KINDS, backend_for, find_kind


def artefact_kind(path: Path) -> tuple[str, Path]:
    """(``onnx`` | ``nir`` | ``bundle`` | ``calibration``, the file or folder to open)."""
    kind, found = find_kind(path)
    return kind.name, found


def choose_backend(kind: str, backend: str | None) -> str:
    """The backend's name: ``backend`` checked against what opens ``kind``, else the kind's
    default (UserError when unknown or unable)."""
    return backend_for(kind, backend).name


def open_stepper(kind: str, path: Path, backend: str):
    """A Stepper of the artefact on ``backend`` (one that steps frames from the host)."""
    return BACKENDS[backend].open(kind, path)


def artefact_codec(kind: str, path: Path):
    """The frame codec recorded in an artefact (a motion network), or None (a pixel one)."""
    from edge_shm.firmware_sim.codec import codec_from_dict

    return codec_from_dict(KINDS[kind].codec(path))


def frame_shape(kind: str, path: Path, backend: str | None = None) -> tuple[int, int]:
    """(H, W) of the frames the artefact's graph steps (``backend`` is not needed)."""
    return tuple(KINDS[kind].frame_shape(path))


def run_artefact(
    kind: str, path: Path, backend: str, frames: np.ndarray, cycles=None
) -> np.ndarray:
    """Forecasts (N, T, H, W) float32 of sequences (N, T, H, W), each from a zero state.

    An artefact of a motion network takes camera frames of any size: they become its codec's
    rows (with ``cycles`` (N, T) where known), and its readouts forecast frames."""
    return run_measured(kind, path, backend, frames, cycles)[0]


def run_measured(
    kind: str, path: Path, backend: str, frames: np.ndarray, cycles=None
) -> tuple[np.ndarray, dict]:
    """:func:`run_artefact` and what the backend measured on the way (``Backend.measure``;
    {} for a backend that measures nothing)."""
    from edge_shm.firmware_sim.codec import decode_stream, graph_inputs

    codec = artefact_codec(kind, path)
    if codec is None:
        return _run_graph(kind, path, backend, frames)
    rows = graph_inputs(codec, frames, cycles)
    raw, facts = _run_graph(kind, path, backend, rows)
    return decode_stream(codec, frames, raw), facts


def _run_graph(kind: str, path: Path, backend: str, frames: np.ndarray):
    """The artefact's raw outputs (N, T, H, W) for its own inputs (N, T, H, W), and what the
    backend measured."""
    from edge_shm.data.frames import check_frame_shape

    check_frame_shape(frames, frame_shape(kind, path), "the artefact")
    row = BACKENDS[backend]
    if row.measure is None or row.trace is None:
        return row.run_sequences(kind, path, frames), {}
    traces = row.trace(kind, path, frames)
    raw = np.stack([t["prediction"] for t in traces]).astype(np.float32)
    return raw, row.measure(traces)
