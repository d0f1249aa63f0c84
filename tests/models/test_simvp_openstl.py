"""SimVP as OpenSTL has it (issue 26): frames_out = 10 (a window decoded at once, each frame
with its own skip), the gSTA translator and OpenSTL's initialisation; frames_out = 1, the
IncepU translator and torch's initialisation (the defaults) are the model of the earlier runs."""

from __future__ import annotations

import hashlib

import pytest
import torch

from edge_shm.errors import UserError
from edge_shm.models import build_model, count_parameters
from edge_shm.models.simvp_gsta import AttentionModule, GASubBlock, MetaBlock, MidMetaNet
from edge_shm.models.windows import rollout_window, window_forecaster
from edge_shm.training.sequence import sequence_loss

H = W = 16
TINY = {"height": H, "width": W, "hid_s": 8, "hid_t": 16}


def simvp(**options):
    torch.manual_seed(0)
    return build_model("simvp", {**TINY, **options})


def frames(n, seed=1, batch=2):
    return torch.rand(batch, n, 1, H, W, generator=torch.Generator().manual_seed(seed))


def test_the_default_model_is_the_one_of_the_earlier_runs():
    """Recorded from the code before issue 26 (git HEAD b517eb1): parameter names and shapes,
    the weights a seed gives, forward, rollout and the training loss."""
    m = simvp()
    names = ";".join(f"{n}:{tuple(p.shape)}" for n, p in m.named_parameters())
    assert hashlib.sha256(names.encode()).hexdigest() == (
        "e86214bfe6559530b7b1e43aa5981a3d479c5582f9ef387efc178e5bb9d8e707"
    )
    assert count_parameters(m) == 53225
    assert sum(p.double().sum().item() for p in m.parameters()) == pytest.approx(
        564.3995222043704, rel=1e-9
    )
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(2, 10, 1, H, W, generator=g), torch.rand(2, 10, 1, H, W, generator=g)
    with torch.no_grad():
        out = m(x).double()
    assert out.sum().item() == pytest.approx(1438.631705428008, rel=1e-6)
    assert out.abs().sum().item() == pytest.approx(1507.2429067757912, rel=1e-6)
    assert rollout_window(m, x, 10).double().sum().item() == pytest.approx(
        1007.1183973031584, rel=1e-6
    )
    loss = sequence_loss(m, x, y, 0.5, torch.Generator().manual_seed(2))
    assert loss.item() == pytest.approx(0.18184548616409302, rel=1e-6)
    assert window_forecaster(m) is None and m.state_names == ("features", "skip")


@pytest.mark.fast
def test_an_old_config_reads_as_the_defaults():
    old = {**TINY, "n_s": 2, "n_t": 2, "frames_in": 10, "size": "cpu"}  # a run's config.json
    config = build_model("simvp", old).config()
    assert config == {**old, "frames_out": 1, "translator": "incepu", "init": "torch"}
    assert list(config)[: len(old)] == ["height", "width", *list(old)[2:]]


@pytest.mark.parametrize("translator", ["incepu", "gsta"])
def test_shapes_of_both_translators_one_frame_at_a_time(translator):
    m = simvp(translator=translator)
    x = frames(12)
    with torch.no_grad():
        full = m(x)
        state, outs = m.initial_state(2), []
        for t in range(12):
            out, state = m.step(x[:, t], state)
            outs.append(out)
    assert full.shape == (2, 12, 1, H, W)
    assert torch.allclose(torch.stack(outs, 1), full, atol=1e-6)
    assert rollout_window(m, x[:, :10], 10).shape == (2, 10, 1, H, W)


@pytest.mark.parametrize("translator", ["incepu", "gsta"])
def test_shapes_of_both_translators_ten_frames_at_once(translator):
    m = simvp(translator=translator, frames_out=10).eval()
    x = frames(10)
    with torch.no_grad():
        for n_out in (10, 3, 25):  # one window, its first frames, windows chained
            assert m.forecast_window(x, n_out).shape == (2, n_out, 1, H, W)
        first = m.forecast_window(x, 10)
        assert torch.equal(m.forecast_window(x, 3), first[:, :3])
        # beyond one window, the raw forecasts are the next input (OpenSTL's _predict)
        assert torch.allclose(m.forecast_window(x, 20)[:, 10:], m.forecast_window(first, 10))
        # the last 10 frames of a longer input; zero frames before a shorter one
        assert torch.equal(m.forecast_window(torch.cat([frames(3, 5), x], 1), 10), first)
        short = torch.cat([torch.zeros(2, 4, 1, H, W), x[:, 4:]], 1)
        assert torch.equal(m.forecast_window(x[:, 4:], 10), m.forecast_window(short, 10))
        assert torch.equal(rollout_window(m, x, 10), first.clamp(0, 1))


def test_the_window_decoder_is_openstls_forward():
    """OpenSTL's SimVP_Model.forward, written out: encoder over B T frames, the translator on
    (B, T C, H', W'), (B T, C, H', W') decoded with the skips, 1 x 1 readout."""
    m = simvp(translator="gsta", frames_out=10).eval()
    x = frames(10)
    with torch.no_grad():
        b, t = x.shape[:2]
        enc1 = m.enc[0](x.reshape(b * t, 1, H, W))
        embed = m.enc[1](enc1)
        _, c, h, w = embed.shape
        hid = m.mid(embed.reshape(b, t * c, h, w)).reshape(b * t, c, h, w)
        y = m.readout(m.dec[1](m.dec[0](hid) + enc1)).reshape(b, t, 1, H, W)
        assert torch.equal(m.forecast_window(x, 10), y)
    # the decoder reads hid_S channels per frame (not the translator's T hid_S of frames_out 1)
    assert m.dec[0].conv[0].in_channels == 8 and simvp().dec[0].conv[0].in_channels == 80


@pytest.mark.parametrize("translator", ["incepu", "gsta"])
def test_every_forecast_frame_depends_on_every_input_frame(translator):
    m = simvp(translator=translator, frames_out=10).eval()
    x = frames(10).requires_grad_()
    out = m.forecast_window(x, 10)
    for k in (0, 4, 9):
        (grad,) = torch.autograd.grad(out[:, k].sum(), x, retain_graph=True)
        assert (grad.abs().sum(dim=(0, 2, 3, 4)) > 0).all(), k


def test_each_forecast_frame_has_its_own_skip(monkeypatch):
    """With the translator silenced, frame k of the forecast sees input frame k only: its
    first-layer skip (OpenSTL's reshape: output k with the skip of input k)."""
    m = simvp(translator="gsta", frames_out=10).eval()
    monkeypatch.setattr(m.mid, "forward", lambda z: torch.zeros_like(z))
    x = frames(10).requires_grad_()
    out = m.forecast_window(x, 10)
    for k in range(10):
        (grad,) = torch.autograd.grad(out[:, k].sum(), x, retain_graph=True)
        seen = grad.abs().sum(dim=(0, 2, 3, 4)) > 0
        assert seen.tolist() == [j == k for j in range(10)], k


@pytest.mark.fast
def test_a_window_model_has_no_next_frame_step():
    m = simvp(frames_out=10)
    for call in (lambda: m.initial_state(1), lambda: m.step(torch.zeros(1, 1, H, W), ())):
        with pytest.raises(UserError, match="forecasts 10 frames at once") as err:
            call()
        assert "\n" not in str(err.value)
    assert m.state_names == ()
    assert "at once" in m.blocker("onnx")
    assert simvp().blocker("onnx") is None


@pytest.mark.fast
@pytest.mark.parametrize(
    "options, words",
    [
        ({"frames_out": 5}, "'frames_out' must be 1"),
        ({"frames_out": 20}, "'frames_out' must be 1"),
        ({"frames_out": 0}, "'frames_out' must be positive"),
        ({"frames_out": 10, "frames_in": 5}, "'frames_in' must be 10"),
        ({"translator": "tau"}, "'translator' must be incepu or gsta"),
        ({"init": "xavier"}, "'init' must be torch or openstl"),
        ({"translator": "gsta", "n_t": 1}, "'n_t' must be at least 2"),
    ],
)
def test_bad_options_are_one_line_errors(options, words):
    with pytest.raises(UserError, match=words) as err:
        build_model("simvp", {**TINY, **options})
    assert "\n" not in str(err.value)


@pytest.mark.fast
def test_gsta_needs_no_multiple_of_16():
    assert simvp(translator="gsta", hid_t=24).mid.enc[0].reduction.out_channels == 24


def block_parameters(d: int) -> int:
    """OpenSTL's GASubBlock(d, kernel_size=21, mlp_ratio=8), counted by hand."""
    h = 8 * d
    norms = 2 * (2 * d)  # two BatchNorm2d: weight and bias
    attn = (
        (d * d + d)  # proj_1, 1 x 1
        + (5 * 5 * d + d)  # conv0: depthwise 5 x 5
        + (7 * 7 * d + d)  # conv_spatial: depthwise 7 x 7, dilation 3
        + (d * 2 * d + 2 * d)  # conv1: 1 x 1 to f and g
        + (d * d + d)  # proj_2, 1 x 1
    )
    mlp = (d * h + h) + (3 * 3 * h + h) + (h * d + d)  # fc1, depthwise 3 x 3, fc2
    scales = 2 * d
    return norms + attn + mlp + scales


@pytest.mark.fast
@pytest.mark.parametrize("d", [8, 12, 80])
def test_gsta_block_parameters_are_openstls(d):
    assert count_parameters(GASubBlock(d)) == block_parameters(d)
    assert block_parameters(d) == 20 * d * d + 175 * d  # the docstring's formula, h = 8 d
    assert count_parameters(MetaBlock(d, 16)) == block_parameters(d) + d * 16 + 16
    assert count_parameters(MetaBlock(d, d)) == block_parameters(d)


@pytest.mark.fast
def test_gsta_translator_parameters_and_kernels():
    net = MidMetaNet(80, 16, 3)
    first = block_parameters(80) + 80 * 16 + 16  # 80 -> 16, then the 1 x 1 reduction
    middle = block_parameters(16)  # 16 -> 16
    last = block_parameters(16) + 16 * 80 + 80  # 16 -> 80
    expected = first + middle + last
    assert count_parameters(net) == expected
    gate = AttentionModule(4)
    assert (gate.conv0.kernel_size, gate.conv0.padding, gate.conv0.groups) == ((5, 5), (2, 2), 4)
    sp = gate.conv_spatial
    assert (sp.kernel_size, sp.dilation, sp.padding, sp.groups) == ((7, 7), (3, 3), (9, 9), 4)
    assert torch.equal(GASubBlock(4).layer_scale_1, torch.full((4,), 0.01))
    assert isinstance(GASubBlock(4).norm1, torch.nn.BatchNorm2d)
    with torch.no_grad():
        assert net.eval()(torch.rand(2, 80, 5, 7)).shape == (2, 80, 5, 7)


def test_openstl_initialisation():
    torch.manual_seed(0)
    ref = build_model("simvp", {**TINY, "hid_s": 16, "translator": "gsta", "frames_out": 10})
    m = simvp(hid_s=16, translator="gsta", frames_out=10, init="openstl")
    convs = [mod for layer in (*m.enc, *m.dec) for mod in layer.modules()]
    convs = [c for c in convs if isinstance(c, torch.nn.Conv2d)]
    w = torch.cat([c.weight.flatten() for c in convs])
    assert 0.018 < w.std().item() < 0.022 and w.abs().max().item() <= 2
    assert all(c.bias.abs().sum() == 0 for c in convs)
    block = m.mid.enc[1].block
    fc1 = block.mlp.fc1  # 1 x 1, 16 -> 128: fan_out 128
    assert fc1.weight.std().item() == pytest.approx((2 / 128) ** 0.5, rel=0.1)
    assert block.attn.proj_1.bias.abs().sum() == 0
    # what OpenSTL leaves to torch is torch's: the same draws as the default init
    assert torch.equal(m.readout.weight, ref.readout.weight)
    assert torch.equal(m.mid.enc[0].reduction.weight, ref.mid.enc[0].reduction.weight)
    assert torch.equal(m.enc[0].norm.weight, ref.enc[0].norm.weight)
