"""Model names -> classes: one registry, filled by the ``@register`` decorator."""

from __future__ import annotations

from edge_shm.errors import UserError

_MODELS: dict[str, type] = {}
_BUILTIN = (
    "edge_shm.models.snn",
    "edge_shm.models.forecast_snn",
    "edge_shm.models.motion_snn",
    "edge_shm.models.recurrent",
    "edge_shm.models.convlstm",
    "edge_shm.models.simvp",
    "edge_shm.models.stclif",
)


def register(name: str):
    """Class decorator: make a :class:`~edge_shm.models.base.Predictor` known as ``name``."""

    def deco(cls):
        if name in _MODELS and _MODELS[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered")
        cls.name = name
        _MODELS[name] = cls
        return cls

    return deco


def _load_builtin() -> None:
    import importlib

    for module in _BUILTIN:
        importlib.import_module(module)


def model_names() -> tuple[str, ...]:
    _load_builtin()
    return tuple(_MODELS)


def model_class(name: str):
    _load_builtin()
    if name not in _MODELS:
        raise UserError(f"unknown model {name!r}; choose one of {', '.join(_MODELS)}")
    return _MODELS[name]


def build_model(name: str, config=None, where: str = "model config", **overrides):
    """A registered model from its config: a config dataclass, a dict (validated) or keywords."""
    cls = model_class(name)
    if not isinstance(config, cls.config_class):
        data = dict(config or {})
        data.update(overrides)
        config = cls.config_class.from_dict(data, where)
    return cls(config)
