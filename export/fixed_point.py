"""The ``lava-fixed`` target (``export RUN --target lava --fixed-point CALIB``): a Lava fixed_pt
bundle, verified bit-exact. The hooks of its row in :mod:`edge_shm.export.targets`.

    OUT/  calibration.json, tensors.npz, calibration.md   the calibrated graph (docs/calibration.md)
          export.json                                    run, calibration, verification

OUT runs with ``edge-shm simulate OUT --backend lava-fixed`` (Lava,
``Loihi2SimCfg(select_tag="fixed_pt")``) or ``--backend int`` (the integer engine). The
verification runs held-out sequences through both and requires identical spikes in every layer
at every step and identical readouts; it also reports how far the integer forecast lies from
the float model's (the cost of the deployed precision, not an error; frame units in [0, 1]).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError

VERIFY_SEQUENCES = 2
FILES = ("calibration.json", "tensors.npz", "calibration.md")


def calibrated_graph(job, flag: str):
    """The calibrated graph of ``job.options.variant_input``, refused in one line when the
    model is not spiking or the calibration was made from other weights (``flag`` names the
    option in the message)."""
    from edge_shm.firmware_sim.fixed_graph import FixedGraph

    model, calib_dir = job.model, job.options.variant_input
    if not model.capabilities.spiking:
        raise UserError(
            f"model {model.name!r} is not a spiking network: {flag} needs a calibrated spiking run"
        )
    fixed = FixedGraph.load(calib_dir)
    if fixed.run_sha256 != job.config.get("weights_sha256"):
        raise UserError(f"{calib_dir}: calibrated from another run (its weights differ)")
    return fixed


def prepare(job):
    """:func:`calibrated_graph`, refused in one line unless the calibration is for Loihi."""
    fixed = calibrated_graph(job, "--fixed-point")
    if fixed.target != "loihi":
        raise UserError(
            f"{job.options.variant_input}: an {fixed.target} calibration runs on the integer "
            "engine, not in Lava; calibrate with --target loihi"
        )
    return fixed


def write(job, folder: Path) -> dict:
    """Copies the calibration's files into the export folder; returns which."""
    calib_dir = Path(job.options.variant_input)
    copied = [name for name in FILES if (calib_dir / name).is_file()]
    for name in copied:
        shutil.copy(calib_dir / name, folder / name)
    return {"calibration": str(calib_dir), "files": copied}


def verify(job, folder: Path, seqs: np.ndarray) -> dict:
    return verify_fixed(job.model, job.prepared, folder, seqs)


def failed(res: dict) -> str:
    """The one-line error of a verification that is not ok."""
    why = describe_fixed(res)
    if res["problems"]:
        return f"lava fixed_pt verification shows nothing ({why})"
    return f"lava fixed_pt differs from the integer engine ({why})"


def verify_fixed(model, fixed, folder: Path, seqs: np.ndarray) -> dict:
    """Lava fixed_pt vs the integer engine (must be identical), and vs the float model, on
    ``seqs`` (N, T, H, W).

    Not ok either when the comparison shows nothing (``problems``): a forecast that is not
    finite (on any side), readouts that are zero at every step on both sides, nothing compared.
    """
    from edge_shm.export.reference import torch_trace
    from edge_shm.firmware_sim.int_engine import IntEngine
    from edge_shm.firmware_sim.lava.fixed import run_fixed

    t0 = time.perf_counter()
    lava = run_fixed(folder, seqs)
    compared = differ = readout_compared = readout_differ = 0
    rates, float_diff, problems, any_readout = [], 0.0, [], False
    for seq, got in zip(seqs, lava, strict=True):
        mine = IntEngine(fixed).run(seq)
        for name, s in mine["spikes"].items():
            compared += s.size
            differ += int((got["spikes"][name] != s).sum())
            rates.append(float(s.mean()))
        readout_compared += mine["readout"].size
        readout_differ += int((got["readout"] != mine["readout"]).sum())
        any_readout |= bool(np.any(mine["readout"]) or np.any(got["readout"]))
        ref = torch_trace(model, seq)
        sides = (("integer", mine["prediction"]), ("lava", got["prediction"]),
                 ("float", ref.prediction))  # fmt: skip
        for side, pred in sides:
            if not np.isfinite(pred).all() and f"{side} forecast not finite" not in problems:
                problems.append(f"{side} forecast not finite")
        diff = np.abs(np.asarray(mine["prediction"], np.float64) - ref.prediction)
        float_diff = max(float_diff, float(diff.max())) if np.isfinite(diff).all() else np.nan
    if readout_compared == 0:
        problems.append("no readout values compared")
    elif not any_readout:
        problems.append("every readout value is 0 on both sides")
    return {
        "sequences": int(len(seqs)),
        "frames_per_sequence": int(seqs.shape[1]),
        "spikes_compared": compared,
        "spikes_differ": differ,
        "readout_values_differ": readout_differ,
        "spike_rate": float(np.mean(rates)) if rates else 0.0,
        "max_abs_frame_diff_vs_float": float_diff,
        "problems": problems,
        "ok": differ == 0 and readout_differ == 0 and not problems,
        "seconds": time.perf_counter() - t0,
    }


def describe_fixed(res: dict) -> str:
    """One line of :func:`verify_fixed`'s report."""
    text = (
        f"lava fixed_pt vs integer engine: {res['spikes_differ']} of "
        f"{res['spikes_compared']:,} spikes and {res['readout_values_differ']} readout values "
        f"differ over {res['sequences']} x {res['frames_per_sequence']} frames (spike rate "
        f"{res['spike_rate']:.3%}); largest |integer forecast - float| = "
        f"{res['max_abs_frame_diff_vs_float']:.3g}"
    )
    if res.get("problems"):
        text += f"; not verified: {', '.join(res['problems'])}"
    return text
