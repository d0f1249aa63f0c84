"""Operation counting over real frames: MACs, ACs, neuron updates, gate arithmetic, sparsity.

How it works: the model's ``step(frame, state)`` runs under a ``TorchFunctionMode`` that sees
every ``linear``, ``conv1d/2d/3d``, ``conv_transpose1d/2d/3d`` and ``relu`` call, whether it is
made by an ``nn.Module`` or functionally with a module's weights (the recurrent cells of
``BaseRecurrent`` call ``F.linear`` on ``weight_ih_l0``). A call is attributed to the module
that owns its weight tensor. ``nn.LSTM`` / ``nn.RNN`` modules called as modules are counted
from their input shape by a forward hook.

Per synaptic call (NeuroBench ``SynapticOperations`` conventions):

* ``dense`` = every input value times its fan-out (zeros included);
* ``effective`` = nonzero inputs times their exact fan-out (for convolutions, the binary input
  map convolved with a ones kernel, so borders, stride, padding and groups are exact);
* the effective count is an AC (accumulate) when the input tensor is a spike tensor, else a
  MAC. Spike tensors are those a spiking model's ``trace_step`` returns in ``Trace.spikes`` and
  their views (identity of memory, not value: a real-valued frame that happens to be binary
  stays real); ``input_spikes=True`` also treats the model input as spikes (event-camera data).

Neuron updates (NeuroBench ``MembraneUpdates``): for spiking models (``capabilities.spiking``)
every neuron of every LIF layer is updated once per step (dense); a neuron is *active* in a step
when it received a nonzero input current, its membrane potential changed or it spiked, else
inactive (Loihi charges the two differently). The trace gives all three per layer name.

LSTM / RNN gate arithmetic (not counted by NeuroBench or syops): per step and layer of hidden
size h and input size n, MACs 4h(n + h) (LSTM) or h(n + h) (RNN); elementwise: LSTM 3h products
(f*c, i*g, o*tanh c), 5h sums (4h gate pre-activations ih + hh, h for c), 5h nonlinearities (3
sigmoid, 2 tanh); RNN h sums and h tanh. Bias additions are not counted (as NeuroBench).
ReLU evaluations count as nonlinear operations of the layer that produced their input.

Convolutional gate arithmetic (models with ``gate_arithmetic = True``: ConvLSTM, PredRNN++,
SimVP, STCLIF): every elementwise call of the step is counted by its output size, attributed to
the last synaptic layer: sigmoid, tanh, SiLU, GELU, LeakyReLU as nonlinear; products as mult;
sums and differences as add; GroupNorm as one mult and one add per element (scale and shift).
A ConvLSTM layer of h channels on an n-site map thus adds per step 5 h n nonlinear (3 sigmoid,
2 tanh), 3 h n products and 5 h n sums (4 h n gate sums, h n for c), as for the LSTM above.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from edge_shm.profile.synapses import CONV_ARGS, CONVT_ARGS, SYNAPTIC, bind, fanout_count, storage

CELLS = ("lstm_cell", "rnn_tanh_cell")  # recurrent cells called one time step at a time
GATE_OPS = {
    **dict.fromkeys(("sigmoid", "tanh", "silu", "gelu", "leaky_relu"), ("nonlinear",)),
    **dict.fromkeys(("__mul__", "__rmul__", "mul"), ("mult",)),
    **dict.fromkeys(("__add__", "__radd__", "add", "__sub__", "__rsub__", "sub"), ("add",)),
    "group_norm": ("mult", "add"),
}


@dataclass
class LayerInfo:
    name: str
    kind: str
    params: int
    in_shape: tuple = ()
    out_shape: tuple = ()


@dataclass
class Counts:
    """Totals over all profiled windows; divide by ``windows`` for per-forecast figures."""

    windows: int = 0
    steps: int = 0  # steps per window
    spiking: bool = False
    layers: dict[str, LayerInfo] = field(default_factory=dict)
    # per (layer, step) -> op key -> total
    ops: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    # per (lif layer, step) -> neurons, active, spikes
    neurons: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    act_zero: float = 0.0
    act_total: float = 0.0
    peak_activation_elems: int = 0
    access_elems: dict = field(default_factory=lambda: defaultdict(float))
    state_elems: int = 0
    state_shapes: dict = field(default_factory=dict)


class _Recorder(TorchFunctionMode):
    def __init__(self, counter: OpCounter):
        super().__init__()
        self.counter = counter

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        c = self.counter
        if c.recording and c.gate_arithmetic and name in GATE_OPS and hasattr(out, "numel"):
            for key in GATE_OPS[name]:
                c.counts.ops[(c._last_layer or "input", c.step_index)][key] += out.numel()
        if c.recording and not c.inside_module and name in (*SYNAPTIC, *CELLS, "relu", "relu_"):
            c.recording = False
            try:
                if name in SYNAPTIC:
                    c.synaptic(name, args, kwargs, out)
                elif name in CELLS:
                    c.cell(args)
                else:
                    c.activation(out)
            finally:
                c.recording = True
        return out


class OpCounter:
    """Count operations of ``model.step`` over windows of frames (see the module text)."""

    def __init__(self, model: nn.Module, input_spikes: bool = False):
        self.model = model
        self.input_spikes = input_spikes
        self.counts = Counts(spiking=model.capabilities.spiking)
        self.owner: dict[int, tuple[str, nn.Module, str]] = {}
        for mname, mod in model.named_modules():
            for pname, p in mod.named_parameters(recurse=False):
                self.owner[id(p)] = (mname or type(mod).__name__, mod, pname)
        self.recording = False
        self.gate_arithmetic = model.gate_arithmetic
        self.inside_module = False
        self.step_index = 0
        self._calls: list = []
        self._last_layer = None
        self._dense_cache: dict = {}

    # --- hooks -----------------------------------------------------------------------------
    def _layer(self, name: str, mod: nn.Module, kind: str) -> LayerInfo:
        info = self.counts.layers.get(name)
        if info is None:
            params = sum(p.numel() for p in mod.parameters(recurse=False))
            info = self.counts.layers[name] = LayerInfo(name, kind, params)
        return info

    def synaptic(self, fname, args, kwargs, out) -> None:
        dims, transposed = SYNAPTIC[fname]
        if fname == "linear":
            bound = bind(("input", "weight", "bias"), args, kwargs)
        else:
            bound = bind(CONVT_ARGS if transposed else CONV_ARGS, args, kwargs)
        x, w = bound["input"], bound["weight"]
        owner = self.owner.get(id(w))
        name, mod, pname = owner if owner else (f"{fname}@{id(w)}", None, "weight")
        rec = isinstance(mod, (nn.LSTM, nn.RNN))
        kind = type(mod).__name__ if mod is not None else fname
        info = (
            self._layer(name, mod, kind)
            if mod is not None
            else self.counts.layers.setdefault(name, LayerInfo(name, fname, w.numel()))
        )
        if fname == "linear":
            fan = w.shape[0]
            dense = float(x.numel()) * fan
            eff = float((x != 0).sum()) * fan
        else:
            key = (name, tuple(x.shape))
            if key not in self._dense_cache:
                self._dense_cache[key] = fanout_count(
                    torch.ones_like(x), w, dims, transposed, bound
                )
            dense = self._dense_cache[key]
            eff = fanout_count(x, w, dims, transposed, bound)
        self._calls.append((name, x, dense, eff))
        if not rec:
            info.in_shape, info.out_shape = tuple(x.shape[1:]), tuple(out.shape[1:])
        if rec and pname.startswith("weight_ih"):
            self._gates(name, mod, x.shape[0])
            info.in_shape = (mod.input_size,)
            info.out_shape = (mod.hidden_size,)
        b = max(1, x.shape[0])
        self.counts.peak_activation_elems = max(
            self.counts.peak_activation_elems, (x.numel() + out.numel()) // b
        )
        acc = self.counts.access_elems
        acc["weights"] += w.numel() + (
            bound["bias"].numel() if bound.get("bias") is not None else 0
        )
        acc["activations"] += x.numel() / b + out.numel() / b
        self._last_layer = name

    def cell(self, args) -> None:
        """``torch.lstm_cell`` / ``torch.rnn_tanh_cell`` (input, hx, w_ih, w_hh, b_ih, b_hh):
        counted as its two matrix products (input and hidden to gates) plus the gate arithmetic,
        as if written with ``F.linear``."""
        x, hx, w_ih, w_hh, b_ih, b_hh = args[:6]
        h = hx[0] if isinstance(hx, tuple | list) else hx
        for inp, w, b in ((x, w_ih, b_ih), (h, w_hh, b_hh)):
            out = torch.empty(inp.shape[0], w.shape[0], device=inp.device)
            self.synaptic("linear", (inp, w, b), {}, out)

    def _gates(self, name: str, mod: nn.Module, batch: int) -> None:
        h = mod.hidden_size
        ops = self.counts.ops[(name, self.step_index)]
        if isinstance(mod, nn.LSTM):
            ops["mult"] += 3 * h * batch
            ops["add"] += 5 * h * batch
            ops["nonlinear"] += 5 * h * batch
        else:
            ops["add"] += h * batch
            ops["nonlinear"] += h * batch

    def activation(self, out: torch.Tensor) -> None:
        name = self._last_layer or "input"
        self.counts.ops[(name, self.step_index)]["nonlinear"] += out.numel()
        if not self.counts.spiking:
            self.counts.act_zero += float((out == 0).sum())
            self.counts.act_total += out.numel()

    def _module_hook(self, mod, inputs, output):
        """nn.LSTM / nn.RNN called as a module: count all steps of the sequence at once."""
        name = next(n for n, m in self.model.named_modules() if m is mod)
        x = inputs[0]
        if mod.batch_first:
            batch, seq = x.shape[0], x.shape[1]
        else:
            seq, batch = x.shape[0], x.shape[1]
        gates = 4 if isinstance(mod, nn.LSTM) else 1
        h = mod.hidden_size
        info = self._layer(name, mod, type(mod).__name__)
        info.in_shape, info.out_shape = (mod.input_size,), (h,)
        ops = self.counts.ops[(name, self.step_index)]
        n_in = mod.input_size
        for layer in range(mod.num_layers):
            dense = float(batch * seq * gates * h * (n_in + h))
            ops["dense"] += dense
            ops["macs_dense"] += dense
            if layer == 0:  # zero inputs (and a zero initial state) skip their products
                hidden = inputs[1] if len(inputs) > 1 else None
                h0 = hidden[0] if isinstance(hidden, tuple) else hidden
                hh = (
                    float((h0 != 0).sum()) * gates * h
                    if seq == 1 and h0 is not None
                    else batch * seq * gates * h * h
                )
                ops["macs"] += float((x != 0).sum()) * gates * h + hh
            else:
                ops["macs"] += dense
            for _ in range(seq):
                self._gates(name, mod, batch)
            acc = self.counts.access_elems  # per time step: every weight read once
            acc["weights"] += seq * sum(p.numel() for p in mod.parameters()) / mod.num_layers
            acc["activations"] += seq * (n_in + h + 2 * gates * h)
            self.counts.peak_activation_elems = max(
                self.counts.peak_activation_elems, n_in + gates * h
            )
            n_in = h
        self.inside_module = False

    def _module_pre(self, mod, inputs):
        self.inside_module = True

    # --- running ----------------------------------------------------------------------------
    def _classify(self, spikes_ids: set, frame_id: int) -> None:
        for name, x, dense, eff in self._calls:
            ops = self.counts.ops[(name, self.step_index)]
            key = storage(x)
            spiking = key in spikes_ids or (self.input_spikes and key == frame_id)
            ops["dense"] += dense
            if spiking:
                ops["acs"] += eff
                ops["acs_dense"] += dense
            else:
                ops["macs"] += eff
                ops["macs_dense"] += dense
        self._calls = []

    def _neurons(self, trace) -> None:
        for name, z in trace.spikes.items():
            rec = self.counts.neurons[(name, self.step_index)]
            fired = z != 0
            active = fired | (trace.v_prev[name] != trace.v[name]) | (trace.currents[name] != 0)
            rec["neurons"] += z.numel()
            rec["active"] += float(active.sum())
            rec["spikes"] += float(fired.sum())
            rec["per_sample"] = z.numel() // z.shape[0]
            self.counts.act_zero += float((~fired).sum())
            self.counts.act_total += z.numel()

    @torch.no_grad()
    def run(self, windows: torch.Tensor) -> Counts:
        """windows (B, T, 1, H, W): one forecast per window, state reset per window."""
        model = self.model
        hooks = []
        for mod in model.modules():
            if isinstance(mod, (nn.LSTM, nn.RNN)):
                hooks.append(mod.register_forward_pre_hook(self._module_pre))
                hooks.append(mod.register_forward_hook(self._module_hook))
        b, t = windows.shape[:2]
        state = model.initial_state(b, windows.device)
        self.counts.state_elems = sum(s[0].numel() for s in state)
        self.counts.state_shapes = {
            n: list(s.shape[1:]) for n, s in zip(model.state_names, state, strict=True)
        }
        try:
            for step in range(t):
                self.step_index = step
                frame = windows[:, step]
                self.recording = True
                with _Recorder(self):
                    if self.counts.spiking:
                        _, new_state, trace = model.trace_step(frame, state)
                    else:
                        (_, new_state), trace = model.step(frame, state), None
                self.recording = False
                spikes_ids = {storage(z) for z in trace.spikes.values()} if trace else set()
                self._classify(spikes_ids, storage(frame))
                if trace is not None:
                    self._neurons(trace)
                self.counts.access_elems["state"] += 2 * self.counts.state_elems  # read+write
                state = new_state
        finally:
            for h in hooks:
                h.remove()
        self.counts.windows += b
        self.counts.steps = t
        return self.counts


def count_windows(
    model, windows: torch.Tensor, batch: int = 16, input_spikes: bool = False, progress=None
) -> Counts:
    """Run :class:`OpCounter` over ``windows`` (N, T, 1, H, W) in batches; totals in Counts."""
    counter = OpCounter(model, input_spikes)
    access_per_batch = []
    for i in range(0, len(windows), batch):
        before = dict(counter.counts.access_elems)
        counter.run(windows[i : i + batch].to(model.device))
        access_per_batch.append(
            {
                k: counter.counts.access_elems[k] - before.get(k, 0)
                for k in counter.counts.access_elems
            }
        )
        if progress:
            progress(min(batch, len(windows) - i))
    # weights are read once per call whatever the batch: keep the per-window figure
    c = counter.counts
    n_batches = max(1, len(access_per_batch))
    c.access_elems = defaultdict(
        float,
        {
            "weights": c.access_elems["weights"] / n_batches,
            "activations": c.access_elems["activations"] / n_batches,
            "state": c.access_elems["state"] / n_batches,
        },
    )
    return c
