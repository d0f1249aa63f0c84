"""``export RUN --target lava --fixed-point CALIB``: a Lava fixed_pt bundle, verified bit-exact.

    OUT/  calibration.json, tensors.npz, calibration.md   the calibrated graph (docs/calibration.md)
          export.json                                    run, calibration, verification

OUT runs with ``edge-shm simulate OUT --backend lava-fixed`` (Lava,
``Loihi2SimCfg(select_tag="fixed_pt")``) or ``--backend int`` (the integer engine). The
verification runs held-out sequences through both and requires identical spikes in every layer
at every step and identical readouts; it also reports how far the integer forecast lies from
the float model's (the cost of the deployed precision, not an error).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.jsonio import write_json
from edge_shm.outputs import Output, atomic_dir, plan_outputs

VERIFY_SEQUENCES = 2


def export_fixed(run_dir, calib_dir, out, verify: bool = True, frames=None, log=print) -> dict:
    from edge_shm.export.api import is_export
    from edge_shm.export.verify import held_out_frames
    from edge_shm.firmware_sim.fixed_graph import FixedGraph
    from edge_shm.runs import load_run

    (out,) = plan_outputs(
        [Output(Path(out), "export folder", True, is_export)],
        [run_dir, calib_dir] + ([frames] if frames is not None else []),
    )
    model, config = load_run(run_dir, "cpu")
    if not model.capabilities.spiking:
        raise UserError(
            f"model {model.name!r} is not a spiking network: --fixed-point needs a calibrated "
            "spiking run"
        )
    fixed = FixedGraph.load(calib_dir)
    if fixed.run_sha256 != config.get("weights_sha256"):
        raise UserError(f"{calib_dir}: calibrated from another run (its weights differ)")
    if fixed.target != "loihi":
        raise UserError(
            f"{calib_dir}: an {fixed.target} calibration runs on the integer engine, not in "
            "Lava; calibrate with --target loihi"
        )
    held, source = held_out_frames(config, frames)
    if verify and held is None:
        raise UserError(f"no held-out frames to verify with: {source}; pass --frames")
    report = {
        "run": str(Path(run_dir)),
        "model": config["model"],
        "target": "lava",
        "fixed_point": True,
        "calibration": str(Path(calib_dir)),
        "frames_source": source if held is not None else None,
        "verification": None,
    }
    with atomic_dir(out, "export folder") as tmp:
        for name in ("calibration.json", "tensors.npz", "calibration.md"):
            if (Path(calib_dir) / name).is_file():
                shutil.copy(Path(calib_dir) / name, tmp / name)
        if verify:
            log(f"verifying Lava fixed_pt against the integer engine on: {source}")
            report["verification"] = verify_fixed(model, fixed, tmp, held[:VERIFY_SEQUENCES])
            log(describe_fixed(report["verification"]))
            if not report["verification"]["ok"]:
                why = describe_fixed(report["verification"])
                if report["verification"]["problems"]:
                    raise UserError(f"lava fixed_pt verification shows nothing ({why})")
                raise UserError(f"lava fixed_pt differs from the integer engine ({why})")
        write_json(tmp / "export.json", report)
    return report


def verify_fixed(model, fixed, folder: Path, seqs: np.ndarray) -> dict:
    """Lava fixed_pt vs the integer engine (must be identical), and vs the float model.

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
