"""Profiler counts against hand-computed values (the profiler's acceptance)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from edge_shm.graph import Trace
from edge_shm.models import Capabilities, ModelConfig, Predictor, build_model
from edge_shm.profile.counts import count_windows
from edge_shm.profile.devices import parse_device
from edge_shm.profile.energy import energy_report
from edge_shm.profile.memory import memory_lines, memory_report
from edge_shm.profile.profiler import Profile, neurobench_metrics, profile_model
from edge_shm.profile.summary import summarize


class Hand(Predictor):
    """Hand-built test models follow the predictor contract too (unregistered)."""

    def __init__(self):
        super().__init__(ModelConfig(height=1, width=4))


class LinearLIF(Hand):
    """Linear 4->3 -> IF neuron (v <- 0.5 v + i, spike if v > 1, reset 0) -> Linear 3->2."""

    name = "linear-lif"
    state_names = ("v",)
    capabilities = Capabilities(spiking=True, targets=("onnx",))

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3, bias=False)
        self.fc2 = nn.Linear(3, 2, bias=False)
        with torch.no_grad():
            self.fc1.weight.copy_(2 * torch.eye(3, 4))
            self.fc2.weight.fill_(1.0)

    def initial_state(self, batch=1, device=None):
        return (torch.zeros(batch, 3),)

    def trace_step(self, x, state):
        i = self.fc1(x.reshape(x.shape[0], 4))
        v_pre = 0.5 * state[0] + i
        z = (v_pre > 1).float()
        v = v_pre * (1 - z)
        tr = Trace({"lif": z}, {"lif": v_pre}, {"lif": i}, {"lif": state[0]}, {"lif": v})
        return self.fc2(z), (v,), tr

    def step(self, x, state):
        out, state, _ = self.trace_step(x, state)
        return out, state


# fixed spike train, 3 steps: [1,0,1,0], [1,1,0,0], [0,0,0,0]
TRAIN = torch.tensor([[1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=torch.float32)


def _windows(n=2):
    return TRAIN.reshape(1, 3, 1, 1, 4).repeat(n, 1, 1, 1, 1)


def _q(v, unit="pJ"):
    return {"value": v, "unit": unit, "source": "test"}


def _device(event_driven, memory=False):
    raw = {
        "kind": "asic",
        "precision": "float32",
        "event_driven": event_driven,
        "energy": {"mac": _q(2), "ac": _q(1), "neuron_active": _q(10), "neuron_inactive": _q(5)},
    }
    if memory:
        raw["memory_access"] = {"onchip_word": _q(1), "onchip_capacity": _q(1, "MB")}
    return parse_device("test", raw, "test")


def _profile(model, windows, input_spikes):
    s = summarize(count_windows(model, windows, input_spikes=input_spikes))
    vec = {"mean_B": 0.0, "max_B": 0.0, "mean_nodes": 0.0, "source": "test"}
    params = sum(p.numel() for p in model.parameters())
    return Profile(
        "t", params, [1, 4], s, memory_lines(params, s, (1, 4), vec), neurobench_metrics(model, s)
    )


@pytest.mark.fast
def test_linear_lif_counts_spike_input():
    s = summarize(count_windows(LinearLIF(), _windows(), input_spikes=True))
    fc1, fc2 = s.per_layer["fc1"].total, s.per_layer["fc2"].total
    # fc1: 2 + 2 + 0 input spikes x fan-out 3; fc2: LIF spikes 2 + 2 + 0 x fan-out 2
    assert fc1.acs == 12 and fc1.macs == 0 and fc1.dense == 36
    assert fc2.acs == 8 and fc2.dense == 18
    assert [st.acs for st in s.per_layer["fc2"].steps] == [4, 4, 0]
    n = s.neuron_totals
    assert n.neurons == 9 and n.active == 4 and n.spikes == 4
    assert s.firing_rate == pytest.approx(4 / 9)
    assert s.activation_sparsity == pytest.approx(5 / 9)
    assert s.windows == 2
    assert s.to_dict()["neurons"]["totals"] == {"neurons": 9, "active": 4, "spikes": 4}


@pytest.mark.fast
def test_linear_lif_first_layer_real_valued_is_macs():
    s = summarize(count_windows(LinearLIF(), _windows(), input_spikes=False))
    fc1 = s.per_layer["fc1"].total
    assert fc1.macs == 12 and fc1.macs_dense == 36 and fc1.acs == 0
    assert s.totals.acs == 8
    assert s.totals.macs == 12


@pytest.mark.fast
def test_linear_lif_energy_hand_computed():
    p = _profile(LinearLIF(), _windows(), input_spikes=True)
    # event driven: 12 + 8 ACs x 1 pJ + 4 active x 10 pJ + 5 inactive x 5 pJ
    rep = energy_report(p, _device(True), frame_rate_hz=1.0)
    assert rep.compute_total_pJ == pytest.approx(85.0)
    assert rep.memory_total_pJ == 0.0
    assert rep.per_day_J == pytest.approx(85e-12 * 86400)
    # clocked: every neuron updated every step (9 x 10 pJ); memory: weights 18 x 3 steps,
    # activations (4+3 + 3+2) x 3, state 3 x 2 x 3 words at 1 pJ
    rep = energy_report(p, _device(False, memory=True))
    assert rep.compute_total_pJ == pytest.approx(110.0)
    assert rep.memory.words == {"weights": 54, "activations": 36, "state": 18}
    assert rep.total_pJ == pytest.approx(218.0)


class ConvNet(Hand):
    state_names = ()

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 5, 3, stride=2)

    def initial_state(self, batch=1, device=None):
        return ()

    def step(self, x, state):
        return self.conv(x), state


@pytest.mark.fast
def test_conv_dense_macs_formula():
    x = torch.rand(2, 1, 3, 11, 13)  # (B, T=1, C_in=3, H, W)
    x[0, 0, 0, :4] = 0
    s = summarize(count_windows(ConvNet(), x))
    h_out, w_out = (11 - 3) // 2 + 1, (13 - 3) // 2 + 1
    conv = s.per_layer["conv"].total
    assert conv.macs_dense == 5 * 3 * 3 * 3 * h_out * w_out
    # effective: exact fan-out of the nonzero inputs
    nz = (x[:, 0] != 0).float().sum(1, keepdim=True)
    reach = torch.nn.functional.conv2d(nz, torch.ones(1, 1, 3, 3), stride=2).sum() * 5 / 2
    assert conv.macs == pytest.approx(float(reach))


@pytest.mark.fast
def test_lstm_macs_per_step():
    model = build_model("lstm", height=8, width=6, hidden=(2, 2), recurrent=(5, 3)).eval()
    s = summarize(count_windows(model, torch.rand(2, 3, 1, 8, 6)))
    rnn1, rnn2 = s.per_layer["rnn1"], s.per_layer["rnn2"]
    n_in = 2 * 8 * 6
    for step in range(3):
        assert rnn1.steps[step].macs_dense == 4 * 5 * (n_in + 5)
        assert rnn2.steps[step].macs_dense == 4 * 3 * (5 + 3)
        assert rnn1.steps[step].mult == 3 * 5
        assert rnn1.steps[step].nonlinear == 5 * 5
    # a zero initial hidden state skips the hidden-to-gate products of the first step only
    assert rnn1.steps[0].macs < rnn1.steps[1].macs
    assert rnn1.kind == "LSTM"


class Seq(Hand):
    state_names = ("h", "c")

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(7, 4, batch_first=True)

    def initial_state(self, batch=1, device=None):
        return (torch.zeros(1, batch, 4), torch.zeros(1, batch, 4))

    def step(self, x, state):
        y, (h, c) = self.lstm(x.reshape(x.shape[0], 1, 7), state)
        return y, (h, c)


@pytest.mark.fast
def test_lstm_module_forward_counted():
    s = summarize(count_windows(Seq(), torch.rand(3, 2, 1, 1, 7)))
    assert s.per_layer["lstm"].total.macs_dense == 2 * 4 * 4 * (7 + 4)


@pytest.mark.fast
def test_memory_bytes_are_parameters_times_element_size():
    model = build_model("snn", height=8, width=10).eval()
    x = torch.rand(2, 3, 1, 8, 10)
    p = profile_model(model, x, pixel_mm=0.075)
    w = p.memory.weights
    assert w.values == 1477
    assert (w.bytes["float32"], w.bytes["int8"], w.bytes["loihi8"]) == (4 * 1477, 1477, 1477)
    state = (16 + 4 + 16) * 8 * 10
    assert p.memory.state.bytes["float32"] == 4 * state
    assert p.memory.input_frame.float32_B == 4 * 80
    assert p.neurobench.Footprint_B == 4 * 1477
    assert p.memory.output_frame.bytes["float32"] == 4 * 80
    raw = {"kind": "mcu", "precision": "int8", "budget": {"ram": _q(1, "KB"), "flash": _q(2, "KB")}}
    rep = memory_report(p, parse_device("m", raw, "test"))
    # a spiking model with a C export: the firmware's layout at int8 (test_memory_account.py)
    lines = {ln.line.split(" (")[0]: ln for ln in rep.lines}
    assert lines["weights"].bytes == 1477 - 37 and lines["biases"].bytes == 4 * 37  # 16+4+16+1
    assert lines["persistent state v"].bytes == 2 * state
    flash = next(c for c in rep.checks if c.memory == "flash")
    assert flash.need_B == rep.account_B["flash"] and not flash.fits
    ram = next(c for c in rep.checks if c.memory == "RAM")
    assert ram.need_B == rep.account_B["RAM"] and not ram.fits
    assert p.to_dict()["memory"]["weights"]["int8_B"] == 1477
    # the same device at float32: the estimate, input frame and output buffer included
    raw = {"kind": "cpu", "precision": "float32", "budget": {"ram": _q(64, "KB")}}
    rep = memory_report(p, parse_device("f", raw, "test"))
    ram = next(c for c in rep.checks if c.memory == "RAM")
    assert ram.need_B == 4 * (1477 + state + 80 + 80) + p.memory.peak_activations.bytes["float32"]
    assert ram.fits and rep.layout is None


def test_forecast_snn_fits_the_mcu_and_counts_loihi2_cores():
    """Full frame size (96 x 132): the forecasting SNN at int8 weights / int16 state fits a
    512 KB microcontroller, and the Loihi 2 report says how many cores it needs."""
    from edge_shm.profile.devices import load_devices

    devs = load_devices()
    model = build_model("forecast-snn", height=96, width=132).eval()
    prof = profile_model(model, torch.rand(1, 2, 1, 96, 132))
    mcu = memory_report(prof, devs["mcu-512k"])
    ram = next(c for c in mcu.checks if c.memory == "RAM")
    assert mcu.fits and ram.need_B <= 512 * 1024
    state = next(ln for ln in mcu.lines if ln.line.startswith("persistent state"))
    n = sum(r.neurons_per_step for r in prof.counts.neuron_layers.values())
    assert n == 107_712 and state.bytes == 2 * n  # int16 membranes
    loihi = memory_report(prof, devs["loihi2"])
    assert loihi.cores.neurons == n and loihi.cores.by_neurons == -(-n // 8192)
    assert loihi.cores.needed >= loihi.cores.by_neurons and loihi.fits


@pytest.mark.fast
def test_a_non_spiking_model_cannot_run_on_a_spiking_only_device():
    from edge_shm.profile.devices import load_devices

    devs = load_devices()
    model = build_model("lstm", height=8, width=6, hidden=(2, 2), recurrent=(5, 3)).eval()
    prof = profile_model(model, torch.rand(2, 3, 1, 8, 6))
    for name in ("loihi1", "loihi2"):
        rep = energy_report(prof, devs[name])
        assert not rep.available and "spiking" in rep.note
        assert rep.to_dict() == {"device": name, "available": False, "note": rep.note}
    assert energy_report(prof, devs["arm-cortex-a"]).available
