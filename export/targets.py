"""The export targets: one table, read by ``export_run``, the CLI and the docs.

Each target says what it writes into the export folder, how it is verified against torch and
how many held-out sequences that takes, and whether the model must lower itself to the
deployment graph (``nir``, ``lava``) or only stream its step (``onnx``). Which models can go
where is each model's own declaration (``capabilities.targets``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError


@dataclass(frozen=True)
class Target:
    name: str
    artefact: str  # what the export folder holds, for people
    lowered: bool  # needs the deployment graph
    verify_sequences: int
    write: Callable  # (model, config, folder, probe, probe_source, options) -> facts (dict)
    verify: Callable  # (model, folder, frames) -> verification report (dict)
    describe: Callable  # (artefact facts) -> one line


def _write_onnx(model, config, folder: Path, probe, probe_source, options) -> dict:
    from edge_shm.export.onnx import export_onnx

    return export_onnx(model, config, folder / "model.onnx")


def _write_nir(model, config, folder: Path, probe, probe_source, options) -> dict:
    from edge_shm.export.nir import export_nir

    return export_nir(model, config, folder / "model.nir", options.get("consumer", "generic"))


def _write_lava(model, config, folder: Path, probe, probe_source, options) -> dict:
    from edge_shm.export.lava_bundle import export_bundle

    export_bundle(model, config, folder, probe, probe_source)
    return {"bundle": "manifest.json", "probe_source": probe_source}


def _verify(name: str):
    def run(model, folder: Path, frames: np.ndarray) -> dict:
        from edge_shm.export import verify as V

        if name == "onnx":
            return V.verify_onnx(model, folder / "model.onnx", frames)
        if name == "nir":
            return V.verify_nir(model, folder / "model.nir", frames)
        return V.verify_lava(model, folder, frames)

    return run


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "onnx",
            "model.onnx: the streaming step graph",
            False,
            8,
            _write_onnx,
            _verify("onnx"),
            lambda a: f"ONNX opset {a['opset']}, inputs {', '.join(a['inputs'])}",
        ),
        Target(
            "nir",
            "model.nir: the NIR graph",
            True,
            4,
            _write_nir,
            _verify("nir"),
            lambda a: (
                f"NIR graph for {a.get('written_for', 'generic')}, dt {a['dt']:g} s"
                + (f", tau {a['tau']:g} s" if a.get("tau") else "")
            ),
        ),
        Target(
            "lava",
            "a Lava bundle (manifest.json, graph.nir, probe)",
            True,
            1,
            _write_lava,
            _verify("lava"),
            lambda a: "Lava bundle (manifest.json, graph.nir, probe)",
        ),
    )
}
TARGET_NAMES = tuple(TARGETS)


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise UserError(f"unknown export target {name!r}; choose one of {', '.join(TARGETS)}")
    return TARGETS[name]
