"""Predictors: base SNN, RNN and LSTM, and the registry that maps names to them.

Every model maps frames (B, T, 1, H, W) to one prediction per step (B, T, 1, H, W) and exposes
``initial_state(batch)`` and a pure ``step(frame, state) -> (prediction, state)``.
"""

from __future__ import annotations

from edge_shm.errors import UserError

MODEL_NAMES = ("snn", "rnn", "lstm")


def model_class(name: str):
    from edge_shm.models.recurrent import BaseLSTM, BaseRNN
    from edge_shm.models.snn import BaseSNN

    classes = {"snn": BaseSNN, "rnn": BaseRNN, "lstm": BaseLSTM}
    if name not in classes:
        raise UserError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    return classes[name]


def build_model(name: str, **config):
    """Instantiate a registered model from its name and its ``config()`` dictionary."""
    return model_class(name)(**config)


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())
