"""Model shapes, parameter counts, and the streaming step against the full-sequence forward."""

import pytest
import torch

from edge_shm.errors import UserError
from edge_shm.models import build_model, count_parameters


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
def test_recurrent_parameter_counts(name, gates):
    assert count_parameters(build_model(name)) == _recurrent_count(96, 132, gates)
    assert count_parameters(build_model(name, height=12, width=10)) == _recurrent_count(
        12, 10, gates
    )


def test_lstm_has_four_orders_of_magnitude_more_parameters_than_the_snn():
    ratio = count_parameters(build_model("lstm")) / count_parameters(build_model("snn"))
    assert 1e4 < ratio < 1e5


@pytest.mark.parametrize("name", ["snn", "rnn", "lstm"])
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


def test_recurrent_forward_is_causal():
    torch.manual_seed(0)
    m = build_model("lstm", height=8, width=8).eval()
    x = torch.rand(1, 4, 1, 8, 8)
    x2 = x.clone()
    x2[:, 3] = 0.0
    with torch.no_grad():
        assert torch.equal(m(x)[:, :3], m(x2)[:, :3])


def test_snn_spikes_are_binary_and_step_is_pure():
    torch.manual_seed(1)
    m = build_model("snn", height=10, width=10)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(4)
        frame = torch.rand(1, 1, 10, 10)
        state = m.initial_state(1)
        out1, s1, trace = m.step_trace(frame, state)
        out2, s2, _ = m.step_trace(frame, state)
    assert torch.equal(out1, out2) and all(torch.equal(a, b) for a, b in zip(s1, s2, strict=True))
    for z in trace["spikes"]:
        assert set(torch.unique(z).tolist()) <= {0.0, 1.0}
    assert sum(z.sum() for z in trace["spikes"]) > 0


def test_lif_decay_and_threshold_match_the_paper():
    m = build_model("snn")
    v = torch.tensor([0.0, 0.0, 1.5])
    x = torch.tensor([1.0, 2.2, 0.0])
    z, v_new = m._lif(x, v)
    # v <- v + 0.5 (x - v); spike if v > 1, reset to 0
    assert z.tolist() == [0.0, 1.0, 0.0]
    assert torch.allclose(v_new, torch.tensor([0.5, 0.0, 0.75]))


def test_unknown_model_name():
    with pytest.raises(UserError, match="unknown model 'transformer'"):
        build_model("transformer")
