"""Device profiles: per-operation energies and memory limits, every number with unit and source.

A device file is JSON::

    {"format": "edge-shm-devices", "version": 1,
     "devices": {"NAME": {
         "description": "...", "kind": "asic|cpu|gpu|neuromorphic|mcu",
         "precision": "float32|int8|loihi8",
         "event_driven": true|false, "native": "any|spiking",
         "energy": {"mac": Q, "ac": Q, "neuron_active": Q, ...},          (optional)
         "memory_access": {"onchip_word": Q, "offchip_word": Q, "onchip_capacity": Q},  (optional)
         "budget": {"ram": Q, "flash": Q, "neurons_per_core": Q, "memory_per_core": Q,
                    "cores": Q}  (optional),
         "clock": Q  (optional; Hz, kHz, MHz or GHz: the core clock of a microcontroller)
     }}}

where every quantity ``Q`` is ``{"value": number >= 0, "unit": "...", "source": "..."}``. A
missing source or unit, an unknown unit or a unit of the wrong kind is rejected with a one-line
:class:`~edge_shm.errors.UserError`. The built-in profiles live in ``edge_shm/profile/devices.json``
(each value names its source); users add their own with ``--devices FILE`` (same schema; a name
that exists already replaces the built-in profile).

Energy keys (per operation; see docs/profile.md for what counts as one operation):
``mac``, ``ac``, ``neuron_active`` (required); ``neuron_inactive`` (default: ``neuron_active``),
``mult`` (default: ``mac``), ``add`` (default: ``ac``), ``nonlinear`` (default:
``neuron_active``). Memory access: energy per 32-bit word moved, on chip and off chip; a device
without an ``onchip_word`` entry has its on-chip accesses included in the per-op energies.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from edge_shm.errors import UserError

FORMAT_NAME = "edge-shm-devices"
ENERGY_UNITS = {"fJ": 1e-3, "pJ": 1.0, "nJ": 1e3, "uJ": 1e6, "mJ": 1e9, "J": 1e12}  # -> pJ
BYTE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}  # binary, as MCU datasheets
COUNT_UNITS = {"count": 1, "neurons": 1}
FREQUENCY_UNITS = {"Hz": 1, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9}  # -> Hz
ENERGY_KEYS = ("mac", "ac", "neuron_active", "neuron_inactive", "mult", "add", "nonlinear")
REQUIRED_ENERGY = ("mac", "ac", "neuron_active")
MEMORY_ACCESS_KEYS = {
    "onchip_word": ENERGY_UNITS,
    "offchip_word": ENERGY_UNITS,
    "onchip_capacity": BYTE_UNITS,
}
BUDGET_KEYS = {
    "ram": BYTE_UNITS,
    "flash": BYTE_UNITS,
    "memory_per_core": BYTE_UNITS,
    "neurons_per_core": COUNT_UNITS,
    "cores": COUNT_UNITS,
}
PRECISIONS = ("float32", "int8", "loihi8")


def _largest(units: dict) -> float:
    """Largest plausible value in the base unit (1 mJ per op or word, 1 PB, 1e12 counts):
    anything larger is a typo, and would overflow the energy and memory sums."""
    if units is FREQUENCY_UNITS:
        return 1e11  # 100 GHz
    return 1e9 if units is ENERGY_UNITS else 1024.0**5 if units is BYTE_UNITS else 1e12


KINDS = ("asic", "cpu", "gpu", "neuromorphic", "mcu")


@dataclass
class Quantity:
    value: float
    unit: str
    source: str
    base: float  # value in the base unit (pJ, bytes or count)

    def to_dict(self) -> dict:
        return {"value": self.value, "unit": self.unit, "source": self.source}


@dataclass
class Device:
    name: str
    description: str
    kind: str
    precision: str
    event_driven: bool
    native: str
    energy: dict[str, Quantity] = field(default_factory=dict)
    memory_access: dict[str, Quantity] = field(default_factory=dict)
    budget: dict[str, Quantity] = field(default_factory=dict)
    origin: str = "built-in"
    clock: Quantity | None = None

    @property
    def clock_hz(self) -> float | None:
        """The core clock in Hz (a microcontroller's time per forecast), None when unknown."""
        return None if self.clock is None else self.clock.base

    @property
    def has_energy(self) -> bool:
        return bool(self.energy)

    def op_energy_pj(self) -> dict[str, float]:
        """Energy per operation class in pJ, with the documented fallbacks filled in."""
        if not self.energy:
            return {}
        e = {k: q.base for k, q in self.energy.items()}
        e.setdefault("neuron_inactive", e["neuron_active"])
        e.setdefault("mult", e["mac"])
        e.setdefault("add", e["ac"])
        e.setdefault("nonlinear", e["neuron_active"])
        return e

    def budget_bytes(self, key: str) -> float | None:
        q = self.budget.get(key)
        return None if q is None else q.base

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "kind": self.kind,
            "precision": self.precision,
            "event_driven": self.event_driven,
            "native": self.native,
            "origin": self.origin,
            "energy": {k: q.to_dict() for k, q in self.energy.items()},
            "memory_access": {k: q.to_dict() for k, q in self.memory_access.items()},
            "budget": {k: q.to_dict() for k, q in self.budget.items()},
            **({} if self.clock is None else {"clock": self.clock.to_dict()}),
        }


def _quantity(where: str, raw, units: dict) -> Quantity:
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected an object with value, unit and source")
    for key in ("value", "unit", "source"):
        if key not in raw:
            raise UserError(f"{where}: missing '{key}'")
    value, unit, source = raw["value"], raw["unit"], raw["source"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UserError(f"{where}: value {value!r} is not a finite number")
    if value < 0:
        raise UserError(f"{where}: value {value!r} is negative")
    if not isinstance(source, str):
        raise UserError(f"{where}: source must be text, got {source!r}")
    if not source.strip():
        raise UserError(f"{where}: empty source")
    if not isinstance(unit, str) or unit not in units:
        raise UserError(f"{where}: unit {unit!r} not one of {', '.join(units)}")
    base = float(value) * units[unit]
    if base > _largest(units):
        raise UserError(f"{where}: {value:g} {unit} is beyond any device (implausible value)")
    return Quantity(float(value), unit, source.strip(), base)


def _section(where: str, raw, allowed: dict) -> dict[str, Quantity]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected an object")
    unknown = set(raw) - set(allowed)
    if unknown:
        raise UserError(
            f"{where}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(allowed)})"
        )
    return {k: _quantity(f"{where}.{k}", v, allowed[k]) for k, v in raw.items()}


def parse_device(name: str, raw, origin: str) -> Device:
    where = f"{origin}: device {name!r}"
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected an object")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise UserError(f"{where}: kind {kind!r} not one of {', '.join(KINDS)}")
    precision = raw.get("precision")
    if precision in ("loihi",):  # the precision's name; profile tables use the old "loihi8"
        precision = "loihi8"
    if precision not in PRECISIONS:
        raise UserError(f"{where}: precision {precision!r} not one of {', '.join(PRECISIONS)}")
    event_driven = raw.get("event_driven", False)
    if not isinstance(event_driven, bool):
        raise UserError(f"{where}: event_driven must be true or false")
    native = raw.get("native", "any")
    if native not in ("any", "spiking"):
        raise UserError(f"{where}: native must be 'any' or 'spiking'")
    energy = _section(
        f"{where}.energy", raw.get("energy"), dict.fromkeys(ENERGY_KEYS, ENERGY_UNITS)
    )
    if energy:
        missing = [k for k in REQUIRED_ENERGY if k not in energy]
        if missing:
            raise UserError(f"{where}.energy: missing {', '.join(missing)}")
    access = _section(f"{where}.memory_access", raw.get("memory_access"), MEMORY_ACCESS_KEYS)
    budget = _section(f"{where}.budget", raw.get("budget"), BUDGET_KEYS)
    for k, q in budget.items():
        if q.base <= 0:
            raise UserError(f"{where}.budget.{k}: a budget must be positive, got {q.value:g}")
    if not energy and not budget:
        raise UserError(f"{where}: needs an 'energy' or a 'budget' section")
    known = {
        "description",
        "kind",
        "precision",
        "event_driven",
        "native",
        "energy",
        "memory_access",
        "budget",
        "clock",
    }
    clock = None
    if raw.get("clock") is not None:
        clock = _quantity(f"{where}.clock", raw["clock"], FREQUENCY_UNITS)
        if clock.base <= 0:
            raise UserError(f"{where}.clock: a clock must be positive, got {clock.value:g}")
    unknown = set(raw) - known
    if unknown:
        raise UserError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    return Device(
        name,
        str(raw.get("description", "")),
        kind,
        precision,
        event_driven,
        native,
        energy,
        access,
        budget,
        origin,
        clock,
    )


def parse_devices(data, origin: str) -> dict[str, Device]:
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise UserError(f'{origin}: not a device file (expected "format": "{FORMAT_NAME}")')
    if data.get("version") != 1:
        raise UserError(f"{origin}: unsupported device file version {data.get('version')!r}")
    devices = data.get("devices")
    if not isinstance(devices, dict) or not devices:
        raise UserError(f"{origin}: 'devices' must be a non-empty object")
    return {name: parse_device(name, raw, origin) for name, raw in devices.items()}


def read_device_file(path: str | Path) -> dict[str, Device]:
    from edge_shm.jsonio import read_json

    path = Path(path)
    return parse_devices(read_json(path, "device file"), str(path))


def builtin_devices() -> dict[str, Device]:
    text = resources.files("edge_shm.profile").joinpath("devices.json").read_text()
    return parse_devices(json.loads(text), "edge_shm/profile/devices.json")


def load_devices(extra: list[str | Path] | None = None) -> dict[str, Device]:
    """Built-in profiles plus the user's device files (later files replace earlier names)."""
    devices = builtin_devices()
    for path in extra or []:
        devices.update(read_device_file(path))
    return devices


# Old device names -> the profile they meant. ``loihi`` was Loihi 1 (Davies et al. 2018) beside
# ``loihi2``: renamed so that nobody takes it for Loihi 2. (The *precision* ``loihi``, Lava's
# Loihi 2 fixed point, is another thing and keeps its name.)
DEPRECATED_NAMES = {"loihi": "loihi1"}
DEFAULT_NEUROMORPHIC = "loihi2"


def resolve_name(name: str, devices: dict[str, Device]) -> tuple[str, str | None]:
    """The profile name ``name`` stands for, and a one-line note when it is a deprecated alias
    (None otherwise). A device file that defines the old name itself keeps it."""
    if name in devices or name not in DEPRECATED_NAMES:
        return name, None
    new = DEPRECATED_NAMES[name]
    return new, (
        f"note: device {name!r} is the deprecated name of {new!r} (Intel Loihi 1, Davies et al. "
        f"2018), not Loihi 2; using {new} (the default is {DEFAULT_NEUROMORPHIC})"
    )


def get_device(name: str, extra: list[str | Path] | None = None, note=None) -> Device:
    """The profile called ``name`` (built in, or from the ``extra`` device files). A deprecated
    name resolves to its new one; ``note(line)``, when given, hears about it."""
    devices = load_devices(extra)
    name, told = resolve_name(name, devices)
    if name not in devices:
        raise UserError(f"unknown device {name!r}; known: {', '.join(sorted(devices))}")
    if told is not None and note is not None:
        note(told)
    return devices[name]
