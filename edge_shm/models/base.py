"""The predictor contract: one protocol, a config dataclass per model, declared capabilities.

Every model maps frames (B, T, 1, H, W) to one forecast per step (B, T, 1, H, W): the output
after input frame t is the forecast of frame t + 1. The protocol:

- ``initial_state(batch, device) -> tuple of tensors`` (named by ``state_names``), all zeros;
- ``step(frame, state) -> (prediction, state)``, a pure function of the weights, one frame
  (B, 1, H, W) and the state; the streaming export and every device runtime call exactly this;
- ``forward(frames)``, the step over time from a zero state;
- spiking models add ``trace_step(frame, state) -> (prediction, state, Trace)`` (spikes and
  membranes per LIF layer) and models that lower to the deployment graph ``lower()``.

``capabilities`` says what a model is and where it can go (spiking or not, export targets), so
that no stage ever branches on a model name or on ``hasattr``.
"""

from __future__ import annotations

import math
import typing
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

import torch
from torch import nn

from edge_shm.errors import UserError

MAX_SIDE_PX = 4096
MAX_PARAMETERS = 500_000_000


@dataclass(frozen=True)
class Capabilities:
    """What a model is and where it can be deployed.

    spiking : it has LIF layers and ``trace_step`` (spike counts, spike parity checks).
    targets : export targets it can lower to (``onnx`` needs only the step; ``nir`` and
        ``lava`` need ``lower()``; ``c`` a calibration of the lowered graph).
    inputs : ``frames`` (it steps camera frames) or ``motion`` (it steps the rows of its
        frame codec, ``codec``: every stage converts frames with it).
    """

    spiking: bool
    targets: tuple[str, ...]
    inputs: str = "frames"


def _check_type(where: str, name: str, value, hint) -> None:
    origin = typing.get_origin(hint)
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    elif hint is bool:
        ok = isinstance(value, bool)
    elif hint is str:
        ok = isinstance(value, str)
    elif origin in (tuple, list):
        ok = isinstance(value, list | tuple) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        )
    else:
        ok = True
    if not ok:
        raise UserError(f"{where}: '{name}' has the wrong type ({value!r})")


@dataclass
class ModelConfig:
    """Fields every model has: the frame size in px. Subclasses add theirs and ``check()``.

    ``PAPER``: the reference paper's full-size options of the model (``--paper-size``), or None
    when the paper gives none.
    """

    PAPER: ClassVar[dict | None] = None

    height: int = 96
    width: int = 132

    @classmethod
    def from_dict(cls, data: dict, where: str = "model config"):
        """Build from JSON-like data, refusing unknown keys, wrong types and bad values."""
        if not isinstance(data, dict):
            raise UserError(f"{where}: must be a JSON object")
        hints = typing.get_type_hints(cls)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(
                f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})"
            )
        for k, v in data.items():
            _check_type(where, k, v, hints[k])
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        config = cls(**values)
        config.validate(where)
        return config

    def validate(self, where: str = "model config") -> None:
        if not (1 <= self.height <= MAX_SIDE_PX and 1 <= self.width <= MAX_SIDE_PX):
            raise UserError(
                f"{where}: frames of {self.height}x{self.width} px are outside 1..{MAX_SIDE_PX} px"
            )
        self.check(where)

    def check(self, where: str) -> None:
        """Model-specific checks (subclasses); raise UserError naming the field."""

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def positive(where: str, **values) -> None:
    """Refuse non-positive values (ints or floats), naming the field."""
    for k, v in values.items():
        vs = v if isinstance(v, tuple | list) else (v,)
        if not vs or any(x <= 0 for x in vs):
            raise UserError(f"{where}: '{k}' must be positive, got {v!r}")


class Predictor(nn.Module):
    """Base class of every registered model (see the module text for the protocol)."""

    name: ClassVar[str] = ""
    config_class: ClassVar[type[ModelConfig]] = ModelConfig
    capabilities: ClassVar[Capabilities] = Capabilities(spiking=False, targets=("onnx",))
    # A sequence model's own (n_in, n_out) windows (10 -> 10 for Turing patterns); None for a
    # next-frame model, which takes any n_in frames and forecasts one.
    window: ClassVar[tuple[int, int] | None] = None
    # The profiler counts the elementwise work of its gates (LSTM-like cells) as operations.
    gate_arithmetic: ClassVar[bool] = False
    state_names: tuple[str, ...] = ()

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.cfg = config
        self.height, self.width = config.height, config.width

    def config(self) -> dict:
        """The config as stored in a run's config.json (``model_config``)."""
        return self.cfg.to_dict()

    @property
    def codec(self):
        """The frame codec (:mod:`edge_shm.firmware_sim.codec`) of a network over feature
        rows (``capabilities.inputs == "motion"``); None for a network over frames."""
        return None

    @property
    def device(self) -> torch.device:
        p = next(self.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    def initial_state(self, batch: int = 1, device=None) -> tuple[torch.Tensor, ...]:
        raise NotImplementedError

    def step(self, frame: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
        raise NotImplementedError

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """frames (B, T, 1, H, W) -> predictions (B, T, 1, H, W), one per input step."""
        state = self.initial_state(frames.shape[0], frames.device)
        outs = []
        for t in range(frames.shape[1]):
            out, state = self.step(frames[:, t], state)
            outs.append(out)
        return torch.stack(outs, dim=1)

    def blocker(self, target: str) -> str | None:
        """Why the model cannot go to ``target`` (one phrase), or None when it can."""
        if target in self.capabilities.targets:
            return None
        return f"it has no {target} lowering"

    def lower(self):
        """The :class:`~edge_shm.graph.DeploymentGraph` of the model (nir/lava targets)."""
        raise NotImplementedError(f"model {self.name!r} does not lower to a deployment graph")


@typing.runtime_checkable
class SpikingPredictor(typing.Protocol):
    """What a predictor with ``capabilities.spiking`` adds: a traced step and its thresholds
    (spike parity checks, spike counts, the deployment graph's LIF names)."""

    def trace_step(self, frame: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple, object]:
        """``step`` plus a :class:`~edge_shm.graph.trace.Trace` (spikes, membranes per layer)."""
        ...

    def thresholds(self) -> dict[str, float]:
        """LIF layer name -> firing threshold."""
        ...


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
