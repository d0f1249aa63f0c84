"""Parity of exported artefacts with torch, on held-out frames.

Held-out frames: the test split of the library named in the run's config.json when that file
exists (the model never saw those samples), else frames given by the user (``--frames``).

Spiking layers are compared by name (the deployment graph's LIF names), spike by spike, with
each layer's own threshold. Threshold ties: a layer whose torch membrane lands within float
rounding of its threshold (``THRESHOLD_TOL``) may spike in one runtime and not in the other;
that flip then changes the frames downstream by a whole weight. Such a sequence is counted in
``sequences_with_ties``: its spike disagreements must all follow from the tie, and the frame
tolerance is checked on the tie-free sequences (at least one is required).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_shm.errors import UserError

# Acceptance tolerances (issue 4).
ONNX_TOL = 1e-5
FRAME_TOL = 1e-4
SPIKE_AGREEMENT = 0.9999
THRESHOLD_TOL = 1e-5


def held_out_frames(config: dict, frames_arg=None) -> tuple[np.ndarray | None, str]:
    """(frames (N, T, H, W), where they came from) or (None, why there are none)."""
    from edge_shm.data.frames import load_stack
    from edge_shm.data.library import is_library

    if frames_arg is not None and is_library(frames_arg):
        from edge_shm.data.library import read_library

        test = read_library(frames_arg, load_physics=False).split_frames("test")
        return test, f"test split of --frames {frames_arg} ({len(test)} samples)"
    if frames_arg is not None:
        frames = load_stack(frames_arg)
        return frames, f"--frames {frames_arg} ({frames.shape[0]} sequences)"
    lib_path = config.get("library")
    if lib_path and Path(lib_path).is_file():
        from edge_shm.data.library import read_library

        lib = read_library(lib_path, load_physics=False)
        if lib.fingerprint() != config.get("library_fingerprint", lib.fingerprint()):
            return None, f"the library at {lib_path} is not the one the run was trained on"
        test = lib.indices("test")
        if len(test):
            return lib.frames[test], (
                f"test split of {lib_path} ({len(test)} held-out samples, never trained on)"
            )
        return None, f"the library {lib_path} has no test split"
    return None, f"the library named in config.json ({lib_path}) does not exist here"


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


def verify_onnx(model, path, frames: np.ndarray) -> dict:
    """ONNX Runtime vs torch ``step``, raw forecasts; ties judged from the torch trace."""
    from edge_shm.export.reference import streaming_rollout, torch_trace
    from edge_shm.firmware_sim.onnx_runner import OnnxStepper
    from edge_shm.firmware_sim.stepper import stream

    ref = streaming_rollout(model, frames)
    got = stream(OnnxStepper(path), frames)
    per_seq = np.abs(ref - got).max(axis=(1, 2, 3))
    ties = np.zeros(len(per_seq), bool)
    if model.capabilities.spiking:
        vth = model.thresholds()
        for i in np.flatnonzero(~(per_seq <= ONNX_TOL)):
            first = int(np.argmax(~(np.abs(ref[i] - got[i]).max(axis=(1, 2)) <= ONNX_TOL)))
            v = torch_trace(model, frames[i]).v_pre
            ties[i] = any(
                (np.abs(x[: first + 1].astype(np.float64) - vth[k]) < THRESHOLD_TOL).any()
                for k, x in v.items()
            )
    clean = per_seq[~ties]
    return {
        "sequences": int(frames.shape[0]),
        "frames_per_sequence": int(frames.shape[1]),
        "max_abs_diff": float(per_seq.max()),
        "sequences_with_ties": int(ties.sum()),
        "max_abs_diff_tie_free": float(clean.max()) if clean.size else None,
        "tolerance": ONNX_TOL,
        "ok": bool(clean.size and np.all(np.isfinite(per_seq)) and clean.max() <= ONNX_TOL),
    }


def verify_nir(model, path, frames: np.ndarray) -> dict:
    """The numpy simulator on the NIR file read back vs torch ``trace_step``; for a file
    written for a consumer (``--for``), the consumer too when it is installed."""
    import nir

    from edge_shm.export.nir_consumers import consumer_of
    from edge_shm.export.reference import torch_trace
    from edge_shm.firmware_sim.nir_sim import run_nir_file

    reps = []
    for seq in frames:
        got = run_nir_file(path, seq)
        reps.append(
            spike_report(torch_trace(model, seq), got.spikes, got.prediction, model.thresholds())
        )
    res = merge(reps, frames)
    consumer = consumer_of(nir.read(str(path)).metadata)
    if consumer != "generic":
        from edge_shm.export.nir_consumer_run import verify_in_consumer

        res["consumer"] = verify_in_consumer(model, path, frames, consumer)
        res["ok"] = bool(res["ok"] and res["consumer"].get("ok", True))
    return res


def verify_lava(model, bundle_dir, frames: np.ndarray) -> dict:
    """Runs the bundle in Lava (in-process or in .venv-lava) on each sequence's full rollout."""
    from edge_shm.export.reference import torch_trace
    from edge_shm.firmware_sim.lava.host import run_bundle

    runs = run_bundle(bundle_dir, frames)
    reps = [
        spike_report(torch_trace(model, seq), r.spikes, r.prediction, model.thresholds())
        for seq, r in zip(frames, runs, strict=True)
    ]
    out = merge(reps, frames)
    out["delays"] = runs[0].delays
    out["lava_run_seconds_per_step"] = float(
        np.mean(
            [
                r.seconds["run"] / (seq.shape[0] + r.delays["readout"])
                for seq, r in zip(frames, runs, strict=True)
            ]
        )
    )
    return out
