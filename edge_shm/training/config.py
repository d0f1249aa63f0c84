"""Training hyper-parameters, validated before anything is built."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from edge_shm.errors import UserError

LOSSES = ("mse", "weighted", "growth")
SCHEDULES = ("constant", "cosine")


@dataclass
class TrainConfig:
    """The paper's protocol by default: MSE, Adam (lr 1e-3, betas 0.9/0.999).

    ``loss="weighted"`` multiplies the squared error near cracks by ``1 + crack_weight``;
    ``max_train_windows`` caps the windows per epoch; ``model_options`` go to the model config.
    """

    model: str = "snn"
    epochs: int = 10
    """A registered model name; epochs in total, resumed ones included."""
    batch_size: int = 32
    lr: float = 1e-3
    """Windows per batch; Adam's learning rate."""
    beta1: float = 0.9
    beta2: float = 0.999
    """Adam's betas."""
    seed: int = 0
    loss: str = "mse"
    """Seed of initialisation and shuffling; the loss (mse, weighted or growth)."""
    crack_weight: float = 10.0
    crack_pixel_weight: float = 1.0
    """Band weight w of the weighted and growth losses; factor on the squared error of true
    crack pixels (a > 1 moves the forecast's 0.5 decision to crack probability 1 / (1 + a))."""
    max_train_windows: int | None = None
    model_options: dict = field(default_factory=dict)
    schedule: str = "constant"
    """Learning rate over the epochs: constant, or cosine (from lr down to 0 at the last epoch)."""

    @classmethod
    def from_options(cls, model: str, *, paper_size: bool = False, **fields) -> TrainConfig:
        """The complete, checked configuration of ``train``'s options: ``model`` a registered
        name, ``paper_size`` its paper preset as model options (``size: "paper"``), ``fields``
        any other field of this class. One-line errors for an unknown model, a model without a
        paper preset and every value :meth:`check` refuses."""
        from edge_shm.models import model_class

        preset = model_class(model).config_class.PAPER  # one line for an unknown model
        if paper_size and not preset:
            raise UserError(f"--paper-size: model {model!r} has no paper-size preset")
        options = {**preset, "size": "paper"} if paper_size else {}
        cfg = cls(model=model, model_options=options, **fields)
        cfg.check()
        return cfg

    def check(self) -> None:
        """One-line errors for values that would train garbage or nothing."""
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise UserError(f"--{name.replace('_', '-')} must be a positive integer, got {v}")
        if not (math.isfinite(self.lr) and 0 < self.lr <= 10):
            raise UserError(f"--lr must be a positive finite number (at most 10), got {self.lr}")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise UserError("Adam betas must lie in [0, 1)")
        seed_ok = isinstance(self.seed, int) and not isinstance(self.seed, bool)
        if not (seed_ok and 0 <= self.seed < 2**32):  # epochs draw from seed * 100003 + epoch
            raise UserError(f"--seed must be an integer from 0 to 2**32 - 1, got {self.seed}")
        if self.loss not in LOSSES:
            raise UserError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if not (math.isfinite(self.crack_weight) and self.crack_weight >= 0):
            raise UserError(f"--crack-weight must be a finite number >= 0, got {self.crack_weight}")
        a = self.crack_pixel_weight
        if not (math.isfinite(a) and a > 0):
            raise UserError(f"--crack-pixel-weight must be a finite number > 0, got {a}")
        m = self.max_train_windows
        if m is not None and (isinstance(m, bool) or not isinstance(m, int) or m <= 0):
            raise UserError(f"--max-windows must be a positive integer, got {m}")
        if not isinstance(self.model_options, dict):
            raise UserError("model options must be a JSON object")
        if self.schedule not in SCHEDULES:
            raise UserError(f"unknown schedule {self.schedule!r}; choose constant or cosine")

    def lr_at(self, epoch: int) -> float:
        """The learning rate of ``epoch`` (0-based)."""
        if self.schedule == "cosine":
            return self.lr * 0.5 * (1 + math.cos(math.pi * epoch / self.epochs))
        return self.lr

    def to_dict(self) -> dict:
        return asdict(self)

    def same_run(self, other: dict) -> bool:
        """Whether ``other`` (a stored ``train`` dict) is this configuration but for epochs;
        keys an older run lacks take their defaults."""
        stored = {**TrainConfig().to_dict(), **other}
        mine = {k: v for k, v in self.to_dict().items() if k != "epochs"}
        return {k: v for k, v in stored.items() if k != "epochs"} == mine
