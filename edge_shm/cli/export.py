"""``edge-shm export`` (ONNX, NIR, Lava bundle; verified against torch), ``edge-shm simulate``."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import typer

from edge_shm.console import out


def register(app: typer.Typer) -> None:
    app.command(name="export")(export_cmd)
    app.command()(simulate)


def _log(text: str) -> None:
    out.print(text, soft_wrap=True)


def export_cmd(
    run: Path = typer.Argument(..., help="Run directory (weights.safetensors + config.json)."),
    target: str = typer.Option(..., "--target", "-t", help="onnx, nir or lava."),
    output: Path = typer.Option(..., "-o", "--output", help="Output folder."),
    verify: bool = typer.Option(True, help="Run the artefact on held-out frames vs torch."),
    frames: Path = typer.Option(
        None,
        help="Held-out frames when the run's library is missing: .npy, image folder, or a "
        "library .h5 (its test split).",
    ),
    fixed_point: Path = typer.Option(
        None,
        "--fixed-point",
        help="Calibration folder (edge-shm calibrate --target loihi): a Lava fixed_pt bundle.",
    ),
    int8: Path = typer.Option(
        None, "--int8", help="onnx: also model.int8.onnx (QDQ), calibrated on this library."
    ),
    consumer: str = typer.Option(
        "generic",
        "--for",
        help="nir: the framework that will load the file (norse, snntorch, sinabs, generic); "
        "its parameters are written so that it computes this model's steps, or refused.",
    ),
) -> None:
    """Export a trained run: ONNX step graph, NIR graph or Lava bundle; verified by default."""
    from edge_shm.errors import UserError
    from edge_shm.export.api import export_run
    from edge_shm.export.targets import get_target

    t = get_target(target)
    if consumer != "generic" and target != "nir":
        raise UserError(f"--for is for --target nir, not {target}")
    if fixed_point is not None:
        from edge_shm.export.fixed_point import export_fixed

        if target != "lava":
            raise UserError(f"--fixed-point is for --target lava, not {target}")
        report = export_fixed(run, fixed_point, output, verify=verify, frames=frames, log=_log)
        _log(f"exported {report['model']} -> {output}: Lava fixed_pt bundle (calibration.json)")
        return
    extra = None
    if int8 is not None:
        extra = _int8_step(int8, target)
    report = export_run(
        run,
        target,
        output,
        verify=verify,
        frames=frames,
        log=_log,
        extra=extra,
        options={"consumer": consumer},
    )
    ver = "" if report["verification"] is not None else " (not verified: --no-verify)"
    _log(f"exported {report['model']} -> {output}: {t.describe(report['artefact'])}{ver}")


def _int8_step(library: Path, target: str):
    """The ``extra`` hook of an ONNX export that adds model.int8.onnx (export/int8_onnx.py)."""
    from edge_shm.data.library import is_library, read_library
    from edge_shm.errors import UserError
    from edge_shm.export.int8_onnx import CALIBRATION_SEQUENCES, int8_report, quantize_step_graph

    if target != "onnx":
        raise UserError(f"--int8 is for --target onnx, not {target}")
    if not is_library(library):
        raise UserError(f"{library}: --int8 takes a library (.h5) to calibrate on")
    lib = read_library(library, load_physics=False)
    train = lib.split_frames("train")
    pick = np.linspace(0, len(train) - 1, min(CALIBRATION_SEQUENCES, len(train))).round()
    calib = train[pick.astype(int)]

    def extra(folder: Path, held) -> dict:
        from edge_shm.data.frames import check_frame_shape
        from edge_shm.firmware_sim.onnx_runner import OnnxStepper

        check_frame_shape(calib, OnnxStepper(folder / "model.onnx").frame_shape)
        _log(f"int8: quantising (QDQ) on {len(calib)} train sequences of {library}")
        quantize_step_graph(folder / "model.onnx", folder / "model.int8.onnx", calib)
        rep = {"calibration_library": str(library), "calibration_sequences": len(calib)}
        if held is not None:
            rep.update(int8_report(folder / "model.onnx", folder / "model.int8.onnx", held[:2]))
            _log(
                f"int8: largest |int8 - float| forecast {rep['max_abs_diff_vs_float']:.3g}; "
                f"{rep['int8_ms_per_step']:.2f} ms vs {rep['float_ms_per_step']:.2f} ms per step"
            )
        return {"int8": rep}

    return extra


SIMULATION = "simulation folder"


def simulate(
    artefact: Path = typer.Argument(
        ..., help="A .onnx file, a .nir file, a Lava bundle or a calibration folder."
    ),
    frames: Path = typer.Option(
        ...,
        help="Frames: .npy (N,T,H,W) or (T,H,W), an image folder, or a library (its test split).",
    ),
    backend: str = typer.Option(
        None, help="onnx, lava, nir; int or lava-fixed for a calibration (default: by artefact)."
    ),
    output: Path = typer.Option(..., "-o", "--output", help="Output folder."),
) -> None:
    """Run an exported artefact on a frame sequence; write forecasts (.npy and PNG)."""
    from edge_shm.data.stack import load_stack
    from edge_shm.firmware_sim.artefacts import artefact_kind, choose_backend, run_artefact
    from edge_shm.jsonio import write_json
    from edge_shm.outputs import Output, atomic_dir, owned, plan_outputs

    kind, path = artefact_kind(artefact)
    backend = choose_backend(kind, backend)
    plan_outputs([Output(output, SIMULATION, True, owned(SIMULATION))], [artefact, frames])
    seqs = load_stack(frames)
    t0 = time.perf_counter()
    pred = run_artefact(kind, path, backend, seqs)
    seconds = time.perf_counter() - t0
    with atomic_dir(output, SIMULATION) as tmp:
        np.save(tmp / "predictions.npy", pred)
        _png(tmp / "predictions.png", seqs, pred)
        write_json(
            tmp / "simulate.json",
            {
                "artefact": str(artefact),
                "backend": backend,
                "frames": str(frames),
                "shape": list(pred.shape),
                "prediction": "the forecast after each input frame (raw, not clipped)",
                "seconds": seconds,
                "ms_per_frame": 1e3 * seconds / (pred.shape[0] * pred.shape[1]),
            },
        )
    out.print(
        f"{backend}: {pred.shape[0]} sequence(s) x {pred.shape[1]} frames in {seconds:.2f} s "
        f"-> {output}/predictions.npy, predictions.png"
    )


def _png(path: Path, seqs: np.ndarray, pred: np.ndarray, max_rows: int = 4) -> None:
    """Rows: input frame then forecast for up to ``max_rows`` sequences; one column per step."""
    from PIL import Image

    n = pred.shape[0]
    rows = []
    for i in range(min(n, max_rows)):
        for arr in (seqs[i], pred[i]):
            row = np.concatenate([np.pad(np.clip(f, 0, 1), 1, constant_values=0.5) for f in arr], 1)
            rows.append(row)
    img = np.concatenate(rows, 0)
    Image.fromarray((img * 255).round().astype(np.uint8)).save(path, format="PNG")
