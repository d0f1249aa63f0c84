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
    return config


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


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``run_dir`` (a lock file beside it) or fail in one line."""
    lock = run_dir.parent / f".{run_dir.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"{run_dir}: another training is writing this run folder") from None
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.unlink(lock)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
