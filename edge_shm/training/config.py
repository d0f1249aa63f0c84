"""Training hyper-parameters, validated before anything is built."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from edge_shm.errors import UserError
from edge_shm.training import recipes

LOSSES = ("mse", "weighted", "growth")
SCHEDULES = ("constant", "cosine", "warmup-cosine")


@dataclass
class TrainConfig:
    """The paper's protocol by default: MSE, Adam (lr 1e-3, betas 0.9/0.999).

    ``loss="weighted"`` multiplies the squared error near cracks by ``1 + crack_weight``;
    ``max_train_windows`` caps the windows per epoch; ``model_options`` go to the model config.
    ``recipe`` (:mod:`edge_shm.training.recipes`) fills the batch size, the schedule and model
    options left None / unset (``paper``: 32, constant; ``reference``: 16, warmup-cosine and
    its model options) and decides the scheduled sampling of the sequence models.
    """

    model: str = "snn"
    epochs: int = 10
    """A registered model name; epochs in total, resumed ones included."""
    batch_size: int | None = None
    lr: float = 1e-3
    """Windows per batch (None: the recipe's, 32 or 16); Adam's (peak) learning rate."""
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
    schedule: str | None = None
    """Learning rate over the epochs: constant, cosine (from lr down to 0 at the last epoch) or
    warmup-cosine (the reference's: :func:`~edge_shm.training.recipes.reference_lr`); None:
    the recipe's (constant for paper, warmup-cosine for reference)."""
    recipe: str = "paper"
    amp: bool = False
    """paper or reference (see above); mixed precision on CUDA (bf16, else fp16 with a gradient
    scaler), not part of a run's identity: a run may resume with or without it."""

    def __post_init__(self) -> None:
        reference = self.recipe == "reference"
        if self.batch_size is None:
            self.batch_size = recipes.BATCH_SIZE if reference else 32
        if self.schedule is None:
            self.schedule = "warmup-cosine" if reference else "constant"
        if reference and isinstance(self.model_options, dict):
            preset = recipes.MODEL_OPTIONS.get(self.model, {})
            self.model_options = {**preset, **self.model_options}

    @classmethod
    def from_options(cls, model: str, *, paper_size: bool = False, **fields) -> TrainConfig:
        """The complete, checked configuration of ``train``'s options: ``model`` a registered
        name, ``paper_size`` its paper preset as model options (``size: "paper"``), updated by
        ``model_options`` when given, ``fields`` any other field of this class. ``loss``
        ``"auto"`` or absent and ``batch_size`` None or absent take
        :data:`~edge_shm.training.recipes.CRACK_DEFAULTS` for the crack models, else MSE and the
        recipe's batch. One-line errors for an unknown model, a model without a paper preset and
        every value :meth:`check` refuses."""
        from edge_shm.models import model_class

        preset = model_class(model).config_class.PAPER  # one line for an unknown model
        for key, value in recipes.CRACK_DEFAULTS.get(model, {}).items():
            if fields.get(key, "auto") in (None, "auto"):
                fields[key] = value
        if fields.get("loss") == "auto":
            fields["loss"] = "mse"
        if paper_size and not preset:
            raise UserError(f"--paper-size: model {model!r} has no paper-size preset")
        options = {**preset, "size": "paper"} if paper_size else {}
        given = fields.pop("model_options", None) or {}
        if not isinstance(given, dict):
            raise UserError("--model-options must be a JSON object")
        cfg = cls(model=model, model_options={**options, **given}, **fields)
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
            raise UserError(
                f"unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}"
            )
        if self.recipe not in recipes.RECIPES:
            raise UserError(f"unknown recipe {self.recipe!r}; choose paper or reference")
        if self.recipe == "reference":
            from edge_shm.models import model_class

            if model_class(self.model).window is None:
                raise UserError(
                    f"--recipe reference: {self.model!r} is not a Turing sequence model "
                    "(stclif, convlstm, predrnnpp, simvp)"
                )
        if not isinstance(self.amp, bool):
            raise UserError(f"--amp must be true or false, got {self.amp!r}")

    def lr_at(self, epoch: int) -> float:
        """The learning rate of ``epoch`` (0-based)."""
        if self.schedule == "cosine":
            return self.lr * 0.5 * (1 + math.cos(math.pi * epoch / self.epochs))
        if self.schedule == "warmup-cosine":
            return recipes.reference_lr(epoch, self.lr, self.epochs)
        return self.lr

    def eta_at(self, epoch: int, update: int) -> float:
        """Scheduled sampling's probability of the true frame in ``epoch`` (0-based), at the
        update after ``update`` earlier ones of the run: per epoch (paper), per update
        (reference)."""
        if self.recipe == "reference":
            return recipes.reference_eta(update)
        from edge_shm.training.sequence import sampling_eta

        return sampling_eta(epoch, self.epochs)

    def to_dict(self) -> dict:
        return asdict(self)

    def same_run(self, other: dict) -> bool:
        """Whether ``other`` (a stored ``train`` dict) is this configuration but for epochs
        and ``amp``; keys an older run lacks take their defaults (the paper recipe's)."""
        free = ("epochs", "amp")
        stored = {**TrainConfig().to_dict(), **other}
        mine = {k: v for k, v in self.to_dict().items() if k not in free}
        return {k: v for k, v in stored.items() if k not in free} == mine
