"""``export_run``: one trained run directory -> one deployment artefact folder, verified.

    OUT/ (onnx)   model.onnx, export.json
    OUT/ (nir)    model.nir, export.json
    OUT/ (lava)   the bundle (manifest.json, graph.nir, probe and expected outputs), export.json

The folder is built beside OUT and renamed into place only when writing (and verification,
unless disabled) succeeded: a failed export leaves no partial folder. OUT may replace an earlier
export folder, never anything else.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.jsonio import write_json
from edge_shm.outputs import Output, atomic_dir, owned, plan_outputs

KIND = "export folder"
is_export = owned(KIND)


def describe_verification(target: str, res: dict) -> str:
    n = f"{res['sequences']} x {res['frames_per_sequence']} frames"
    if target == "onnx":
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


def codec_rows(codec, frames: np.ndarray) -> np.ndarray:
    """Held-out sequences as a motion network's rows: every other sequence with a camera's
    fixed frame interval (the clock entries in use), the others without cycles."""
    from edge_shm.firmware_sim.codec import graph_inputs

    t = frames.shape[1]
    clock = np.where(np.arange(len(frames))[:, None] % 2 == 0, np.arange(t)[None], np.nan)
    rows = [
        graph_inputs(codec, s[None], None if np.isnan(c).any() else c[None])[0]
        for s, c in zip(frames, clock, strict=True)
    ]
    return np.stack(rows)


def export_run(
    run_dir,
    target: str,
    out,
    verify: bool = True,
    frames=None,
    log=print,
    extra=None,
    options: dict | None = None,
) -> dict:
    """Export ``run_dir`` to ``out`` for ``target``; returns the export report (export.json).

    ``extra(folder, held_out_frames) -> dict`` adds artefacts to the folder before it is
    renamed into place (its dict joins the report): an int8 ONNX beside the float one.
    ``options`` go to the target's writer (``{"consumer": "snntorch"}`` for NIR)."""
    from edge_shm.data.frames import check_frame_shape
    from edge_shm.export.targets import get_target
    from edge_shm.export.verify import held_out_frames
    from edge_shm.runs import load_run

    t = get_target(target)
    inputs = [run_dir] + ([frames] if frames is not None else [])
    (out,) = plan_outputs([Output(Path(out), "export folder", True, is_export)], inputs)
    model, config = load_run(run_dir, "cpu")
    why = model.blocker(target)
    if why:
        raise UserError(f"model {model.name!r} cannot be exported to {target}: {why}")
    if t.lowered:
        model.lower()  # refuses a layer without a graph equivalent, naming it
    held, source = held_out_frames(config, frames)
    if held is not None and model.codec is not None:
        held = codec_rows(model.codec, held)
        source += ", as the codec's motion tiles"
    if held is not None:
        check_frame_shape(held, (model.height, model.width))
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
    if held is not None:
        probe, probe_source = held[0], f"first sequence of the {source}"
    else:
        probe = np.random.default_rng(0).random((4, model.height, model.width), np.float32)
        probe_source = "seeded uniform noise (no held-out frames were available)"
    t0 = time.perf_counter()
    with atomic_dir(out, KIND) as tmp:
        report["artefact"] = t.write(model, config, tmp, probe, probe_source, options or {})
        report["export_seconds"] = time.perf_counter() - t0
        report["verification"] = None
        if verify:
            log(f"verifying on held-out frames: {source}")
            t1 = time.perf_counter()
            res = t.verify(model, tmp, held[: t.verify_sequences])
            res["seconds"] = time.perf_counter() - t1
            report["verification"] = res
            log(describe_verification(target, res))
            if not res["ok"]:
                raise UserError(
                    f"{target} export differs from torch beyond tolerance "
                    f"({describe_verification(target, res)})"
                )
        if extra is not None:
            report.update(extra(tmp, held))
        write_json(tmp / "export.json", report)
    return report
