"""Parity of exported artefacts with torch, on held-out frames, and its one-line reports.

Held-out frames: the test split of the library named in the run's config.json when that file
exists (the model never saw those samples), else frames given by the user (``--frames``).

Spikes and frames are compared by :mod:`edge_shm.export.spikes` (tolerances, threshold ties).
Forecast differences are in frame units (pixel values in [0, 1]).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_shm.export.spikes import (  # noqa: F401  (re-exported)
    FRAME_TOL,
    ONNX_TOL,
    SPIKE_AGREEMENT,
    THRESHOLD_TOL,
    compare_spikes,
    merge,
    spike_report,
)


def held_out_frames(config: dict, frames_arg=None) -> tuple[np.ndarray | None, str]:
    """(frames (N, T, H, W), where they came from) or (None, why there are none)."""
    from edge_shm.data.library import is_library
    from edge_shm.data.stack import load_stack

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


def describe_onnx(res: dict) -> str:
    """One line of :func:`verify_onnx`'s report."""
    n = f"{res['sequences']} x {res['frames_per_sequence']} frames"
    ties = ""
    if res["sequences_with_ties"]:
        ties = (
            f"; {res['sequences_with_ties']} sequence(s) with a threshold tie (a spike "
            f"flipped by float rounding), tie-free largest {res['max_abs_diff_tie_free']:.3g}"
        )
    return (
        f"onnx: largest |ONNX Runtime - torch| = {res['max_abs_diff']:.3g} over {n} "
        f"(tolerance {res['tolerance']:g}){ties}"
    )


def describe_spikes(target: str, res: dict) -> str:
    """One line of a spike comparison (:func:`verify_nir`, :func:`verify_lava`), the line
    starting with ``target``."""
    n = f"{res['sequences']} x {res['frames_per_sequence']} frames"
    extra = f"; Lava delays removed {res['delays']} steps" if "delays" in res else ""
    c = res.get("consumer")
    if c and c["ran"]:
        extra += (
            f"; in {c['consumer']} {c['version']} itself: spikes agree on "
            f"{100 * c['agreement']:.4f} %, largest |frame - torch| = "
            f"{c['max_abs_frame_diff']:.3g}"
        )
    elif c:
        extra += f"; not run in the consumer: {c['why']}"
    if res["sequences_with_ties"]:
        free = res["max_abs_frame_diff_tie_free"]
        extra += (
            f"; {res['sequences_with_ties']} sequence(s) with a threshold tie, frame check "
            f"on the others: {'n/a' if free is None else f'{free:.3g}'}"
        )
    return (
        f"{target}: spikes agree on {100 * res['agreement']:.4f} % of "
        f"{res['spikes_compared']:,} ({res['disagree']} differ, {res['unexplained']} not at "
        f"the threshold); largest |frame - torch| = {res['max_abs_frame_diff']:.3g} over "
        f"{n}{extra}"
    )
