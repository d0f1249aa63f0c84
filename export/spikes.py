"""Spike-by-spike and frame parity of a runtime with torch, and its tolerances.

Spiking layers are compared by name (the deployment graph's LIF names), spike by spike, with
each layer's own threshold. Threshold ties: a layer whose torch membrane lands within float
rounding of its threshold (``THRESHOLD_TOL``) may spike in one runtime and not in the other;
that flip then changes the frames downstream by a whole weight. Such a sequence is counted in
``sequences_with_ties``: its spike disagreements must all follow from the tie, and the frame
tolerance is checked on the tie-free sequences (at least one is required).
"""

from __future__ import annotations

import numpy as np

from edge_shm.errors import UserError

# Parity tolerances of every export (docs/export.md).
ONNX_TOL = 1e-5
FRAME_TOL = 1e-4
SPIKE_AGREEMENT = 0.9999
THRESHOLD_TOL = 1e-5


def compare_spikes(ref, ref_v, got, vth: float) -> dict:
    """Agreement of two spike tensors; every disagreement must sit within rounding of vth."""
    ref, got = np.asarray(ref, bool), np.asarray(got, bool)
    diff = ref != got
    near = np.abs(np.asarray(ref_v, np.float64) - vth) < THRESHOLD_TOL
    return {
        "spikes": int(ref.size),
        "spike_rate": float(ref.mean()),
        "disagree": int(diff.sum()),
        "agreement": float(1 - diff.mean()),
        "unexplained": int((diff & ~near).sum()),
    }


def spike_report(ref, got_spikes: dict, got_prediction, thresholds: dict) -> dict:
    """Per-layer agreement of one sequence (``ref`` a SequenceTrace), layers in signal order.

    A threshold tie at the first disagreement (the earliest step, the earliest layer) is the
    cause; every later disagreement in the sequence follows from that flip through the state and
    the next layers, so the sequence counts as a tie sequence, not as unexplained.
    """
    if set(got_spikes) != set(ref.spikes):
        raise UserError(
            f"the artefact's spiking layers {sorted(got_spikes)} differ from the "
            f"model's {sorted(ref.spikes)}"
        )
    layers = {
        k: compare_spikes(ref.spikes[k], ref.v_pre[k], got_spikes[k], thresholds[k])
        for k in ref.spikes
    }
    total = sum(r["spikes"] for r in layers.values())
    disagree = sum(r["disagree"] for r in layers.values())
    unexplained = sum(r["unexplained"] for r in layers.values())
    tie = False
    if disagree:
        diffs = {
            k: np.asarray(ref.spikes[k], bool) != np.asarray(got_spikes[k], bool) for k in layers
        }
        first_t = min(
            int(np.argmax(d.reshape(len(d), -1).any(axis=1))) for d in diffs.values() if d.any()
        )
        for k, d in diffs.items():
            if d[first_t].any():
                near = np.abs(np.asarray(ref.v_pre[k][first_t], np.float64) - thresholds[k])
                tie = bool(np.all(near[d[first_t]] < THRESHOLD_TOL))
                break
        if tie:
            unexplained = 0
    return {
        "layers": layers,
        "agreement": 1 - disagree / total if total else 1.0,
        "unexplained": unexplained,
        "tie": tie,
        "max_abs_frame_diff": float(np.abs(ref.prediction - got_prediction).max()),
    }


def merge(reps: list[dict], frames: np.ndarray) -> dict:
    total = sum(sum(r["spikes"] for r in x["layers"].values()) for x in reps)
    disagree = sum(sum(r["disagree"] for r in x["layers"].values()) for x in reps)
    frame_diffs = [x["max_abs_frame_diff"] for x in reps]
    clean = [x["max_abs_frame_diff"] for x in reps if not x["tie"]]
    out = {
        "sequences": int(frames.shape[0]),
        "frames_per_sequence": int(frames.shape[1]),
        "spikes_compared": int(total),
        "spike_rate": float(
            sum(sum(r["spike_rate"] * r["spikes"] for r in x["layers"].values()) for x in reps)
            / total
        )
        if total
        else 0.0,
        "agreement": 1 - disagree / total if total else 1.0,
        "disagree": int(disagree),
        "unexplained": sum(x["unexplained"] for x in reps),
        "max_abs_frame_diff": max(frame_diffs),
        "sequences_with_ties": sum(1 for x in reps if x["tie"]),
        "tolerance": {"agreement": SPIKE_AGREEMENT, "frame": FRAME_TOL},
        "max_abs_frame_diff_tie_free": max(clean) if clean else None,
    }
    ok_frames = bool(np.all(np.isfinite(frame_diffs)))
    free = out["max_abs_frame_diff_tie_free"]
    out["ok"] = bool(
        ok_frames
        and out["agreement"] >= SPIKE_AGREEMENT
        and out["unexplained"] == 0
        and free is not None
        and free <= FRAME_TOL
    )
    return out
