"""The training loop: read it in one screen; the bookkeeping lives in :mod:`checkpoint`.

A run folder that already holds the same configuration (except ``epochs``) and library resumes
after its last finished epoch, bit for bit as if never stopped. A new run is written into a
hidden sibling folder and renamed into place at its first checkpoint: an interrupted first epoch
leaves nothing behind. Under torchrun the same loop runs in every process on its part of each
global batch (:mod:`distributed`); rank 0 alone writes the run folder.

Every tensor of a step lives on the run's device: the model is initialised on the CPU (the same
weights whatever the device) and moved, batches are moved, states are made on the batch's device;
the shuffling and the sampling draws come from a CPU generator (the same draws on any device).
``--amp`` runs the loss under CUDA autocast (:class:`Precision`).
"""

from __future__ import annotations

import contextlib
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from edge_shm import __version__
from edge_shm import runs as ck
from edge_shm.data.window_dataset import WindowDataset, as_batch
from edge_shm.errors import UserError
from edge_shm.jsonio import read_json, write_json
from edge_shm.models import build_model, count_parameters, model_class
from edge_shm.models.windows import check_window
from edge_shm.outputs import fix_mode, plan_outputs, record_written
from edge_shm.training import distributed
from edge_shm.training.config import TrainConfig
from edge_shm.training.losses import loss_fn
from edge_shm.training.motion import MotionDataset, motion_loss
from edge_shm.training.sequence import sequence_loss


class TrainStep(torch.nn.Module):
    """The loss of one batch as a module: what DistributedDataParallel wraps."""

    def __init__(self, model, cfg: TrainConfig, sequence: bool):
        super().__init__()
        self.model, self.cfg, self.sequence = model, cfg, sequence

    def forward(self, x, y, eta: float = 0.0, gen=None, part=None):
        if self.model.capabilities.inputs == "motion":
            return motion_loss(self.model, x, y, gen, part)
        if not self.sequence:
            return loss_fn(self.model(x)[:, -1], y[:, 0], x[:, -1], self.cfg)
        return sequence_loss(self.model, x, y, eta, gen, part)


class Precision:
    """Float32, or with ``amp`` on CUDA autocast in bf16 (where the GPU has it) or fp16 with a
    gradient scaler; ``amp`` on another device is refused."""

    def __init__(self, amp: bool, device: torch.device):
        if amp and device.type != "cuda":
            raise UserError("--amp needs a CUDA device (--device cuda); CPU training is float32")
        bf16 = amp and torch.cuda.is_bf16_supported()
        self.dtype = (torch.bfloat16 if bf16 else torch.float16) if amp else None
        self.name = {torch.bfloat16: "bf16", torch.float16: "fp16", None: "fp32"}[self.dtype]
        self.scaler = torch.amp.GradScaler("cuda") if self.dtype == torch.float16 else None

    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self.dtype)

    def update(self, loss, opt) -> None:
        """Backward of ``loss`` and one optimizer step (scaled in fp16)."""
        if self.scaler is None:
            loss.backward()
            opt.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(opt)
            self.scaler.update()


def training_data(lib, cfg: TrainConfig, progress=None):
    """The examples ``cfg.model`` trains on: windows of frames, or of codec rows for a model
    over motion rows (``progress(k)`` per sample read)."""
    from edge_shm.models import build_model, model_class

    if model_class(cfg.model).capabilities.inputs == "motion":
        model = build_model(cfg.model, cfg.model_options, where="model options")
        return MotionDataset(lib, model.codec, progress=progress)
    window = check_window(cfg.model, lib)
    return WindowDataset(lib, "train", n_out=1 if window is None else window[1])


def train(
    lib,
    run_dir,
    cfg: TrainConfig,
    resume=True,
    progress=None,
    device=None,
    workers: int = 0,
    data=None,
    on_checkpoint=None,
):
    """Train ``cfg.model`` on the library's train split; checkpoint after every epoch.

    ``workers`` processes read the batches (useful with a lazy library); under torchrun every
    process calls this and ``progress`` should be given to rank 0 only. ``data``: the
    :func:`training_data` when already made. ``on_checkpoint(folder, config, history)`` writes
    extra files into the run folder at each checkpoint (the application layer draws
    ``loss.png`` with it); training itself imports no report.
    """
    cfg.check()
    run_dir = Path(run_dir)
    plan_outputs([ck.run_output(run_dir, resume)], [lib.path])
    procs = distributed.setup(device)
    precision = Precision(cfg.amp, procs.device)
    window = check_window(cfg.model, lib)
    data = data if data is not None else training_data(lib, cfg)
    n = min(len(data), cfg.max_train_windows or len(data))
    per_epoch = -(-n // cfg.batch_size)  # updates per epoch: the run's update count survives resume
    batches = distributed.RankBatches(cfg.batch_size, procs)
    loader = torch.utils.data.DataLoader(
        data, batch_sampler=batches, num_workers=workers, collate_fn=as_batch
    )
    fingerprint = distributed.text_from_main(lib.fingerprint, procs)  # reads the whole library once
    with ck.run_lock(run_dir) if procs.main else contextlib.nullcontext():
        model, opt, history, config = _start(
            lib, run_dir, cfg, (data, n, fingerprint), resume, procs.device
        )
        step = distributed.wrap(TrainStep(model, cfg, window is not None), procs)
        work = run_dir
        if procs.main and not history:
            work = Path(
                tempfile.mkdtemp(prefix=f".{run_dir.name}.", suffix=".tmp", dir=run_dir.parent)
            )
        try:
            step.train()
            for epoch in range(len(history), cfg.epochs):
                for group in opt.param_groups:
                    group["lr"] = cfg.lr_at(epoch)
                t0, total = time.perf_counter(), 0.0
                gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
                batches.order = torch.randperm(len(data), generator=gen, device="cpu")[:n].numpy()
                for b, (x, y) in zip(range(0, n, cfg.batch_size), _batches(loader), strict=True):
                    size = min(cfg.batch_size, n - b)
                    weight, lo, hi = distributed.batch_weight(size, procs)
                    x, y = x.to(procs.device), y.to(procs.device)
                    eta = cfg.eta_at(epoch, epoch * per_epoch + b // cfg.batch_size)
                    with precision.autocast():
                        loss = step(x, y, eta, gen, (lo if hi > lo else 0, size))
                    opt.zero_grad(set_to_none=True)
                    precision.update(loss if weight == 1.0 else loss * weight, opt)
                    total += loss.item() * (hi - lo)
                    if progress is not None:
                        progress(size, f"epoch {epoch + 1}/{cfg.epochs} loss {loss.item():.5f}")
                total = distributed.all_sum(total, procs)
                _check_finite(model, total, epoch)
                history.append(
                    {
                        "epoch": epoch + 1,
                        "train_loss": total / n,
                        "seconds": time.perf_counter() - t0,
                        "processes": procs.world,
                        "lr": opt.param_groups[0]["lr"],
                        "precision": precision.name,
                    }
                )
                if procs.main:
                    _checkpoint(work, model, opt, config, history, on_checkpoint)
                    work = _publish(work, run_dir)
                distributed.barrier(procs)
        finally:
            if work != run_dir:
                shutil.rmtree(work, ignore_errors=True)
    return read_json(run_dir / "metrics.json") if procs.main else _metrics(history)


def _batches(loader):
    """The loader's batches; a one-line error when a worker process fails to read one (torch
    re-raises it with the worker's traceback in the message)."""
    try:
        yield from loader
    except UserError as e:
        lines = [s for s in str(e).splitlines() if s.strip()]
        if len(lines) > 1 and lines[0].startswith("Caught "):
            raise UserError(lines[-1].split("UserError: ", 1)[-1]) from None
        raise


def _metrics(history: list) -> dict:
    return {
        "history": history,
        "epochs_done": len(history),
        "train_seconds_total": sum(h["seconds"] for h in history),
        "final_train_loss": history[-1]["train_loss"],
    }


def _start(lib, run_dir: Path, cfg: TrainConfig, train_data, resume: bool, device):
    """(model, optimizer, history, run config): fresh, or restored from ``run_dir``.

    ``train_data`` is (window dataset, windows per epoch, the library's fingerprint)."""
    data, n, fingerprint = train_data
    h, w = lib.frame_shape
    torch.manual_seed(cfg.seed)
    motion = model_class(cfg.model).capabilities.inputs == "motion"
    size = {} if motion else dict(height=h, width=w)  # a motion row's size is its own
    model = build_model(cfg.model, dict(cfg.model_options, **size), where="model options")
    model = model.to(device)
    config = {
        "model": cfg.model,
        "model_config": model.config(),
        "train": cfg.to_dict(),
        "parameters": count_parameters(model),
        "library": str(Path(lib.path).resolve()),
        "library_fingerprint": fingerprint,
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
    if model.codec is not None:
        config["codec"] = model.codec.to_dict()
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    if not (resume and ck.is_run(run_dir)):
        return model, opt, [], config
    old = ck.read_run_config(run_dir)
    if (
        not cfg.same_run(old.get("train", {}))
        or old.get("library_fingerprint") != config["library_fingerprint"]
    ):
        raise UserError(
            f"{run_dir}: holds a different run (configuration or library); "
            "choose another folder or pass --no-resume"
        )
    model, _ = ck.load_run(run_dir, device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    if (run_dir / "optimizer.safetensors").is_file():
        ck.load_optimizer(opt, ck.load_tensors(run_dir / "optimizer.safetensors"))
    metrics = run_dir / "metrics.json"
    history = read_json(metrics).get("history", []) if metrics.is_file() else []
    return model, opt, list(history), config


def _check_finite(model, total: float, epoch: int) -> None:
    weights_ok = all(torch.isfinite(p).all() for p in model.parameters())
    if not (np.isfinite(total) and weights_ok):
        raise UserError(
            f"training diverged at epoch {epoch + 1} (loss or weights not finite); "
            "nothing of this epoch was saved; try a smaller --lr"
        )


def _checkpoint(folder: Path, model, opt, config: dict, history: list, extra=None) -> None:
    sha = ck.save_tensors(folder / "weights.safetensors", model.state_dict())
    ck.save_tensors(folder / "optimizer.safetensors", ck.optimizer_tensors(opt))
    write_json(folder / "config.json", dict(config, weights_sha256=sha))
    write_json(folder / "metrics.json", _metrics(history))
    if extra is not None:
        extra(folder, config, history)
    record_written(folder, ck.RUN_FILES, ck.RUN_KIND)


def _publish(work: Path, run_dir: Path) -> Path:
    """After the first checkpoint of a new run, its folder replaces ``run_dir``."""
    if work == run_dir:
        return run_dir
    old = None
    if run_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{run_dir.name}.", suffix=".old", dir=run_dir.parent))
        run_dir.replace(old / "x")
    fix_mode(work, folder=True)
    work.replace(run_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return run_dir
