"""Typed per-forecast operation counts: what the counter measured, divided by the windows.

Every figure is per forecast (one window of input frames, state reset per window). ``to_dict``
gives the profile.json layout of edge-shm 0.1.0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

OP_KEYS = ("dense", "macs", "acs", "macs_dense", "acs_dense", "mult", "add", "nonlinear")


@dataclass
class Ops:
    """Operation counts (count): synaptic ops (NeuroBench ``Dense``, effective MACs and ACs,
    and their dense counterparts) and gate / activation arithmetic."""

    dense: float = 0.0
    macs: float = 0.0
    acs: float = 0.0
    macs_dense: float = 0.0
    acs_dense: float = 0.0
    mult: float = 0.0
    add: float = 0.0
    nonlinear: float = 0.0

    def add_from(self, ops: dict | Ops, scale: float = 1.0) -> None:
        get = ops.get if isinstance(ops, dict) else lambda k, d=0.0: getattr(ops, k)
        for k in OP_KEYS:
            setattr(self, k, getattr(self, k) + scale * get(k, 0.0))

    @property
    def effective(self) -> float:
        return self.macs + self.acs


@dataclass
class LayerCounts:
    kind: str
    params: int
    in_shape: list
    out_shape: list
    steps: list[Ops]
    total: Ops


@dataclass
class Neurons:
    """Neuron updates per forecast (count): all, active (NeuroBench MembraneUpdates), spikes."""

    neurons: float = 0.0
    active: float = 0.0
    spikes: float = 0.0


@dataclass
class NeuronLayer(Neurons):
    neurons_per_step: int = 0
    firing_rate_per_step: list[float] = field(default_factory=list)
    firing_rate: float = 0.0


@dataclass
class CountSummary:
    """Operation and neuron counts per forecast, in total, per step and per layer.

    ``access_elems``: values moved per forecast (weights, activations, state); ``state_elems``:
    persistent state values per sample; ``peak_activation_elems``: the largest layer input +
    output per sample; ``firing_rate`` in spikes / neuron / step; sparsities unit 1.
    """

    windows: int
    steps_per_forecast: int
    spiking: bool
    totals: Ops
    per_step: list[Ops]
    per_layer: dict[str, LayerCounts]
    neuron_layers: dict[str, NeuronLayer]
    neuron_totals: Neurons
    neuron_per_step: list[Neurons]
    activation_sparsity: float | None = None
    peak_activation_elems: int = 0
    state_elems: int = 0
    state_shapes: dict = field(default_factory=dict)
    access_elems: dict = field(default_factory=dict)

    @property
    def firing_rate(self) -> float | None:
        n = self.neuron_totals
        return n.spikes / n.neurons if n.neurons else None

    @property
    def spike_input_rate(self) -> float | None:
        t = self.totals
        return t.acs / t.acs_dense if t.acs_dense else None

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out = {k: v for k, v in out.items() if not k.startswith("neuron_")}
        out = {k: (asdict(v) if hasattr(v, "__dataclass_fields__") else v) for k, v in out.items()}
        out["per_step"] = [asdict(s) for s in self.per_step]
        out["per_layer"] = {k: asdict(v) for k, v in self.per_layer.items()}
        out["neurons"] = {
            "layers": {k: asdict(v) for k, v in self.neuron_layers.items()},
            "totals": asdict(self.neuron_totals),
            "per_step": [asdict(s) for s in self.neuron_per_step],
        }
        out["firing_rate"], out["spike_input_rate"] = self.firing_rate, self.spike_input_rate
        return out


def summarize(c) -> CountSummary:
    """Per-forecast figures (divided by the number of windows) from the counter's totals."""
    n = max(1, c.windows)
    per_layer: dict[str, LayerCounts] = {}
    per_step = [Ops() for _ in range(c.steps)]
    totals = Ops()
    order = {name: i for i, name in enumerate(c.layers)}
    for name, step in sorted(c.ops, key=lambda k: (order.get(k[0], len(order)), k[1])):
        ops = c.ops[(name, step)]
        if name not in per_layer:
            info = c.layers.get(name)
            per_layer[name] = LayerCounts(
                kind=info.kind if info else "activation",
                params=info.params if info else 0,
                in_shape=list(info.in_shape) if info else [],
                out_shape=list(info.out_shape) if info else [],
                steps=[Ops() for _ in range(c.steps)],
                total=Ops(),
            )
        row = per_layer[name]
        for target in (row.steps[step], row.total, per_step[step], totals):
            target.add_from(ops, 1 / n)
    layers: dict[str, NeuronLayer] = {}
    tot, steps = Neurons(), [Neurons() for _ in range(c.steps)]
    for (name, step), rec in c.neurons.items():
        row = layers.setdefault(
            name,
            NeuronLayer(neurons_per_step=rec["per_sample"], firing_rate_per_step=[0.0] * c.steps),
        )
        for k in ("neurons", "active", "spikes"):
            for target in (row, tot, steps[step]):
                setattr(target, k, getattr(target, k) + rec[k] / n)
        row.firing_rate_per_step[step] = rec["spikes"] / max(1.0, rec["neurons"])
    for row in layers.values():
        row.firing_rate = row.spikes / row.neurons if row.neurons else 0.0
    out = CountSummary(
        c.windows, c.steps, c.spiking, totals, per_step, per_layer, layers, tot, steps
    )
    out.activation_sparsity = (c.act_zero / c.act_total) if c.act_total else None
    out.peak_activation_elems, out.state_elems = c.peak_activation_elems, c.state_elems
    out.state_shapes, out.access_elems = c.state_shapes, dict(c.access_elems)
    return out
