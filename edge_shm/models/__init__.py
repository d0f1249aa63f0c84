"""Predictors: the contract (:mod:`base`), the registry, and the registered models.

Built in (``model_names()``): ``snn`` (the paper's base spiking network), ``forecast-snn``,
``motion-snn``, ``stclif`` (spiking); ``rnn``, ``lstm``, ``convlstm``, ``predrnnpp``, ``simvp``
(the paper's ANN baselines). A new model subclasses :class:`Predictor` (or
:class:`~edge_shm.models.chain.SpikingChain` for a convolutional LIF network, which meets
:class:`SpikingPredictor`) and is registered with ``@register("name")``.
"""

from edge_shm.models.base import (
    Capabilities,
    ModelConfig,
    Predictor,
    SpikingPredictor,
    count_parameters,
)
from edge_shm.models.registry import build_model, model_class, model_names, register

__all__ = [
    "Capabilities",
    "ModelConfig",
    "Predictor",
    "SpikingPredictor",
    "build_model",
    "count_parameters",
    "model_class",
    "model_names",
    "register",
]
