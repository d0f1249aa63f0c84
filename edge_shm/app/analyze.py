"""Architecture analysis across runs (the paper's Figure 5): convolution weight distributions,
connectivity density and, for spiking models, activity sparsity.

Connectivity density is the share of convolution weights with ``|w| >= 1e-3`` (the paper counts
a weight below 0.001 in magnitude as no connection). Activity sparsity is 1 minus the mean spike
rate of the spiking layers over test windows (spikes per neuron per step).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError

LINK_THRESHOLD = 1e-3


def connectivity_density(weights: np.ndarray, threshold: float = LINK_THRESHOLD) -> float:
    """Share of weights with |w| >= ``threshold`` (the paper's linked weights)."""
    w = np.asarray(weights, np.float64).ravel()
    return float(np.mean(np.abs(w) >= threshold)) if w.size else 0.0


def conv_weights(model) -> dict[str, np.ndarray]:
    """Every convolution kernel of a torch model, by module name (biases excluded)."""
    from torch import nn

    kinds = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d)
    return {
        name: m.weight.detach().cpu().numpy()
        for name, m in model.named_modules()
        if isinstance(m, kinds)
    }


def weight_stats(weights: dict[str, np.ndarray]) -> dict:
    """Count, mean, variance, range and connectivity density of all ``weights`` together,
    and the count and density per layer (None for statistics of no weights)."""
    allw = np.concatenate([w.ravel() for w in weights.values()]) if weights else np.zeros(0)
    return {
        "conv_weights": int(allw.size),
        "mean": float(allw.mean()) if allw.size else None,
        "variance": float(allw.var()) if allw.size else None,
        "min": float(allw.min()) if allw.size else None,
        "max": float(allw.max()) if allw.size else None,
        "connectivity_density": connectivity_density(allw),
        "layers": {
            k: {"weights": int(w.size), "connectivity_density": connectivity_density(w)}
            for k, w in weights.items()
        },
    }


def activity_sparsity(model, windows) -> float | None:
    """1 - mean spike rate over the spiking layers on ``windows`` (B, T, 1, H, W); None for a
    model without spikes."""
    import torch

    if not model.capabilities.spiking:
        return None
    fired = total = 0
    with torch.no_grad():
        state = model.initial_state(windows.shape[0], windows.device)
        for t in range(windows.shape[1]):
            _, state, tr = model.trace_step(windows[:, t], state)
            for z in tr.spikes.values():
                fired += float(z.sum())
                total += z.numel()
    return 1 - fired / total if total else None


@dataclass(frozen=True)
class AnalyzeRequest:
    """Compare ``runs`` (run folders) into the ``output`` folder; the activity of spiking
    models on at most ``max_windows`` test windows of ``library`` (None: no activity)."""

    runs: tuple[Path, ...]
    output: Path
    library: Path | None = None
    max_windows: int = 8


@dataclass(frozen=True)
class AnalyzeResult:
    """One row per run (``weight_stats`` plus run, model, parameters, activity_sparsity: a
    share in [0, 1] or None) and the report folder (analysis.json, .md, weights.png)."""

    rows: list[dict]
    folder: Path


def analyze(request: AnalyzeRequest) -> AnalyzeResult:
    """Weight statistics and activity of every run; writes the analysis folder."""
    from edge_shm.outputs import Output, owned, plan_outputs
    from edge_shm.runs import is_run

    for r in request.runs:
        if not is_run(r):
            raise UserError(f"{r}: not a run folder (config.json + weights.safetensors)")
    if request.max_windows < 1:
        raise UserError(f"--max-windows must be positive, got {request.max_windows}")
    inputs = [*request.runs, *([request.library] if request.library else [])]
    kind = "analysis folder"
    (output,) = plan_outputs([Output(request.output, kind, True, owned(kind))], inputs)
    rows = analyze_runs(list(request.runs), request.library, output, request.max_windows)
    return AnalyzeResult(rows, output)


def analyze_runs(runs: list[Path], library: Path | None, out: Path, max_windows: int = 8):
    """The rows of ``runs`` (see :class:`AnalyzeResult`), their report written into ``out``."""
    import torch

    from edge_shm.reports.analyze import write_analysis
    from edge_shm.runs import load_run

    rows, hists = [], {}
    windows = None
    if library is not None:
        from edge_shm.data.library import read_library
        from edge_shm.data.windows import windows as test_windows

        lib = read_library(library, load_physics=False)
        w = test_windows(
            lib.split_frames("test"), lib.window_in, skip=lib.window_skip, max_windows=max_windows
        )
        windows = torch.from_numpy(np.ascontiguousarray(w[:, :, None]))
    for run in runs:
        model, config = load_run(run, "cpu")
        weights = conv_weights(model)
        sparsity = None
        if windows is not None and windows.shape[-2:] == (model.height, model.width):
            sparsity = activity_sparsity(model, windows)
        rows.append(
            {
                "run": str(run),
                "model": config["model"],
                "parameters": config.get("parameters"),
                **weight_stats(weights),
                "activity_sparsity": sparsity,
            }
        )
        hists[f"{Path(run).name} ({config['model']})"] = np.concatenate(
            [v.ravel() for v in weights.values()]
        )
    write_analysis(rows, hists, out, LINK_THRESHOLD)
    return rows
