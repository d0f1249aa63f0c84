"""Run a NIR file (as edge-shm writes them) with the numpy reference simulator (torch-free).

Semantics (those of the exporter, docs/export.md): one graph step per input frame, every node
within the frame's step (no delay); ``Conv2d`` by cross-correlation with zero padding; ``LIF``
by forward Euler with the metadata's ``dt`` through the shared LIF step of
:mod:`edge_shm.neuro.lif`; then the output operations recorded in the metadata. Float64.
"""

from __future__ import annotations

import numpy as np

from edge_shm.graph.nir_io import read_nir
from edge_shm.graph.simulate import GraphStepper


class NIRStepper(GraphStepper):
    """A :class:`GraphStepper` over a ``.nir`` file (a Stepper)."""

    def __init__(self, path, dt: float | None = None, dtype=np.float64):
        super().__init__(read_nir(path, dt), dtype)


def run_nir_file(path, frames: np.ndarray, dt: float | None = None):
    """Read a .nir file and run it on one sequence (T, H, W) -> SequenceTrace."""
    return NIRStepper(path, dt).run(frames)
