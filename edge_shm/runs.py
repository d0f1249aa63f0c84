"""Run folders: weights.safetensors + config.json + metrics.json (no pickle anywhere).

A run folder holds
    config.json           model name and config, training hyper-parameters, library path
                          (absolute) and fingerprint, seed, package versions, sha256 of weights
    weights.safetensors   model weights
    optimizer.safetensors Adam moments (for resuming)
    metrics.json          loss per epoch, wall time
    loss.png              the loss curve

Loading checks everything before a model is used: the files, the config (model name, a valid
model config), the weights' checksum, every tensor's name, shape and finiteness.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from edge_shm.errors import UserError
from edge_shm.jsonio import read_json
from edge_shm.outputs import atomic_file

REQUIRED = ("config.json", "weights.safetensors")


def is_run(path: str | os.PathLike) -> bool:
    """A folder that holds a run's config and weights (``same_kind`` for training outputs)."""
    p = Path(path)
    return p.is_dir() and all((p / f).is_file() for f in REQUIRED)


RUN_KIND = "run folder"
RUN_FILES = (
    "config.json",
    "weights.safetensors",
    "optimizer.safetensors",
    "metrics.json",
    "loss.png",
)


def run_output(run_dir: Path, resume: bool):
    """The training output check: a run resumed in place may hold anything (nothing is
    deleted); a run replaced (``--no-resume``) must hold only what edge-shm wrote there."""
    from edge_shm.outputs import Output, owned

    resumed = resume and is_run(run_dir)
    return Output(run_dir, RUN_KIND, True, is_run if resumed else owned(RUN_KIND))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> str:
    """Write tensors as safetensors atomically; returns the file's sha256.

    Serialised in memory and written as plain bytes, so that a full disk is an ordinary
    (one-line) write error."""
    data = save({k: v.detach().cpu().contiguous() for k, v in tensors.items()})
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{path}: corrupt safetensors file ({e})") from None


def read_run_config(run_dir: str | os.PathLike) -> dict:
    """config.json of a run folder, with the keys every stage relies on checked."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: not a run directory")
    missing = [f for f in REQUIRED if not (run_dir / f).is_file()]
    if missing:
        raise UserError(f"{run_dir}: not a run directory (missing {', '.join(missing)})")
    config = read_json(run_dir / "config.json", "run config")
    if not isinstance(config.get("model"), str) or not isinstance(config.get("model_config"), dict):
        raise UserError(f"{run_dir}/config.json: lacks 'model' or 'model_config'")
    if "train" in config and not isinstance(config["train"], dict):
        raise UserError(f"{run_dir}/config.json: 'train' must be an object")
    _check_run_fields(run_dir / "config.json", config)
    return config


def _ints(value, n: int, low: int, high: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == n
        and all(isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in value)
    )


def _check_run_fields(where: Path, config: dict) -> None:
    """The run-level fields later stages read: window, frame shape, pixel size (when present)."""
    if config.get("window") is not None and not _ints(config["window"], 2, 1, 1024):
        raise UserError(f"{where}: 'window' must be [frames in, frames out], each 1..1024")
    if config.get("frame_shape") is not None and not _ints(config["frame_shape"], 2, 1, 4096):
        raise UserError(f"{where}: 'frame_shape' must be [height, width] in pixels, 1..4096")
    px = config.get("pixel_mm")
    if px is not None and not (
        isinstance(px, int | float) and not isinstance(px, bool) and 1e-6 <= px <= 1e3
    ):
        raise UserError(f"{where}: 'pixel_mm' must be a pixel size in mm (1e-6 to 1e3)")


def check_state(path: Path, state: dict, model) -> None:
    """Name the first tensor that is missing, unknown, of the wrong shape or not finite."""
    want = model.state_dict()
    for k, v in want.items():
        if k not in state:
            raise UserError(f"{path}: lacks the tensor {k!r} of model {model.name!r}")
        if tuple(state[k].shape) != tuple(v.shape):
            raise UserError(
                f"{path}: tensor {k!r} has shape {tuple(state[k].shape)} but model "
                f"{model.name!r} needs {tuple(v.shape)}"
            )
    extra = sorted(set(state) - set(want))
    if extra:
        raise UserError(f"{path}: holds the tensor {extra[0]!r}, unknown to model {model.name!r}")
    for k, v in state.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise UserError(f"{path}: tensor {k!r} holds NaN or infinite values")


def load_run(run_dir: str | os.PathLike, device=None):
    """Load a run: (model in eval mode, config dict). Checks files, config and weights."""
    from edge_shm.models import build_model

    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    weights = run_dir / "weights.safetensors"
    expected = config.get("weights_sha256")
    if expected and sha256_file(weights) != expected:
        raise UserError(f"{weights}: checksum differs from config.json (tampered or truncated)")
    model = build_model(
        config["model"], config["model_config"], where=f"{run_dir}/config.json model_config"
    )
    state = load_tensors(weights)
    check_state(weights, state, model)
    model.load_state_dict(state, strict=True)
    model.eval()
    if device is not None:
        model.to(device)
    return model, config


def optimizer_tensors(opt) -> dict[str, torch.Tensor]:
    out = {}
    for idx, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            out[f"{idx}.{k}"] = torch.as_tensor(v)
    return out


def load_optimizer(opt, tensors: dict[str, torch.Tensor]) -> None:
    sd = opt.state_dict()
    state: dict = {}
    for key, v in tensors.items():
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = v
    sd["state"] = state
    opt.load_state_dict(sd)


def _locked_file(lock: Path, run_dir: Path) -> int:
    """Open and lock ``lock``; the descriptor of a lock file that is still ``lock``.

    The holder unlinks the lock file when it ends; a process that opened the old file before
    that would then lock an unlinked file while a third one locks a new file at the same path.
    Checking after locking that the path still names the locked file closes that gap.
    """
    for _ in range(100):
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UserError(f"{run_dir}: another training is writing this run folder") from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder ended and removed it meanwhile: lock the new file
    raise UserError(
        f"{run_dir}: the lock file {lock.name} keeps changing; is another training starting?"
    )


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``run_dir`` (a lock file beside it) or fail in one line."""
    lock = run_dir.parent / f".{run_dir.name}.lock"
    fd = _locked_file(lock, run_dir)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)  # still locked: a waiter that opened it sees it is gone (above)
        os.close(fd)


def run_window(config: dict, codec=None) -> int | None:
    """Frames per forecast (n_in) of a run: its frame codec's (a motion network reads exactly
    those), else its config's ``window`` [n_in, n_out], else None. What exports and
    calibrations record as ``window``."""
    if codec is not None:
        return int(codec.n_in)
    window = config.get("window")
    if isinstance(window, list | tuple) and window:
        return int(window[0])
    return None
