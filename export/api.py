"""``export_run``: one trained run directory -> one deployment artefact folder, verified.

    OUT/ (onnx)   model.onnx, export.json
    OUT/ (nir)    model.nir, export.json
    OUT/ (lava)   the bundle (manifest.json, graph.nir, probe and expected outputs), export.json

The folder is built beside OUT and renamed into place only when writing (and verification,
unless disabled) succeeded: a failed export leaves no partial folder.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError

TARGETS = ("onnx", "nir", "lava")
ARTEFACT = {"onnx": "model.onnx", "nir": "model.nir"}
LAVA_VERIFY_SEQUENCES = 1
NIR_VERIFY_SEQUENCES = 4
ONNX_VERIFY_SEQUENCES = 8


def check_target(target: str) -> None:
    if target not in TARGETS:
        raise UserError(f"unknown export target {target!r}; choose one of {', '.join(TARGETS)}")


def export_run(
    run_dir,
    target: str,
    out,
    verify: bool = True,
    frames=None,
    log=print,
) -> dict:
    """Export ``run_dir`` to ``out`` for ``target``; returns the export report (export.json)."""
    from edge_shm.atomic import atomic_dir, check_output
    from edge_shm.export import verify as V
    from edge_shm.runs import load_run

    check_target(target)
    out = Path(out)
    check_output(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"output exists and is not a folder: {out}")
    model, config = load_run(run_dir)
    if target in ("nir", "lava"):
        from edge_shm.export.nir_export import check_expressible

        check_expressible(model, target)
    held, source = V.held_out_frames(config, frames)
    if held is not None:
        V.check_frame_shape(held, config)
    if verify and held is None:
        raise UserError(
            f"no held-out frames to verify with: {source}; pass --frames or --no-verify"
        )
    report = {
        "run": str(Path(run_dir)),
        "model": config["model"],
        "target": target,
        "frames_source": source if held is not None else None,
    }
    t0 = time.perf_counter()
    with atomic_dir(out) as tmp:
        if target == "onnx":
            from edge_shm.export.onnx_export import export_onnx

            report["artefact"] = export_onnx(model, config, tmp / ARTEFACT["onnx"])
        elif target == "nir":
            from edge_shm.export.nir_export import export_nir

            report["artefact"] = export_nir(model, config, tmp / ARTEFACT["nir"])
        else:
            from edge_shm.export.lava_bundle import export_bundle

            if held is not None:
                probe, probe_source = held[0], f"first sequence of the {source}"
            else:
                rng = np.random.default_rng(0)
                probe = rng.random((4, *config["frame_shape"])).astype(np.float32)
                probe_source = "seeded uniform noise (no held-out frames were available)"
            export_bundle(model, config, tmp, probe, probe_source)
            report["artefact"] = {"bundle": "manifest.json", "probe_source": probe_source}
        report["export_seconds"] = time.perf_counter() - t0
        if verify:
            log(f"verifying on held-out frames: {source}")
            t1 = time.perf_counter()
            if target == "onnx":
                res = V.verify_onnx(model, tmp / ARTEFACT["onnx"], held[:ONNX_VERIFY_SEQUENCES])
            elif target == "nir":
                res = V.verify_nir(model, tmp / ARTEFACT["nir"], held[:NIR_VERIFY_SEQUENCES])
            else:
                res = V.verify_lava(model, tmp, held[:LAVA_VERIFY_SEQUENCES])
            res["seconds"] = time.perf_counter() - t1
            report["verification"] = res
            log(describe_verification(target, res))
            if not res["ok"]:
                raise UserError(
                    f"{target} export differs from torch beyond tolerance "
                    f"({describe_verification(target, res)})"
                )
        else:
            report["verification"] = None
        (tmp / "export.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    return report


def describe_verification(target: str, res: dict) -> str:
    n = f"{res['sequences']} x {res['frames_per_sequence']} frames"
    if target == "onnx":
        ties = ""
        if res["sequences_with_ties"]:
            ties = (
                f"; {res['sequences_with_ties']} sequence(s) with a threshold tie "
                f"(a spike flipped by float rounding), tie-free largest "
                f"{res['max_abs_diff_tie_free']:.3g}"
            )
        return (
            f"onnx: largest |ONNX Runtime - torch| = {res['max_abs_diff']:.3g} over {n} "
            f"(tolerance {res['tolerance']:g}){ties}"
        )
    extra = ""
    if "delays" in res:
        extra = f"; Lava delays removed {res['delays']} steps"
    if res["sequences_with_ties"]:
        extra += (
            f"; {res['sequences_with_ties']} sequence(s) with a threshold tie, frame check "
            f"on the others: {res['max_abs_frame_diff_tie_free']:.3g}"
        )
    return (
        f"{target}: spikes agree on {100 * res['agreement']:.4f} % of "
        f"{res['spikes_compared']:,} ({res['disagree']} differ, {res['unexplained']} not at the "
        f"threshold); largest |frame - torch| = {res['max_abs_frame_diff']:.3g} over {n}{extra}"
    )
