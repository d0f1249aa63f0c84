"""Model shapes, parameter counts, and the streaming step against the full-sequence forward."""

import pytest
import torch

from edge_shm.errors import UserError
from edge_shm.models import build_model, count_parameters


@pytest.mark.fast
def test_base_snn_has_the_papers_1477_parameters():
    m = build_model("snn")
    # conv 1->16 (144+16) + conv 16->4 (576+4) + deconv 4->16 (576+16) + deconv 16->1 (144+1)
    assert count_parameters(m) == 160 + 580 + 592 + 145 == 1477


def _recurrent_count(h, w, cell_gates):
    feat = 4 * h * w
    conv = (16 * 27 + 16) + (4 * 16 * 27 + 4)
    r1 = cell_gates * 128 * (feat + 128) + 2 * cell_gates * 128
    r2 = cell_gates * 128 * (128 + 128) + 2 * cell_gates * 128
    proj = 128 * feat + feat
    deconv = (4 * 16 * 9 + 16) + (16 * 9 + 1)
    return conv + r1 + r2 + proj + deconv


@pytest.mark.parametrize("name,gates", [("lstm", 4), ("rnn", 1)])
@pytest.mark.fast
def test_recurrent_parameter_counts(name, gates):
    assert count_parameters(build_model(name)) == _recurrent_count(96, 132, gates)
    assert count_parameters(build_model(name, height=12, width=10)) == _recurrent_count(
        12, 10, gates
    )


@pytest.mark.fast
def test_lstm_has_four_orders_of_magnitude_more_parameters_than_the_snn():
    ratio = count_parameters(build_model("lstm")) / count_parameters(build_model("snn"))
    assert 1e4 < ratio < 1e5


@pytest.mark.parametrize("name", ["snn", "rnn", "lstm"])
@pytest.mark.fast
def test_forward_shape_and_step_equals_forward(name):
    torch.manual_seed(0)
    m = build_model(name, height=12, width=16).eval()
    x = torch.rand(2, 5, 1, 12, 16)
    with torch.no_grad():
        y = m(x)
        state = m.initial_state(2)
        steps = []
        for t in range(5):
            out, state = m.step(x[:, t], state)
            steps.append(out)
    assert y.shape == (2, 5, 1, 12, 16)
    assert len(state) == len(m.state_names)
    assert torch.allclose(torch.stack(steps, 1), y, atol=1e-5)


@pytest.mark.fast
def test_recurrent_forward_is_causal():
    torch.manual_seed(0)
    m = build_model("lstm", height=8, width=8).eval()
    x = torch.rand(1, 4, 1, 8, 8)
    x2 = x.clone()
    x2[:, 3] = 0.0
    with torch.no_grad():
        assert torch.equal(m(x)[:, :3], m(x2)[:, :3])


@pytest.mark.fast
def test_snn_spikes_are_binary_and_step_is_pure():
    torch.manual_seed(1)
    m = build_model("snn", height=10, width=10)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(4)
        frame = torch.rand(1, 1, 10, 10)
        state = m.initial_state(1)
        out1, s1, trace = m.trace_step(frame, state)
        out2, s2, _ = m.trace_step(frame, state)
    assert torch.equal(out1, out2) and all(torch.equal(a, b) for a, b in zip(s1, s2, strict=True))
    assert list(trace.spikes) == ["lif1", "lif2", "lif3"]
    for z in trace.spikes.values():
        assert set(torch.unique(z).tolist()) <= {0.0, 1.0}
    assert sum(z.sum() for z in trace.spikes.values()) > 0
    # the trace's membrane before the threshold explains every spike
    for name, z in trace.spikes.items():
        assert torch.equal(z > 0, trace.v_pre[name] > m.thresholds()[name])


@pytest.mark.fast
def test_lif_decay_and_threshold_match_the_paper():
    lif = build_model("snn").lif1
    v = torch.tensor([0.0, 0.0, 1.5])
    x = torch.tensor([1.0, 2.2, 0.0])
    z, v_new = lif(x, v)
    # v <- v + 0.5 (x - v); spike if v > 1, reset to 0
    assert z.tolist() == [0.0, 1.0, 0.0]
    assert torch.allclose(v_new, torch.tensor([0.5, 0.0, 0.75]))


@pytest.mark.fast
def test_capabilities_are_declared_not_guessed():
    assert build_model("snn").capabilities.spiking
    assert set(build_model("snn").capabilities.targets) == {"onnx", "nir", "lava", "c"}
    lstm = build_model("lstm", height=8, width=8)
    assert not lstm.capabilities.spiking and lstm.capabilities.targets == ("onnx",)
    assert lstm.blocker("nir") == "layer rnn1 (LSTM) has no nir equivalent"
    assert build_model("snn").blocker("lava") is None


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"hiden": [16, 4]}, "unknown key 'hiden'"),
        ({"hidden": "16"}, "'hidden' has the wrong type"),
        ({"hidden": [16, -4]}, "'hidden' must be positive"),
        ({"dt": 0}, "'dt' must be positive"),
        ({"dt": True}, "'dt' has the wrong type"),
        ({"height": 100000}, "outside 1..4096"),
        ({"kernel": 4}, "must be odd"),
        ({"decay": 1.5}, "'decay' must lie in"),
    ],
)
@pytest.mark.fast
def test_config_is_validated_before_anything_is_built(bad, message):
    with pytest.raises(UserError, match=message):
        build_model("snn", bad)


@pytest.mark.fast
def test_huge_recurrent_model_is_refused_before_allocation():
    with pytest.raises(UserError, match="parameters"):
        build_model("lstm", {"height": 4000, "width": 4000})


@pytest.mark.fast
def test_device_flows_into_the_state():
    m = build_model("snn", height=6, width=6)
    state = m.initial_state(2, torch.device("cpu"))
    assert all(s.device.type == "cpu" and s.shape[0] == 2 for s in state)
    assert m.device.type == "cpu"


@pytest.mark.fast
def test_unknown_model_name():
    with pytest.raises(UserError, match="unknown model 'transformer'"):
        build_model("transformer")
