"""Parity of exported artefacts with torch, on held-out frames.

Held-out frames: the test split of the library named in the run's config.json when that file
exists (the model never saw those samples), else frames given by the user (``--frames``).

Threshold ties: a spiking layer whose torch membrane lands within float rounding of the threshold
(``THRESHOLD_TOL``) may spike in one runtime and not in the other; that flip then changes the
frames downstream by a whole weight. Such a sequence is counted in ``sequences_with_ties``: its
spike disagreements must all be explained by the tie, and the frame tolerance is checked on the
tie-free sequences (at least one is required).
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


def load_frames_arg(path) -> np.ndarray:
    """A .npy (N, T, H, W) or (T, H, W) stack, or an image folder -> float32 (N, T, H, W)."""
    from edge_shm.library import check_frames, load_frames_any

    arr = load_frames_any(path)
    if np.ndim(arr) == 3:
        arr = np.asarray(arr)[None]
    return check_frames(arr, f"{path}")


def held_out_frames(config: dict, frames_arg=None) -> tuple[np.ndarray | None, str]:
    """(frames (N, T, H, W), where they came from) or (None, why there are none)."""
    if frames_arg is not None:
        frames = load_frames_arg(frames_arg)
        return frames, f"--frames {frames_arg} ({frames.shape[0]} sequences)"
    lib_path = config.get("library")
    if lib_path and Path(lib_path).is_file():
        from edge_shm.library import read_library

        lib = read_library(lib_path, load_physics=False)
        test = lib.indices("test")
        if len(test):
            return lib.frames[test], (
                f"test split of {lib_path} ({len(test)} held-out samples, never trained on)"
            )
        return None, f"the library {lib_path} has no test split"
    return None, f"the library named in config.json ({lib_path}) does not exist here"


def check_frame_shape(frames: np.ndarray, config: dict) -> None:
    want = tuple(config.get("frame_shape", frames.shape[-2:]))
    if tuple(frames.shape[-2:]) != want:
        raise UserError(
            f"frames are {frames.shape[-2]}x{frames.shape[-1]} px but the model expects "
            f"{want[0]}x{want[1]} px"
        )


def compare_spikes(ref: np.ndarray, ref_v: np.ndarray, got: np.ndarray, vth: float) -> dict:
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


def spike_report(ref: dict, got: dict, vth: float) -> dict:
    """Per-layer agreement of one sequence, layers in signal order, time first.

    A threshold tie at the first disagreement (the earliest step, the earliest layer) is the
    cause; every later disagreement in the sequence follows from that flip through the state and
    the next layers, so the sequence counts as a tie sequence, not as unexplained.
    """
    layers = {
        k: compare_spikes(ref["spikes"][k], ref["v"][k], got["spikes"][k], vth)
        for k in ref["spikes"]
    }
    total = sum(r["spikes"] for r in layers.values())
    disagree = sum(r["disagree"] for r in layers.values())
    unexplained = sum(r["unexplained"] for r in layers.values())
    tie = False
    if disagree:
        diffs = {
            k: np.asarray(ref["spikes"][k], bool) != np.asarray(got["spikes"][k], bool)
            for k in layers
        }
        first_t = min(
            int(np.argmax(d.reshape(len(d), -1).any(axis=1))) for d in diffs.values() if d.any()
        )
        for k, d in diffs.items():
            if d[first_t].any():
                near = np.abs(np.asarray(ref["v"][k][first_t], np.float64) - vth) < THRESHOLD_TOL
                tie = bool(np.all(near[d[first_t]]))
                break
        if tie:
            unexplained = 0
    return {
        "layers": layers,
        "agreement": 1 - disagree / total,
        "unexplained": unexplained,
        "tie": tie,
        "max_abs_frame_diff": float(np.abs(ref["prediction"] - got["prediction"]).max()),
    }


def _has_tie_flip(rep: dict) -> bool:
    """A sequence whose spikes differ only where torch sat on the threshold."""
    return rep["tie"]


def spikes_ok(rep: dict) -> bool:
    frame = rep.get("max_abs_frame_diff_tie_free", rep["max_abs_frame_diff"])
    return (
        rep["agreement"] >= SPIKE_AGREEMENT
        and rep["unexplained"] == 0
        and frame is not None
        and frame <= FRAME_TOL
    )


def verify_onnx(model, path, frames: np.ndarray) -> dict:
    from edge_shm.export.reference import snn_reference, torch_rollout
    from edge_shm.firmware_sim.onnx_runner import OnnxStepper

    ref = torch_rollout(model, frames)
    got = OnnxStepper(path).rollout(frames)
    per_seq = np.abs(ref - got).max(axis=(1, 2, 3))
    ties = np.zeros(len(per_seq), bool)
    for i in np.flatnonzero(per_seq > ONNX_TOL):
        if hasattr(model, "step_trace"):  # spiking: was there a threshold tie up to that step?
            first = int(np.argmax(np.abs(ref[i] - got[i]).max(axis=(1, 2)) > ONNX_TOL))
            v = snn_reference(model, frames[i])["v"]
            ties[i] = any(
                (np.abs(x[: first + 1].astype(np.float64) - model_vth(model)) < THRESHOLD_TOL).any()
                for x in v.values()
            )
    clean = per_seq[~ties]
    return {
        "sequences": int(frames.shape[0]),
        "frames_per_sequence": int(frames.shape[1]),
        "max_abs_diff": float(per_seq.max()),
        "sequences_with_ties": int(ties.sum()),
        "max_abs_diff_tie_free": float(clean.max()) if clean.size else None,
        "tolerance": ONNX_TOL,
        "ok": bool(clean.size and clean.max() <= ONNX_TOL),
    }


def verify_nir(model, path, frames: np.ndarray) -> dict:
    from edge_shm.export.reference import snn_reference
    from edge_shm.firmware_sim.nir_sim import run_nir_file

    reps = []
    for seq in frames:
        reps.append(
            spike_report(snn_reference(model, seq), run_nir_file(path, seq), model_vth(model))
        )
    return _merge(reps, frames)


def verify_lava(model, bundle_dir, frames: np.ndarray) -> dict:
    """Runs the bundle in Lava (in-process or in .venv-lava) on each sequence's full rollout."""
    from edge_shm.export.reference import snn_reference
    from edge_shm.firmware_sim.lava_builder import run_bundle

    reps, seconds = [], []
    for seq in frames:
        try:
            got = run_bundle(bundle_dir, seq)
        except RuntimeError as e:
            raise UserError(f"Lava verification could not run: {e}") from None
        reps.append(spike_report(snn_reference(model, seq), got, model_vth(model)))
        seconds.append(got["seconds"]["run"] / (seq.shape[0] + got["delays"]["readout"]))
    out = _merge(reps, frames)
    out["delays"] = got["delays"]
    out["lava_run_seconds_per_step"] = float(np.mean(seconds))
    return out


def model_vth(model) -> float:
    return float(model.lif.v_th)


def _merge(reps: list[dict], frames: np.ndarray) -> dict:
    total = sum(sum(r["spikes"] for r in x["layers"].values()) for x in reps)
    disagree = sum(sum(r["disagree"] for r in x["layers"].values()) for x in reps)
    out = {
        "sequences": int(frames.shape[0]),
        "frames_per_sequence": int(frames.shape[1]),
        "spikes_compared": int(total),
        "spike_rate": float(
            sum(sum(r["spike_rate"] * r["spikes"] for r in x["layers"].values()) for x in reps)
            / total
        ),
        "agreement": 1 - disagree / total,
        "disagree": int(disagree),
        "unexplained": sum(x["unexplained"] for x in reps),
        "max_abs_frame_diff": max(x["max_abs_frame_diff"] for x in reps),
        "sequences_with_ties": sum(1 for x in reps if _has_tie_flip(x)),
        "tolerance": {"agreement": SPIKE_AGREEMENT, "frame": FRAME_TOL},
    }
    clean = [x["max_abs_frame_diff"] for x in reps if not _has_tie_flip(x)]
    out["max_abs_frame_diff_tie_free"] = max(clean) if clean else None
    out["ok"] = spikes_ok(out)
    return out
