"""Run directories: weights.safetensors + config.json + metrics.json (no pickle anywhere).

A run directory holds
    config.json           model name and config, training hyper-parameters, library fingerprint,
                          seed, package versions, sha256 of the weights file
    weights.safetensors   model weights
    optimizer.safetensors Adam moments (for resuming)
    metrics.json          loss per epoch, wall time
    loss.png              the loss curve
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from edge_shm.atomic import atomic_file
from edge_shm.errors import UserError
from edge_shm.models import build_model

REQUIRED = ("config.json", "weights.safetensors")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_json(path: Path, data) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{path}: unreadable JSON ({type(e).__name__})") from None


def save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> str:
    """Write tensors as safetensors atomically; returns the file's sha256."""
    with atomic_file(path) as tmp:
        save_file({k: v.detach().contiguous() for k, v in tensors.items()}, str(tmp))
    return sha256_file(path)


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{path}: corrupt safetensors file ({e})") from None


def load_run(run_dir: str | Path):
    """Load a run: (model in eval mode, config dict). Checks files and the weights' checksum."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: not a run directory")
    missing = [f for f in REQUIRED if not (run_dir / f).is_file()]
    if missing:
        raise UserError(f"{run_dir}: not a run directory (missing {', '.join(missing)})")
    config = read_json(run_dir / "config.json")
    if "model" not in config or "model_config" not in config:
        raise UserError(f"{run_dir}/config.json: lacks 'model' or 'model_config'")
    expected = config.get("weights_sha256")
    if expected and sha256_file(run_dir / "weights.safetensors") != expected:
        raise UserError(
            f"{run_dir}/weights.safetensors: checksum differs from config.json "
            "(tampered or truncated)"
        )
    model = build_model(config["model"], **config["model_config"])
    state = load_tensors(run_dir / "weights.safetensors")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise UserError(
            f"{run_dir}/weights.safetensors: does not fit the model ({first})"
        ) from None
    model.eval()
    return model, config
