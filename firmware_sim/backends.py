"""The device runtimes and the artefact kinds they open, as two tables (torch-free).

An artefact kind (:class:`ArtefactKind`) says how to recognise a file or folder, where its
frame codec and frame size are recorded. A backend (:class:`Backend`) names the kinds it opens
and how it runs them: step by step (``open`` gives a :class:`~.stepper.Stepper`), whole
sequences (``run``), with every layer's spikes (``trace``). ``simulate``, ``forecast`` and
``run_artefact`` look rows up here and branch on no name; a new runtime (a C firmware built
from a calibration, say) is one more row passed to :func:`add_backend`.

Frames are float32 in [0, 1]; shapes are named where they are taken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError


@dataclass(frozen=True)
class ArtefactKind:
    """A kind of exported artefact.

    ``find(path)``: the file or folder to open when ``path`` is (or, for a folder, holds) one
    of this kind, else None. ``codec(path)``: its frame codec dict (a motion network) or None.
    ``frame_shape(path)``: (H, W) of the frames its graph steps. ``graph(path)``: the float
    :class:`~edge_shm.graph.DeploymentGraph` it holds (None: it holds none, as an ONNX file or
    an integer calibration). ``made_for(path)``: (frames per forecast n_in, pixel edge in mm)
    the artefact itself records, each None when unknown; None for a format with no place for
    them (its export folder's ``export.json`` says).
    """

    name: str
    find: Callable[[Path], Path | None]
    codec: Callable[[Path], dict | None]
    frame_shape: Callable[[Path], tuple[int, int]]
    graph: Callable[[Path], object] | None = None
    made_for: Callable[[Path], tuple[int | None, float | None]] | None = None


@dataclass(frozen=True)
class Backend:
    """A device runtime.

    ``kinds``: the artefact kinds it opens; ``default_for``: those it runs when no backend is
    named. ``open(kind, path)``: a Stepper (frames (B, 1, H, W) one step at a time, state
    carried), or None for a runtime that runs only whole sequences. ``run(kind, path, frames)``:
    raw outputs (N, T, H', W') float32 of sequences (N, T, H, W), each from a zero state; when
    None, the Stepper is streamed. ``trace(kind, path, frames)``: per sequence a dict with
    ``prediction`` (T, H', W'), ``readout`` (T, C, H, W) and ``spikes`` {LIF: (T, C, H, W)}.
    ``on_site``: ``forecast`` offers it (windows are re-run where it has no Stepper).
    ``title``: what runs the artefact, in words for reports. ``measure(traces) -> dict``:
    what a traced run measured (time, instructions, memory), for reports; None: nothing.
    """

    name: str
    kinds: tuple[str, ...]
    open: Callable[[str, Path], object] | None = None
    run: Callable[[str, Path, np.ndarray], np.ndarray] | None = None
    trace: Callable[[str, Path, np.ndarray], list[dict]] | None = None
    default_for: tuple[str, ...] = ()
    on_site: bool = True
    title: str = ""
    measure: Callable[[list[dict]], dict] | None = None

    def run_sequences(self, kind: str, path: Path, frames: np.ndarray) -> np.ndarray:
        """Raw outputs (N, T, H', W') float32 of sequences (N, T, H, W)."""
        if self.run is not None:
            return self.run(kind, path, frames)
        from edge_shm.firmware_sim.stepper import stream

        return stream(self.open(kind, path), frames)


# --- artefact kinds ---------------------------------------------------------------------------
def _file_or_member(suffix: str, member: str):
    def find(path: Path) -> Path | None:
        if path.is_file() and path.suffix == suffix:
            return path
        if path.is_dir() and (path / member).is_file():
            return path / member
        return None

    return find


def _bundle_folder(path: Path) -> Path | None:
    from edge_shm.firmware_sim.bundle import is_bundle

    return path if path.is_dir() and is_bundle(path) else None


def _calibration_folder(path: Path) -> Path | None:
    from edge_shm.firmware_sim.fixed_graph import is_calibration

    return path if path.is_dir() and is_calibration(path) else None


def _onnx_codec(path: Path) -> dict | None:
    import json

    from edge_shm.firmware_sim.onnx_runner import onnx_metadata

    text = onnx_metadata(path).get("edge_shm_codec")
    try:
        return None if text is None else json.loads(text)
    except json.JSONDecodeError:
        raise UserError(f"{path}: its frame codec is not JSON") from None


def _nir_graph(path: Path):
    from edge_shm.graph.nir_io import read_nir

    return read_nir(path)


def _bundle(path: Path):
    from edge_shm.firmware_sim.bundle import read_bundle

    return read_bundle(path)


def _bundle_graph(path: Path):
    return _bundle(path).graph()


def _fixed(path: Path):
    from edge_shm.firmware_sim.fixed_graph import FixedGraph

    return FixedGraph.load(path)


def _firmware_folder(path: Path) -> Path | None:
    return path if path.is_dir() and (path / "firmware.json").is_file() else None


def _fixed_made_for(path: Path) -> tuple[int | None, float | None]:
    fixed = _fixed(path)
    return fixed.window, fixed.pixel_mm


def _onnx_stepper(kind: str, path: Path):
    from edge_shm.firmware_sim.onnx_runner import OnnxStepper

    return OnnxStepper(path)


def _graph_stepper(kind: str, path: Path):
    """The numpy reference simulator (float64) over the float graph the artefact holds."""
    from edge_shm.graph.simulate import GraphStepper

    return GraphStepper(KINDS[kind].graph(path))


KINDS: dict[str, ArtefactKind] = {
    k.name: k
    for k in (
        # folders that describe themselves come before folders holding a model file
        ArtefactKind(
            "bundle",
            _bundle_folder,
            lambda p: _bundle_graph(p).codec,
            lambda p: tuple(_bundle(p).manifest.frame_shape),
            _bundle_graph,
        ),
        ArtefactKind(
            "firmware",
            _firmware_folder,
            lambda p: _fixed(p).codec,
            lambda p: tuple(_fixed(p).frame_shape),
            made_for=_fixed_made_for,
        ),
        ArtefactKind(
            "calibration",
            _calibration_folder,
            lambda p: _fixed(p).codec,
            lambda p: tuple(_fixed(p).frame_shape),
            made_for=_fixed_made_for,
        ),
        ArtefactKind(
            "onnx",
            _file_or_member(".onnx", "model.onnx"),
            _onnx_codec,
            lambda p: tuple(_onnx_stepper("onnx", p).frame_shape),
        ),
        ArtefactKind(
            "nir",
            _file_or_member(".nir", "model.nir"),
            lambda p: _nir_graph(p).codec,
            lambda p: tuple(_nir_graph(p).input_shape[1:]),
            _nir_graph,
        ),
    )
}


# --- backends ---------------------------------------------------------------------------------
def _lava_run(kind: str, path: Path, frames: np.ndarray) -> np.ndarray:
    from edge_shm.firmware_sim.lava.host import run_bundle

    return np.stack([r.prediction for r in run_bundle(path, frames)]).astype(np.float32)


def _engine_stepper(kind: str, path: Path):
    from edge_shm.firmware_sim.int_engine import EngineStepper, IntEngine

    return EngineStepper(IntEngine(_fixed(path)))


def _engine_trace(kind: str, path: Path, frames: np.ndarray) -> list[dict]:
    from edge_shm.firmware_sim.int_engine import IntEngine

    engine = IntEngine(_fixed(path))
    return [engine.run(f) for f in frames]


def _lava_fixed_trace(kind: str, path: Path, frames: np.ndarray) -> list[dict]:
    fixed = _fixed(path)
    if fixed.target != "loihi":
        raise UserError(f"a {fixed.target} calibration cannot run on Lava fixed_pt")
    from edge_shm.firmware_sim.lava.fixed import run_fixed

    return run_fixed(path, frames)


def _c_trace(kind: str, path: Path, frames: np.ndarray) -> list[dict]:
    from edge_shm.firmware_sim.c.runner import run_host

    return run_host(path, frames)


def _m4_trace(kind: str, path: Path, frames: np.ndarray) -> list[dict]:
    from edge_shm.firmware_sim.c.runner import run_m4

    return run_m4(path, frames)


def _c_measure(traces: list[dict]) -> dict:
    from edge_shm.firmware_sim.c.runner import measured

    return measured(traces)


def _from_trace(trace):
    def run(kind: str, path: Path, frames: np.ndarray) -> np.ndarray:
        return np.stack([r["prediction"] for r in trace(kind, path, frames)]).astype(np.float32)

    return run


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend(
            "onnx",
            ("onnx",),
            open=_onnx_stepper,
            default_for=("onnx",),
            title="ONNX Runtime",
        ),
        Backend(
            "nir",
            ("nir", "bundle"),
            open=_graph_stepper,
            default_for=("nir",),
            title="the NIR reference simulator",
        ),
        Backend("lava", ("bundle",), run=_lava_run, default_for=("bundle",), title="Lava"),
        Backend(
            "int",
            ("calibration", "firmware"),
            open=_engine_stepper,
            run=_from_trace(_engine_trace),
            trace=_engine_trace,
            default_for=("calibration",),
            title="the integer engine",
        ),
        Backend(
            "lava-fixed",
            ("calibration",),
            run=_from_trace(_lava_fixed_trace),
            trace=_lava_fixed_trace,
            on_site=False,
            title="Lava fixed_pt",
        ),
        Backend(
            "c",
            ("firmware",),
            run=_from_trace(_c_trace),
            trace=_c_trace,
            default_for=("firmware",),
            title="the C firmware compiled for this machine",
            measure=_c_measure,
        ),
        Backend(
            "cortex-m4",
            ("firmware",),
            run=_from_trace(_m4_trace),
            trace=_m4_trace,
            on_site=False,
            title="the C firmware on an emulated Cortex-M4 (QEMU mps2-an386)",
            measure=_c_measure,
        ),
    )
}


def add_backend(backend: Backend) -> None:
    """One more runtime (its name new, its kinds known)."""
    if backend.name in BACKENDS:
        raise ValueError(f"backend {backend.name!r} exists")
    unknown = set(backend.kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"backend {backend.name!r}: unknown artefact kinds {sorted(unknown)}")
    BACKENDS[backend.name] = backend


def find_kind(path: Path) -> tuple[ArtefactKind, Path]:
    """The kind of the artefact at ``path`` and the file or folder to open (UserError when
    ``path`` is none)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    for kind in KINDS.values():
        found = kind.find(path)
        if found is not None:
            return kind, found
    raise UserError(
        f"{path}: not an exported artefact (.onnx, .nir, a Lava bundle, calibration or C "
        "firmware folder)"
    )


def backend_for(kind: str, name: str | None, names=None) -> Backend:
    """The backend ``name`` (or the kind's default) for an artefact of ``kind``; ``names``:
    those the caller offers (default: all), listed in the unknown-backend error."""
    names = tuple(BACKENDS) if names is None else tuple(names)
    if name is not None and (name not in names or name not in BACKENDS):
        raise UserError(f"unknown backend {name!r}; choose one of {', '.join(names)}")
    if name is None:
        name = next((b.name for b in BACKENDS.values() if kind in b.default_for), None)
    backend = BACKENDS.get(name)
    if backend is None or kind not in backend.kinds:
        raise UserError(f"a {kind} artefact cannot run on the {name} backend")
    return backend
