"""The profile of a trained model: what one forecast costs on a device, and whether it fits.

A *forecast* is one window: ``n_in`` frames in (3 for cracks), one predicted frame out, the
state reset at the start of the window as in training and evaluation. Every figure is per
forecast (the mean over the profiled windows). Counting: :mod:`edge_shm.profile.counts`;
energy: :mod:`edge_shm.profile.energy`; memory: :mod:`edge_shm.profile.memory`; device
profiles: :mod:`edge_shm.profile.devices`; conventions in docs/profile.md.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from edge_shm.errors import UserError
from edge_shm.profile.energy import EnergyReport
from edge_shm.profile.memory import MemoryBudget, MemoryLines, memory_lines
from edge_shm.profile.summary import CountSummary


@dataclass
class NeuroBench:
    """The NeuroBench metrics this profiler shares (per forecast = per NeuroBench sample)."""

    Footprint_B: int
    ConnectionSparsity: float
    ActivationSparsity: float | None
    SynapticOperations: dict[str, float]
    MembraneUpdates: float


@dataclass(frozen=True)
class Profile:
    """Device-independent counts and memory lines (:func:`profile_model`), plus a device's view
    (:func:`edge_shm.app.profile.profile_run`): ``run`` (the run folder, and ``deployed``
    figures of a calibration), ``frames`` (where the windows came from), ``device``, ``energy``
    and ``memory_budget``."""

    model: str
    parameters: int
    frame_shape: list[int]
    counts: CountSummary
    memory: MemoryLines
    neurobench: NeuroBench
    run: dict = field(default_factory=dict)
    frames: dict = field(default_factory=dict)
    device: dict = field(default_factory=dict)
    energy: EnergyReport | None = None
    memory_budget: MemoryBudget | None = None

    def to_dict(self) -> dict:
        """The profile.json layout (as in edge-shm 0.1.0; later keys only added:
        ``memory.output_frame``, ``memory.firmware_layout``, ``memory_budget.basis`` /
        ``notes`` / ``layout`` / ``compared``, so readers of older files keep working)."""
        out = {
            "model": self.model,
            "parameters": self.parameters,
            "frame_shape": self.frame_shape,
            "counts": self.counts.to_dict(),
            "memory": self.memory.to_dict(),
            "neurobench": asdict(self.neurobench),
        }
        for key in ("run", "frames", "device"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.energy is not None:
            out["energy"] = self.energy.to_dict()
        if self.memory_budget is not None:
            out["memory_budget"] = self.memory_budget.to_dict()
        return out


def neurobench_metrics(model, summary: CountSummary) -> NeuroBench:
    from edge_shm.profile.synapses import connection_sparsity

    footprint = sum(p.numel() * p.element_size() for p in model.parameters())
    footprint += sum(b.numel() * b.element_size() for b in model.buffers())
    t = summary.totals
    return NeuroBench(
        Footprint_B=int(footprint),
        ConnectionSparsity=connection_sparsity(model),
        ActivationSparsity=summary.activation_sparsity,
        SynapticOperations={"Effective_MACs": t.macs, "Effective_ACs": t.acs, "Dense": t.dense},
        MembraneUpdates=summary.neuron_totals.active,
    )


def profile_model(
    model,
    windows: torch.Tensor,
    *,
    pixel_mm: float = 0.075,
    batch: int = 16,
    input_spikes: bool = False,
    progress=None,
) -> Profile:
    """Device-independent profile of ``model`` over ``windows`` (N, T, 1, H, W) of camera
    frames (a motion network is profiled on its codec's tiles of them: the vector encoder
    that makes them is not counted)."""
    from edge_shm.data.frames import check_frame_shape
    from edge_shm.firmware_sim.codec import graph_inputs
    from edge_shm.profile.counts import count_windows
    from edge_shm.profile.memory import firmware_layouts, vector_form
    from edge_shm.profile.summary import summarize

    if windows.ndim != 5 or windows.shape[2] != 1:
        raise UserError(f"windows must be (N, T, 1, H, W), got {tuple(windows.shape)}")
    camera = windows[:, -1, 0].cpu().numpy()
    if model.codec is not None:
        tiles = graph_inputs(model.codec, windows[:, :, 0].cpu().numpy())
        windows = torch.from_numpy(tiles).unsqueeze(2)
    check_frame_shape(windows, (model.height, model.width))
    counts = summarize(
        count_windows(model, windows, batch=batch, input_spikes=input_spikes, progress=progress)
    )
    params = int(sum(p.numel() for p in model.parameters()))
    vec = vector_form(camera, pixel_mm)
    return Profile(
        model=model.name,
        parameters=params,
        frame_shape=list(windows.shape[-2:]),
        counts=counts,
        memory=memory_lines(
            params, counts, tuple(windows.shape[-2:]), vec, firmware_layouts(model)
        ),
        neurobench=neurobench_metrics(model, counts),
    )


def check_positive(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise UserError(f"{name} must be a positive number, got {value}")
    return float(value)


def load_windows(library=None, frames=None, split="test", max_windows=None, n_in=None):
    """Windows (N, T, 1, H, W), where they came from, and the pixel size (mm)."""
    from edge_shm.data.windows import windows as make_windows

    if (library is None) == (frames is None):
        raise UserError("give exactly one of --library and --frames")
    if max_windows is not None and max_windows <= 0:
        raise UserError(f"--max-windows must be a positive integer, got {max_windows}")
    if library is not None:
        from edge_shm.data.library import read_library

        lib = read_library(library, load_physics=False)
        arr = lib.split_frames(split)
        x = make_windows(arr, n_in or lib.window_in, 1, lib.window_skip, max_windows)[:, :-1]
        src = f"library `{library}` ({split} split, fingerprint {lib.fingerprint()})"
        pixel_mm = lib.pixel_mm
    else:
        from edge_shm.data.stack import load_stack

        arr = load_stack(frames)
        x = make_windows(arr, n_in or 3, 0, 0, max_windows)
        src, pixel_mm = f"frames `{frames}`", 0.075
    return torch.from_numpy(np.ascontiguousarray(x)).unsqueeze(2), src, pixel_mm
