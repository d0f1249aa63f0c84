"""Predictors: the contract (:mod:`base`), the registry, and the registered models.

Built in: ``snn`` (the paper's base spiking network), ``rnn`` and ``lstm`` (the paper's base
recurrent networks). A new model subclasses :class:`Predictor` (or :class:`SpikingChain` for a
convolutional LIF network) and is registered with ``@register("name")``.
"""

from edge_shm.models.base import Capabilities, ModelConfig, Predictor, count_parameters
from edge_shm.models.registry import build_model, model_class, model_names, register

__all__ = [
    "Capabilities",
    "ModelConfig",
    "Predictor",
    "build_model",
    "count_parameters",
    "model_class",
    "model_names",
    "register",
]
