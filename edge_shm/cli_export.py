"""``edge-shm export`` (ONNX, NIR, Lava bundle; verified against torch), ``edge-shm simulate``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import typer

from edge_shm.console import out
from edge_shm.errors import UserError

BACKENDS = ("onnx", "lava", "nir")


def register(app: typer.Typer) -> None:
    app.command(name="export")(export_cmd)
    app.command()(simulate)


def export_cmd(
    run: Path = typer.Argument(..., help="Run directory (weights.safetensors + config.json)."),
    target: str = typer.Option(..., "--target", "-t", help="onnx, nir or lava."),
    output: Path = typer.Option(..., "-o", "--output", help="Output folder."),
    verify: bool = typer.Option(True, help="Run the artefact on held-out frames vs torch."),
    frames: Path = typer.Option(
        None, help="Held-out frames (.npy or image folder) when the run's library is missing."
    ),
) -> None:
    """Export a trained run: ONNX step graph, NIR graph or Lava bundle; verified by default."""
    from edge_shm.export.api import check_target, export_run

    check_target(target)
    report = export_run(run, target, output, verify=verify, frames=frames, log=_log)
    art = report["artefact"]
    what = {
        "onnx": lambda: f"ONNX opset {art['opset']}, inputs {', '.join(art['inputs'])}",
        "nir": lambda: f"NIR graph, dt {art['dt']:g} s, tau {art['tau']:g} s",
        "lava": lambda: "Lava bundle (manifest.json, graph.nir, probe)",
    }[target]()
    ver = "" if report["verification"] is not None else " (not verified: --no-verify)"
    _log(f"exported {report['model']} -> {output}: {what}{ver}")


def _log(text: str) -> None:
    out.print(text, soft_wrap=True)


def _artefact_kind(path: Path) -> tuple[str, Path]:
    from edge_shm.firmware_sim.bundle import is_bundle

    if path.is_file() and path.suffix == ".onnx":
        return "onnx", path
    if path.is_file() and path.suffix == ".nir":
        return "nir", path
    if path.is_dir():
        if is_bundle(path):
            return "bundle", path
        for name, kind in (("model.onnx", "onnx"), ("model.nir", "nir")):
            if (path / name).is_file():
                return kind, path / name
    raise UserError(f"{path}: not an exported artefact (.onnx, .nir or a Lava bundle folder)")


def simulate(
    artefact: Path = typer.Argument(..., help="A .onnx file, a .nir file or a Lava bundle."),
    frames: Path = typer.Option(..., help="Frames: .npy (N,T,H,W) or (T,H,W), or image folder."),
    backend: str = typer.Option(None, help="onnx, lava or nir (default: from the artefact)."),
    output: Path = typer.Option(..., "-o", "--output", help="Output folder."),
) -> None:
    """Run an exported artefact on a frame sequence; write predictions (.npy and PNG)."""
    from edge_shm.atomic import atomic_dir, check_output
    from edge_shm.export.verify import load_frames_arg

    if backend is not None and backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if not artefact.exists():
        raise UserError(f"{artefact}: no such file or folder")
    kind, path = _artefact_kind(artefact)
    if backend is None:
        backend = "lava" if kind == "bundle" else kind
    allowed = {"onnx": ("onnx",), "nir": ("nir",), "bundle": ("lava", "nir")}[kind]
    if backend not in allowed:
        raise UserError(f"{artefact}: a {kind} artefact cannot run on the {backend} backend")
    check_output(output)
    seqs = load_frames_arg(frames)
    t0 = time.perf_counter()
    if backend == "onnx":
        from edge_shm.firmware_sim.onnx_runner import OnnxStepper

        runner = OnnxStepper(path)
        _check_shape(seqs, runner.frame_shape)
        pred = runner.rollout(seqs)
    elif backend == "nir":
        from edge_shm.firmware_sim.nir_sim import NIRSimulator

        graph = _read_nir(path if kind == "nir" else path / "graph.nir")
        _check_shape(seqs, tuple(int(d) for d in graph.nodes["input"].input_type["input"][1:]))
        sim = NIRSimulator(graph)
        pred = np.stack([sim.run(s)["prediction"] for s in seqs]).astype(np.float32)
    else:
        from edge_shm.firmware_sim.bundle import BundleError, read_bundle
        from edge_shm.firmware_sim.lava_builder import run_bundle_samples

        try:
            man = read_bundle(path).manifest
        except BundleError as e:
            raise UserError(str(e)) from None
        _check_shape(seqs, tuple(man.frame_shape))
        try:
            pred = run_bundle_samples(path, seqs)["prediction"].astype(np.float32)
        except RuntimeError as e:
            raise UserError(str(e)) from None
    seconds = time.perf_counter() - t0
    with atomic_dir(output) as tmp:
        np.save(tmp / "predictions.npy", pred)
        _png(tmp / "predictions.png", seqs, pred)
        (tmp / "simulate.json").write_text(
            json.dumps(
                {
                    "artefact": str(artefact),
                    "backend": backend,
                    "frames": str(frames),
                    "shape": list(pred.shape),
                    "prediction": "raw model output after each input frame (not clipped)",
                    "seconds": seconds,
                    "ms_per_frame": 1e3 * seconds / (pred.shape[0] * pred.shape[1]),
                },
                indent=2,
            )
            + "\n"
        )
    out.print(
        f"{backend}: {pred.shape[0]} sequence(s) x {pred.shape[1]} frames in {seconds:.2f} s "
        f"-> {output}/predictions.npy, predictions.png"
    )


def _read_nir(path: Path):
    import nir

    try:
        return nir.read(str(path), type_check=True)
    except Exception as e:  # h5py/nir raise many types for a broken file
        raise UserError(f"{path}: not a readable NIR graph ({type(e).__name__})") from None


def _check_shape(seqs: np.ndarray, shape: tuple) -> None:
    if tuple(seqs.shape[-2:]) != tuple(shape):
        raise UserError(
            f"frames are {seqs.shape[-2]}x{seqs.shape[-1]} px but the artefact expects "
            f"{shape[0]}x{shape[1]} px"
        )


def _png(path: Path, seqs: np.ndarray, pred: np.ndarray, max_rows: int = 4) -> None:
    """Rows: input frame then prediction for up to ``max_rows`` sequences; one column per step."""
    from PIL import Image

    n, t, h, w = pred.shape
    rows = []
    for i in range(min(n, max_rows)):
        for arr in (seqs[i], pred[i]):
            row = np.concatenate([np.pad(np.clip(f, 0, 1), 1, constant_values=0.5) for f in arr], 1)
            rows.append(row)
    img = np.concatenate(rows, 0)
    Image.fromarray((img * 255).round().astype(np.uint8)).save(path)
