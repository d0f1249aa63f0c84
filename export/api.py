"""The export pipeline: one trained run directory -> one deployment artefact folder, verified.

    OUT/ (onnx)        model.onnx, export.json
    OUT/ (onnx-int8)   model.onnx, model.int8.onnx, export.json
    OUT/ (nir)         model.nir, export.json
    OUT/ (lava)        the bundle (manifest.json, graph.nir, probe and expected outputs),
                       export.json
    OUT/ (lava-fixed)  calibration.json, tensors.npz, calibration.md, export.json

What each target writes and how it is checked is its row in :mod:`edge_shm.export.targets`;
:func:`export_artefact` is the same for every row. The folder is built beside OUT and renamed
into place only when writing (and verification, unless disabled) succeeded: a failed export
leaves no partial folder. OUT may replace an earlier export folder, never anything else.
``edge_shm.app.export.export_run`` is the use case on top (target choice from the CLI options).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.export.targets import ExportOptions, Job, Target, get_target
from edge_shm.jsonio import write_json
from edge_shm.outputs import Output, atomic_dir, owned, plan_outputs

KIND = "export folder"
is_export = owned(KIND)


def describe_verification(target: str, res: dict) -> str:
    """One line of a verification report of ``target`` (a row name: onnx, nir, lava...)."""
    return get_target(target).verification.describe(res)


def codec_rows(codec, frames: np.ndarray) -> np.ndarray:
    """Held-out sequences (N, T, H, W) as a motion network's rows (N, T, h, w): every other
    sequence with a camera's fixed frame interval (the clock entries in use), the others
    without cycles."""
    from edge_shm.firmware_sim.codec import graph_inputs

    t = frames.shape[1]
    clock = np.where(np.arange(len(frames))[:, None] % 2 == 0, np.arange(t)[None], np.nan)
    rows = [
        graph_inputs(codec, s[None], None if np.isnan(c).any() else c[None])[0]
        for s, c in zip(frames, clock, strict=True)
    ]
    return np.stack(rows)


def made_for(model, config: dict) -> dict:
    """What an artefact was made for, recorded at the top of export.json: ``window`` (frames in
    per forecast: a motion network's codec ``n_in``, else the run's ``window[0]``; None when
    the run does not say), ``pixel_mm`` (mm per pixel, float or None) and ``frame_shape``
    ([H, W] px of the frames it takes: a motion network's camera frames as its run records
    them, else the model's input)."""
    from edge_shm.runs import run_window

    codec = model.codec
    window = run_window(config, codec)
    shape = config.get("frame_shape") if codec is not None else [model.height, model.width]
    px = config.get("pixel_mm")
    return {
        "window": None if window is None else int(window),
        "pixel_mm": None if px is None else float(px),
        "frame_shape": None if shape is None else [int(s) for s in shape],
    }


def export_artefact(
    run_dir,
    target: Target | str,
    out,
    *,
    verify: bool = True,
    frames=None,
    options: ExportOptions | None = None,
    note: Callable[[str], None] | None = None,
) -> dict:
    """Export ``run_dir`` to the folder ``out`` for ``target`` (a row or its name); returns the
    report written as export.json. ``frames``: held-out frames when the run's library is gone
    (.npy, image folder or library); ``note`` receives the progress lines."""
    from edge_shm.data.frames import check_frame_shape
    from edge_shm.export.verify import held_out_frames
    from edge_shm.runs import load_run

    t = get_target(target) if isinstance(target, str) else target
    options = options or ExportOptions()
    note = note or (lambda text: None)
    inputs = [run_dir, *(p for p in (frames, options.variant_input) if p is not None)]
    (out,) = plan_outputs([Output(Path(out), KIND, True, is_export)], inputs)
    model, config = load_run(run_dir, "cpu")
    job = Job(model, config, options, note=note)
    if t.prepare is not None:
        job.prepared = t.prepare(job)
    why = model.blocker(t.base)
    if why:
        raise UserError(f"model {model.name!r} cannot be exported to {t.base}: {why}")
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
    job.held, job.source = held, source
    report = {
        "run": str(Path(run_dir)),
        "model": config["model"],
        "target": t.base,
        **t.record(options),
        "frames_source": source if held is not None else None,
        **made_for(model, config),
    }
    t0 = time.perf_counter()
    with atomic_dir(out, KIND) as tmp:
        report["artefact"] = t.write(job, tmp)
        report["export_seconds"] = time.perf_counter() - t0
        report["verification"] = None
        if verify:
            check = t.verification
            note(f"verifying {check.against}: {source}")
            t1 = time.perf_counter()
            res = check.run(job, tmp, held[: check.sequences])
            res["seconds"] = time.perf_counter() - t1
            report["verification"] = res
            note(check.describe(res))
            if not res["ok"]:
                raise UserError(check.failed(res))
        if t.finish is not None:
            report.update(t.finish(job, tmp))
        write_json(tmp / "export.json", report)
    return report
