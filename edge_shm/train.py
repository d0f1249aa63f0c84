"""Training: the paper's protocol (MSE, Adam 1e-3, betas 0.9/0.999) with a readable loop.

The loss ``mse`` is the paper's. ``weighted`` multiplies the squared error in a band around the
crack by ``1 + crack_weight``: the band is every pixel within ``BAND_PX`` (the network's receptive
field) of a crack pixel of the target or of the last input frame. Cracks cover about 1 % of a
frame, so plain MSE spends most of its signal on the empty background; inside the band, false
positives and false negatives weigh the same, so the optimum is still the calibrated forecast.
"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from edge_shm import __version__
from edge_shm.dataset import WindowDataset
from edge_shm.errors import UserError
from edge_shm.models import build_model, count_parameters
from edge_shm.runs import load_tensors, read_json, save_tensors, write_json


@dataclass
class TrainConfig:
    model: str = "snn"
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    seed: int = 0
    loss: str = "mse"
    crack_weight: float = 10.0
    max_train_windows: int | None = None
    model_options: dict = field(default_factory=dict)

    def check(self) -> None:
        if self.epochs <= 0 or self.batch_size <= 0:
            raise UserError("--epochs and --batch-size must be positive integers")
        if not self.lr > 0:
            raise UserError(f"--lr must be positive, got {self.lr}")
        if self.loss not in ("mse", "weighted"):
            raise UserError(f"unknown loss {self.loss!r}; choose mse or weighted")


BAND_PX = 4


def crack_band(target: torch.Tensor, last_input: torch.Tensor) -> torch.Tensor:
    """1 within ``BAND_PX`` pixels (Chebyshev) of a crack pixel of either frame, else 0."""
    crack = torch.maximum(target, last_input)
    return torch.nn.functional.max_pool2d(crack, 2 * BAND_PX + 1, stride=1, padding=BAND_PX)


def loss_fn(pred, target, last_input, cfg: TrainConfig) -> torch.Tensor:
    """Per-pixel loss of a batch: pred, target, last_input (B, 1, H, W)."""
    err = (pred - target) ** 2
    if cfg.loss == "weighted":
        err = err * (1 + cfg.crack_weight * crack_band(target, last_input))
    return err.mean()


def predict_next(model, inputs: torch.Tensor) -> torch.Tensor:
    """inputs (B, T, 1, H, W) -> forecast of the next frame (B, 1, H, W), raw model output."""
    return model(inputs)[:, -1]


def _optimizer_tensors(opt) -> dict[str, torch.Tensor]:
    out = {}
    for idx, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            out[f"{idx}.{k}"] = torch.as_tensor(v)
    return out


def _load_optimizer(opt, tensors: dict[str, torch.Tensor]) -> None:
    sd = opt.state_dict()
    state: dict = {}
    for key, v in tensors.items():
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = v
    sd["state"] = state
    opt.load_state_dict(sd)


def train(lib, run_dir: str | Path, cfg: TrainConfig, resume: bool = True, progress=None):
    """Train ``cfg.model`` on the library's train split; checkpoint after every epoch.

    A run directory that already holds the same configuration (except ``epochs``) resumes after
    its last finished epoch. Returns the metrics dictionary.
    """
    cfg.check()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    run_dir = Path(run_dir)
    h, w = lib.frame_shape
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, height=h, width=w, **cfg.model_options)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    data = WindowDataset(lib, "train")
    n = len(data) if cfg.max_train_windows is None else min(len(data), cfg.max_train_windows)
    config = {
        "model": cfg.model,
        "model_config": model.config(),
        "train": asdict(cfg),
        "parameters": count_parameters(model),
        "library": str(lib.path),
        "library_fingerprint": lib.fingerprint(),
        "library_kind": lib.kind,
        "frame_shape": [h, w],
        "pixel_mm": lib.pixel_mm,
        "window": [data.n_in, data.n_out],
        "train_windows": n,
        "versions": {
            "edge_shm": __version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
    }
    history, start = [], 0
    if resume and (run_dir / "config.json").is_file():
        old = read_json(run_dir / "config.json")
        same = {k: v for k, v in old.get("train", {}).items() if k != "epochs"} == {
            k: v for k, v in asdict(cfg).items() if k != "epochs"
        }
        if not same or old.get("library_fingerprint") != config["library_fingerprint"]:
            raise UserError(
                f"{run_dir}: holds a different run (configuration or library); "
                "choose another folder or pass --no-resume"
            )
        from edge_shm.runs import load_run

        model, _ = load_run(run_dir)
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
        if (run_dir / "optimizer.safetensors").is_file():
            _load_optimizer(opt, load_tensors(run_dir / "optimizer.safetensors"))
        metrics = (
            read_json(run_dir / "metrics.json") if (run_dir / "metrics.json").is_file() else {}
        )
        history = metrics.get("history", [])
        start = len(history)
    run_dir.mkdir(parents=True, exist_ok=True)
    model.train()
    for epoch in range(start, cfg.epochs):
        t0 = time.perf_counter()
        gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
        order = torch.randperm(len(data), generator=gen)[:n].numpy()
        total = 0.0
        for b in range(0, n, cfg.batch_size):
            x, y = data.batch(order[b : b + cfg.batch_size])
            loss = loss_fn(predict_next(model, x), y[:, 0], x[:, -1], cfg)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(x)
            if progress is not None:
                progress(len(x), f"epoch {epoch + 1}/{cfg.epochs} loss {loss.item():.5f}")
        if not np.isfinite(total):
            raise UserError(f"training diverged at epoch {epoch + 1} (loss is not finite)")
        history.append(
            {"epoch": epoch + 1, "train_loss": total / n, "seconds": time.perf_counter() - t0}
        )
        _checkpoint(run_dir, model, opt, config, history)
    return read_json(run_dir / "metrics.json")


def _checkpoint(run_dir: Path, model, opt, config: dict, history: list) -> None:
    config = dict(
        config, weights_sha256=save_tensors(run_dir / "weights.safetensors", model.state_dict())
    )
    save_tensors(run_dir / "optimizer.safetensors", _optimizer_tensors(opt))
    write_json(run_dir / "config.json", config)
    write_json(
        run_dir / "metrics.json",
        {
            "history": history,
            "epochs_done": len(history),
            "train_seconds_total": sum(h["seconds"] for h in history),
            "final_train_loss": history[-1]["train_loss"],
        },
    )
    from edge_shm.plots import loss_curve

    loss_curve(history, run_dir / "loss.png", f"{config['model']} ({config['train']['loss']})")
