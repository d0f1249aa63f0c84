"""Running a bundle in Lava from the host: in-process when Lava imports, else in ``.venv-lava``.

The child is started in its own process session and its temporary files live in a folder the
host owns: on an interrupt (Ctrl-C) or any error the host kills the whole session (Lava spawns
one process per Lava process model) and removes the folder, so nothing is left running or lying
around. ``python -m edge_shm.firmware_sim.lava.host BUNDLE --frames F.npy --out R.npz`` is the
child's command line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.firmware_sim.bundle import read_bundle
from edge_shm.firmware_sim.lava.builder import LavaResult
from edge_shm.firmware_sim.lava.lifeline import PARENT_ENV, hold

MAX_SECONDS = 3600


def lava_python() -> Path | None:
    env = os.environ.get("EDGE_SHM_LAVA_PYTHON")
    if env:
        return Path(env)
    p = Path(__file__).resolve().parents[2] / ".venv-lava" / "bin" / "python"
    return p if p.exists() else None


def lava_importable() -> bool:
    try:
        import lava.magma.core.run_configs  # noqa: F401
    except Exception:  # lava-nc fails at import on Python 3.11 (not only ImportError)
        return False
    return True


def _run_here(bundle_dir, frames: np.ndarray, sink_dir=None) -> list[LavaResult]:
    from edge_shm.firmware_sim.lava.builder import run_lava

    graph = read_bundle(bundle_dir).graph()
    return [run_lava(graph, f, sink_dir) for f in frames]


def run_bundle(bundle_dir, frames: np.ndarray, python=None) -> list[LavaResult]:
    """Run a bundle on sequences (N, T, H, W), each from a zero state; one result each."""
    frames = np.asarray(frames, np.float32)
    if frames.ndim != 4:
        raise UserError(f"Lava runs sequences (N, T, H, W), got shape {frames.shape}")
    if python is None and lava_importable():
        return _run_here(bundle_dir, frames)
    return run_child("edge_shm.firmware_sim.lava.host", bundle_dir, frames, load_results, python)


def run_child(module: str, target, frames: np.ndarray, loader, python=None, what="Lava run"):
    """``python -m MODULE TARGET --frames F.npy --out R.npz --sinks TMP`` in the Lava
    environment, in its own session (killed whole on an interrupt or error), in a temporary
    folder removed afterwards; returns ``loader(R.npz)``."""
    python = python or lava_python()
    if python is None:
        raise UserError(
            "Lava is not importable here and no .venv-lava was found "
            "(set EDGE_SHM_LAVA_PYTHON to a Python with lava-nc)"
        )
    with tempfile.TemporaryDirectory(prefix="edge-shm-lava.") as tmp:
        fin, fout = Path(tmp) / "frames.npy", Path(tmp) / "out.npz"
        np.save(fin, frames)
        cmd = [str(python), "-m", module, str(target), "--frames", str(fin), "--out", str(fout),
               "--sinks", tmp]  # fmt: skip
        env = dict(os.environ, **{PARENT_ENV: str(os.getpid())})
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            env=env,
        )
        try:
            _, err = proc.communicate(timeout=MAX_SECONDS)
        except BaseException:  # KeyboardInterrupt, timeout: stop the whole Lava session
            _kill(proc)
            raise
        if proc.returncode != 0:
            tail = (err.strip().splitlines() or ["no output"])[-1]
            raise UserError(f"{what} failed in {python}: {tail}")
        return loader(fout)


def _kill(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def save_results(path, runs: list[LavaResult]) -> None:
    arrays, meta = {}, []
    for i, r in enumerate(runs):
        arrays[f"{i}_prediction"], arrays[f"{i}_readout"] = r.prediction, r.readout
        for k, v in r.spikes.items():
            arrays[f"{i}_spikes_{k}"] = np.packbits(v, axis=-1)
        meta.append(
            {
                "delays": r.delays,
                "steps": r.steps,
                "seconds": r.seconds,
                "spike_shapes": {k: list(v.shape) for k, v in r.spikes.items()},
            }
        )
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)


def load_results(path):
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        runs = []
        for i, m in enumerate(meta):
            spikes = {
                k: np.unpackbits(f[f"{i}_spikes_{k}"], axis=-1, count=s[-1]).astype(bool)
                for k, s in m["spike_shapes"].items()
            }
            runs.append(
                LavaResult(
                    prediction=f[f"{i}_prediction"],
                    spikes=spikes,
                    readout=f[f"{i}_readout"],
                    delays=m["delays"],
                    steps=m["steps"],
                    seconds=m["seconds"],
                )
            )
    return runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run an edge-shm Lava bundle (floating_pt).")
    ap.add_argument("bundle")
    ap.add_argument("--frames", help=".npy (N, T, H, W); default: the bundle's probe")
    ap.add_argument("--out", required=True, help=".npz result")
    ap.add_argument("--sinks", default=None, help="folder for Lava's temporary sink files")
    args = ap.parse_args(argv)
    hold()
    if args.frames:
        frames = np.load(args.frames)
    else:
        frames = read_bundle(args.bundle).probe_frames()[None]
    save_results(args.out, _run_here(args.bundle, frames, args.sinks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
