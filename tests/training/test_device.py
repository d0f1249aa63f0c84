"""Every tensor of the training path follows ``device``; ``--amp`` is CUDA mixed precision.

Why not ``torch.set_default_device("meta")`` around a training on ``device="cpu"``: three
tensors of the path are made on the default device on purpose, and a meta tensor has no data.
The model is initialised on the CPU and then moved (the same weights on any device: under meta
``model.to("cpu")`` fails, "Cannot copy out of meta tensor"); torch's DataLoader draws its base
seed with ``torch.empty((), dtype=torch.int64).random_().item()``; and scheduled sampling draws
its mask on the CPU from a CPU generator (the same draws on any device) before moving it.

So the check here simulates what CUDA enforces, on the CPU: a TorchFunctionMode marks the
tensors that are on the run's device (moved there by ``.to``, made with ``device=`` it, or
computed from such tensors) and records every operation that mixes a marked tensor with an
unmarked one of more than one dimension (CUDA refuses exactly that; 0-dim CPU tensors are
allowed as scalars, and indices of ``[]`` may stay on the CPU). A tensor made without a device,
or a model or batch not moved, would be a CUDA device error: here it is a recorded violation
naming its line. Inside the optimiser's step (torch's code; gradients come from the autograd
engine, which no mode sees) nothing is checked. A hard-coded ``"cpu"`` cannot be told from the
run's device on a CPU-only machine; the CUDA test below covers that where a GPU exists.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._device import _device_constructors
from torch.utils._pytree import tree_flatten

from edge_shm.cli import main
from edge_shm.data.generators import build
from edge_shm.data.library import read_library
from edge_shm.models import model_class
from edge_shm.training import TrainConfig, train

TORCH = str(Path(torch.__file__).parent)
MARK = "_on_run_device"
MOVES = (torch.Tensor.to, torch.Tensor.cuda, torch.Tensor.cpu)


def _tensors(tree) -> list[torch.Tensor]:
    return [t for t in tree_flatten(tree)[0] if isinstance(t, torch.Tensor)]


class DeviceAudit(TorchFunctionMode):
    """Marks the tensors on ``device`` and records the operations mixing them with others."""

    def __init__(self, device: str):
        super().__init__()
        self.device = torch.device(device)
        self.violations: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func in MOVES:
            where = self._move_target(func, args, kwargs)
            on = None if where is None else where == self.device
        elif func in _device_constructors():
            device = kwargs.get("device")
            on = device is not None and torch.device(device) == self.device
        else:
            name = getattr(func, "__name__", "")
            indexing = name in ("__getitem__", "__setitem__")  # indices may stay on the CPU
            ins = _tensors(args[:1] + args[2:3] if indexing else (args, kwargs))
            on = any(getattr(t, MARK, False) for t in ins)
            stray = [t for t in ins if not getattr(t, MARK, False) and t.dim() > 0]
            if on and stray and name != "copy_" and not self._in_optimizer():
                self.violations.append(f"{self._caller()}: {name}")
        if on is None:  # a move without a device (a dtype change) keeps the input's place
            on = any(getattr(t, MARK, False) for t in _tensors(args[:1]))
        for t in _tensors(out):
            setattr(t, MARK, on)
        return out

    @staticmethod
    def _move_target(func, args, kwargs):
        if func is torch.Tensor.cpu:
            return torch.device("cpu")
        if func is torch.Tensor.cuda:
            return torch.device("cuda")
        device = torch._C._nn._parse_to(*args[1:], **kwargs)[0]
        return None if device is None else torch.device(device)

    @staticmethod
    def _in_optimizer() -> bool:
        f = sys._getframe(2)
        while f is not None:
            if "/torch/optim/" in f.f_code.co_filename:
                return True
            f = f.f_back
        return False

    @staticmethod
    def _caller() -> str:
        f = sys._getframe(2)
        while f is not None and f.f_code.co_filename.startswith(TORCH):
            f = f.f_back
        return "?" if f is None else f"{Path(f.f_code.co_filename).name}:{f.f_lineno}"


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    d = tmp_path_factory.mktemp("device")
    return {
        "fcg": read_library(build("fcg", d / "fcg.h5", 8, 1)),
        "turing": read_library(build("turing", d / "tur.h5", 6, 1, size=24, n_frames=22)),
    }


def _audited_run(libs, model: str, out: Path, **fields) -> tuple[DeviceAudit, dict]:
    lib = libs["fcg" if model_class(model).window is None else "turing"]
    cfg = TrainConfig(model=model, epochs=1, batch_size=2, max_train_windows=4, **fields)
    with DeviceAudit("cpu") as audit:
        metrics = train(lib, out, cfg, resume=False, device="cpu")
    return audit, metrics


@pytest.mark.parametrize(
    ("model", "recipe"),
    [
        ("stclif", "reference"),
        ("convlstm", "paper"),
        ("simvp", "paper"),
        ("predrnnpp", "reference"),
        ("simvp", "reference"),
        ("snn", "paper"),
    ],
)
def test_every_tensor_of_a_training_step_is_on_the_run_device(libs, tmp_path, model, recipe):
    audit, metrics = _audited_run(libs, model, tmp_path / model, recipe=recipe)
    assert audit.violations == []
    assert metrics["history"][0]["precision"] == "fp32"


@pytest.mark.parametrize("model", ["convlstm", "snn"])
def test_the_audit_finds_a_state_made_without_the_device(libs, tmp_path, monkeypatch, model):
    cls = model_class(model)
    real = cls.initial_state

    def forgetful(self, batch=1, device=None):  # zeros on the default device, whatever asked
        return tuple(torch.zeros(s.shape) for s in real(self, batch, device))

    monkeypatch.setattr(cls, "initial_state", forgetful)
    audit, _ = _audited_run(libs, model, tmp_path / model)
    assert audit.violations, "a state on the default device went unnoticed"


def test_amp_is_refused_off_cuda_in_one_line(libs, tmp_path, capsys):
    args = ["train", "-m", "convlstm", "-l", str(libs["turing"].path), "-o", str(tmp_path / "r")]
    assert main([*args, "--amp", "--device", "cpu", "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--amp needs a CUDA device" in err[0], err
    assert not (tmp_path / "r").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
@pytest.mark.parametrize("model", ["stclif", "snn"])
def test_amp_trains_on_cuda_and_records_its_precision(libs, tmp_path, model):
    lib = libs["fcg" if model_class(model).window is None else "turing"]
    cfg = TrainConfig(model=model, epochs=1, batch_size=2, max_train_windows=4, amp=True)
    metrics = train(lib, tmp_path / "amp", cfg, resume=False, device="cuda")
    want = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    assert metrics["history"][0]["precision"] == want
    assert json.loads((tmp_path / "amp" / "config.json").read_text())["train"]["amp"] is True
