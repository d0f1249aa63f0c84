"""Energy and memory profiler: what one forecast of a trained model costs on a device.

A *forecast* is one window: ``n_in`` frames in (3 for cracks), one predicted frame out, the
state reset at the start of the window as in training and evaluation. All figures are per
forecast (the mean over the profiled windows). Counting is in :mod:`edge_shm.profile_counts`;
device profiles in :mod:`edge_shm.devices`; the conventions are in docs/profile.md.

Energy = compute + memory access:

* compute: operation counts times the device's energy per operation. On an event-driven device
  (``event_driven``: Loihi, SpiNNaker) zero inputs cause no work, so MACs are the effective
  ones and neurons are charged active / inactive; on a clocked device (CPU, ASIC) MACs are dense
  and every neuron is updated every step. ACs are always the effective ones (spike-driven
  kernels, the keras-spiking ``synops = connections x rate`` convention).
* memory access (per step): every weight is read once per layer call, every activation is
  written once and read once, the persistent state is read and written once. Words are 32 bit;
  the number of words is the bytes at the device precision / 4. A block lives on chip when it
  fits the device's on-chip capacity (weights first, then state + activations), else off chip.
  Devices without an ``onchip_word`` energy have on-chip traffic included in the per-op
  energies (Loihi, SpiNNaker, keras-spiking CPU figures).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from edge_shm.errors import UserError

WEIGHT_BYTES = {"float32": 4, "int8": 1, "loihi8": 1}
STATE_BYTES = {"float32": 4, "int8": 2, "loihi8": 3}  # int16 state (TFLM LSTM), Loihi 24-bit
ACT_BYTES = {"float32": 4, "int8": 1, "loihi8": 1}
INPUT_BYTES = {"float32": 4, "int8": 1, "loihi8": 1}
PRECISIONS = tuple(WEIGHT_BYTES)
SECONDS_PER_DAY = 86400.0
DEFAULT_FRAME_RATE_HZ = 1.0 / 60.0
PAPER_NODES = 40  # the paper's typical node count, used only when no vector encoder exists


# --- frames ------------------------------------------------------------------------------------


def windows_from_frames(frames: np.ndarray, n_in: int, max_windows: int | None) -> torch.Tensor:
    """(N, T, H, W) frames -> up to ``max_windows`` windows (M, n_in, 1, H, W), evenly spread."""
    frames = np.asarray(frames, dtype=np.float32)
    n, t = frames.shape[:2]
    if t < n_in:
        raise UserError(f"samples of {t} frames are shorter than the {n_in}-frame window")
    starts = [(s, k) for s in range(n) for k in range(t - n_in + 1)]
    if max_windows is not None and len(starts) > max_windows:
        pick = np.unique(np.linspace(0, len(starts) - 1, max_windows).round().astype(int))
        starts = [starts[i] for i in pick]
    w = np.stack([frames[s, k : k + n_in] for s, k in starts])
    return torch.from_numpy(w).unsqueeze(2)


def library_windows(lib, split: str, max_windows: int | None) -> torch.Tensor:
    from edge_shm.dataset import WindowDataset

    data = WindowDataset(lib, split, n_out=1)
    if len(data) == 0:
        raise UserError(f"{lib.path}: the {split} split has no windows")
    idx = np.arange(len(data))
    if max_windows is not None and len(idx) > max_windows:
        idx = np.unique(np.linspace(0, len(idx) - 1, max_windows).round().astype(int))
    x, _ = data.batch(idx)
    return x


# --- memory lines ------------------------------------------------------------------------------


def _per_precision(values: int, table: dict) -> dict:
    return {f"{p}_B": int(values * b) for p, b in table.items()}


def vector_form(frames: np.ndarray, pixel_mm: float, max_frames: int = 64) -> dict:
    """Bytes of the crack frames in vector form: the vector encoder when present, else M_v."""
    frames = np.asarray(frames).reshape(-1, *np.shape(frames)[-2:])
    if len(frames) > max_frames:
        frames = frames[np.linspace(0, len(frames) - 1, max_frames).round().astype(int)]
    try:
        from edge_shm import vector as V

        nodes = np.array([V.encode(f, pixel_mm).n_nodes for f in frames], dtype=float)
        sizes = np.array([V.vector_bytes(int(n)) for n in nodes], dtype=float)
        source = "edge_shm.vector.encode (M_v = 2 x 4 x N_n + 24 B)"
    except (ImportError, AttributeError):
        nodes = np.full(len(frames), PAPER_NODES, dtype=float)
        sizes = 2 * 4 * nodes + 24
        source = f"paper's formula M_v = 2 x 4 x N_n + 24 B with N_n = {PAPER_NODES} (no encoder)"
    return {
        "frames": int(len(frames)),
        "mean_nodes": float(nodes.mean()),
        "mean_B": float(sizes.mean()),
        "max_B": float(sizes.max()),
        "source": source,
    }


def memory_lines(model, summary: dict, frame_shape, vector: dict) -> dict:
    params = sum(p.numel() for p in model.parameters())
    h, w = frame_shape
    return {
        "weights": {"values": params, **_per_precision(params, WEIGHT_BYTES)},
        "state": {
            "values": summary["state_elems"],
            "tensors": summary["state_shapes"],
            **_per_precision(summary["state_elems"], STATE_BYTES),
        },
        "peak_activations": {
            "values": summary["peak_activation_elems"],
            **_per_precision(summary["peak_activation_elems"], ACT_BYTES),
        },
        "input_frame": {
            "pixels": h * w,
            "float32_B": 4 * h * w,
            "uint8_B": h * w,
            "vector_mean_B": vector["mean_B"],
            "vector_max_B": vector["max_B"],
            "vector_mean_nodes": vector["mean_nodes"],
            "vector_source": vector["source"],
        },
    }


def neurobench_metrics(model, summary: dict) -> dict:
    """The NeuroBench metrics this profiler shares (per forecast = per NeuroBench sample)."""
    from edge_shm.profile_counts import connection_sparsity

    footprint = sum(p.numel() * p.element_size() for p in model.parameters())
    footprint += sum(b.numel() * b.element_size() for b in model.buffers())
    t = summary["totals"]
    return {
        "Footprint_B": int(footprint),
        "ConnectionSparsity": connection_sparsity(model),
        "ActivationSparsity": summary["activation_sparsity"],
        "SynapticOperations": {
            "Effective_MACs": t["macs"],
            "Effective_ACs": t["acs"],
            "Dense": t["dense"],
        },
        "MembraneUpdates": summary["neurons"]["totals"]["active"],
    }


# --- profile ---------------------------------------------------------------------------------


def profile_model(
    model,
    windows: torch.Tensor,
    *,
    pixel_mm: float = 0.075,
    batch: int = 16,
    input_spikes: bool = False,
    progress=None,
) -> dict:
    """Device-independent profile of ``model`` over ``windows`` (N, T, 1, H, W)."""
    from edge_shm.profile_counts import count_windows, summarize

    if windows.ndim != 5 or windows.shape[2] != 1:
        raise UserError(f"windows must be (N, T, 1, H, W), got {tuple(windows.shape)}")
    hw = tuple(windows.shape[-2:])
    want = (getattr(model, "height", hw[0]), getattr(model, "width", hw[1]))
    if hw != tuple(want):
        raise UserError(
            f"frames are {hw[0]}x{hw[1]} px but the model expects {want[0]}x{want[1]} px"
        )
    counts = count_windows(
        model, windows, batch=batch, input_spikes=input_spikes, progress=progress
    )
    summary = summarize(counts)
    vec = vector_form(windows[:, -1, 0].numpy(), pixel_mm)
    return {
        "model": getattr(model, "name", type(model).__name__),
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "frame_shape": list(hw),
        "counts": summary,
        "memory": memory_lines(model, summary, hw, vec),
        "neurobench": neurobench_metrics(model, summary),
    }


# --- energy ----------------------------------------------------------------------------------


def forecast_ops(profile: dict, device) -> dict:
    """Operations per forecast charged on ``device`` (see the module text)."""
    t = profile["counts"]["totals"]
    n = profile["counts"]["neurons"]["totals"]
    if device.event_driven:
        active, inactive, macs = n["active"], n["neurons"] - n["active"], t["macs"]
    else:
        active, inactive, macs = n["neurons"], 0.0, t["macs_dense"]
    return {
        "mac": macs,
        "ac": t["acs"],
        "neuron_active": active,
        "neuron_inactive": inactive,
        "mult": t["mult"],
        "add": t["add"],
        "nonlinear": t["nonlinear"],
    }


def memory_traffic(profile: dict, device) -> dict:
    """32-bit words moved per forecast, where they live and what they cost (pJ)."""
    p = device.precision
    acc = profile["counts"]["access_elems"]
    mem = profile["memory"]
    words = {
        "weights": acc.get("weights", 0.0) * WEIGHT_BYTES[p] / 4,
        "activations": acc.get("activations", 0.0) * ACT_BYTES[p] / 4,
        "state": acc.get("state", 0.0) * STATE_BYTES[p] / 4,
    }
    ma = device.memory_access
    cap = ma["onchip_capacity"].base if "onchip_capacity" in ma else math.inf
    w_bytes = mem["weights"][f"{p}_B"]
    data_bytes = mem["state"][f"{p}_B"] + mem["peak_activations"][f"{p}_B"]
    weights_on = w_bytes <= cap
    data_on = data_bytes <= cap - (w_bytes if weights_on else 0)
    where = {
        "weights": "on chip" if weights_on else "off chip",
        "activations": "on chip" if data_on else "off chip",
        "state": "on chip" if data_on else "off chip",
    }
    on = ma["onchip_word"].base if "onchip_word" in ma else 0.0
    off = ma["offchip_word"].base if "offchip_word" in ma else on
    energy = {k: words[k] * (on if where[k] == "on chip" else off) for k in words}
    included = "onchip_word" not in ma
    return {
        "words": words,
        "where": where,
        "energy_pJ": energy,
        "onchip_included_in_ops": included,
        "total_pJ": float(sum(energy.values())),
    }


def energy_report(profile: dict, device, frame_rate_hz: float = DEFAULT_FRAME_RATE_HZ) -> dict:
    """Energy per forecast frame (compute + memory, split) and per day on ``device``."""
    if not device.has_energy:
        return {
            "device": device.name,
            "available": False,
            "note": f"device {device.name!r} has no energy figures (memory limits only)",
        }
    e = device.op_energy_pj()
    ops = forecast_ops(profile, device)
    compute = {k: ops[k] * e[k] for k in ops}
    traffic = memory_traffic(profile, device)
    total = sum(compute.values()) + traffic["total_pJ"]
    per_layer = {}
    for name, row in profile["counts"]["per_layer"].items():
        tot = row["total"]
        mac = tot["macs"] if device.event_driven else tot["macs_dense"]
        per_layer[name] = (
            mac * e["mac"]
            + tot["acs"] * e["ac"]
            + tot["mult"] * e["mult"]
            + tot["add"] * e["add"]
            + tot["nonlinear"] * e["nonlinear"]
        )
    per_layer["neurons"] = compute["neuron_active"] + compute["neuron_inactive"]
    notes = []
    if device.native == "spiking" and not profile["counts"]["spiking"]:
        notes.append(
            f"{profile['model']} is not a spiking network: it does not run natively on "
            f"{device.name}; its MACs are charged as graded synops and its gate "
            "arithmetic as synops / neuron updates (keras-spiking convention)"
        )
    if traffic["onchip_included_in_ops"]:
        notes.append("on-chip memory traffic is included in the per-operation energies")
    return {
        "device": device.name,
        "available": True,
        "ops": ops,
        "op_energy_pJ": e,
        "compute_pJ": compute,
        "compute_total_pJ": float(sum(compute.values())),
        "memory": traffic,
        "memory_total_pJ": traffic["total_pJ"],
        "total_pJ": float(total),
        "per_layer_compute_pJ": per_layer,
        "frame_rate_Hz": frame_rate_hz,
        "frames_per_day": frame_rate_hz * SECONDS_PER_DAY,
        "per_day_J": float(total * 1e-12 * frame_rate_hz * SECONDS_PER_DAY),
        "notes": notes,
    }


def energy_vs_rate(profile: dict, device, rates) -> dict:
    """Energy per forecast (pJ) if the spike-driven layers' input rate were ``rates``.

    ACs scale linearly with the input spike rate (ACs = dense ACs x rate); everything else stays
    as measured. Also returns the measured point and the same network as a non-spiking twin
    (every synaptic op a dense MAC, every neuron a ReLU evaluation).
    """
    rep = energy_report(profile, device)
    if not rep["available"]:
        return {}
    t = profile["counts"]["totals"]
    e = rep["op_energy_pJ"]
    base = rep["total_pJ"] - t["acs"] * e["ac"]
    curve = [base + t["acs_dense"] * e["ac"] * r for r in rates]
    n = profile["counts"]["neurons"]["totals"]["neurons"]
    twin = (
        rep["total_pJ"]
        - rep["compute_total_pJ"]
        + (t["macs_dense"] + t["acs_dense"]) * e["mac"]
        + t["mult"] * e["mult"]
        + t["add"] * e["add"]
        + (t["nonlinear"] + n) * e["nonlinear"]
    )
    measured = t["acs"] / t["acs_dense"] if t["acs_dense"] else None
    return {
        "rates": list(map(float, rates)),
        "energy_pJ": curve,
        "measured_rate": measured,
        "measured_pJ": rep["total_pJ"],
        "base_pJ": base,
        "slope_pJ": t["acs_dense"] * e["ac"],
        "ann_twin_pJ": twin,
    }


def break_even_rate(curve: dict, reference_pJ: float) -> float | None:
    """Input spike rate at which the SNN costs ``reference_pJ``; None when above rate 1."""
    if not curve or curve["slope_pJ"] <= 0:
        return None
    r = (reference_pJ - curve["base_pJ"]) / curve["slope_pJ"]
    return r if 0 <= r <= 1 else (0.0 if r < 0 else None)


# --- memory budget ---------------------------------------------------------------------------


def memory_report(
    profile: dict, device, budget_ram_B: float | None = None, budget_flash_B: float | None = None
) -> dict:
    """Memory needed at the device precision, placed in flash and RAM, against the budget."""
    p = device.precision
    mem = profile["memory"]
    ram_budget = budget_ram_B if budget_ram_B is not None else device.budget_bytes("ram")
    flash_budget = budget_flash_B if budget_flash_B is not None else device.budget_bytes("flash")
    weights = mem["weights"][f"{p}_B"]
    lines = [
        {
            "line": f"weights ({p})",
            "bytes": weights,
            "where": "flash" if flash_budget is not None else "RAM",
        },
        {
            "line": f"persistent state ({STATE_BYTES[p] * 8}-bit)",
            "bytes": mem["state"][f"{p}_B"],
            "where": "RAM",
        },
        {
            "line": f"peak activations ({ACT_BYTES[p] * 8}-bit)",
            "bytes": mem["peak_activations"][f"{p}_B"],
            "where": "RAM",
        },
        {
            "line": f"input frame, pixels ({INPUT_BYTES[p] * 8}-bit)",
            "bytes": mem["input_frame"]["pixels"] * INPUT_BYTES[p],
            "where": "RAM",
        },
    ]
    need = {
        "RAM": sum(x["bytes"] for x in lines if x["where"] == "RAM"),
        "flash": sum(x["bytes"] for x in lines if x["where"] == "flash"),
    }
    checks = []
    for what, budget in (("RAM", ram_budget), ("flash", flash_budget)):
        if budget is None:
            continue
        checks.append(
            {
                "memory": what,
                "need_B": need[what],
                "budget_B": budget,
                "headroom_B": budget - need[what],
                "headroom_pct": 100.0 * (budget - need[what]) / budget,
                "fits": need[what] <= budget,
            }
        )
    cores = None
    npc, mpc = device.budget_bytes("neurons_per_core"), device.budget_bytes("memory_per_core")
    neurons = profile["counts"]["neurons"]["layers"]
    n_neurons = sum(r["neurons_per_step"] for r in neurons.values())
    if npc or mpc:
        by_neurons = math.ceil(n_neurons / npc) if npc and n_neurons else 0
        by_memory = math.ceil(sum(x["bytes"] for x in lines) / mpc) if mpc else 0
        cores = {
            "neurons": n_neurons,
            "by_neurons": by_neurons,
            "by_memory": by_memory,
            "needed": max(1, by_neurons, by_memory),
        }
        if npc:
            checks.append(
                {
                    "memory": "neurons per core",
                    "need_B": n_neurons,
                    "budget_B": npc,
                    "headroom_B": npc - n_neurons,
                    "headroom_pct": 100.0 * (npc - n_neurons) / npc,
                    "fits": n_neurons <= npc,
                    "unit": "neurons",
                }
            )
    return {
        "device": device.name,
        "precision": p,
        "lines": lines,
        "need_B": need,
        "checks": checks,
        "fits": all(c["fits"] for c in checks) if checks else None,
        "cores": cores,
    }
