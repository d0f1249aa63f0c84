"""Training and evaluating a model that decodes a window at once (SimVP, frames_out = 10): the
loss is OpenSTL's SimVP loss (MSE of the 10 forecast frames, no scheduled sampling), the
rollout is the window forecast clipped; every other model keeps the stepping path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edge_shm.errors import UserError
from edge_shm.models import build_model
from edge_shm.models.windows import window_forecaster
from edge_shm.training.sequence import sequence_loss

H = W = 16
TINY = {"height": H, "width": W, "hid_s": 8, "hid_t": 16}


def simvp(**options):
    torch.manual_seed(0)
    return build_model("simvp", {**TINY, **options})


def window(n_in=10, n_out=10, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(3, n_in, 1, H, W, generator=g), torch.rand(3, n_out, 1, H, W, generator=g)


@pytest.mark.parametrize("translator", ["incepu", "gsta"])
def test_the_loss_is_the_mse_of_the_window_forecast(monkeypatch, translator):
    m = simvp(translator=translator, frames_out=10)
    x, y = window()
    calls = []
    forecast = m._forecast_window

    def spy(inp, n_out):
        calls.append((inp.shape, n_out))
        return forecast(inp, n_out)

    monkeypatch.setattr(m, "_forecast_window", spy)
    gen = torch.Generator().manual_seed(0)
    before = gen.get_state()
    loss = sequence_loss(m, x, y, 0.5, gen, (0, 3))
    assert calls == [(x.shape, 10)]
    assert torch.equal(gen.get_state(), before)  # no scheduled-sampling draws
    m.eval()  # the same batch statistics aside, the loss is the MSE of forecast_window
    with torch.no_grad():
        expected = torch.mean((m.forecast_window(x, 10) - y) ** 2)
        assert torch.equal(sequence_loss(m, x, y, 0.0, gen), expected)
    assert loss.requires_grad


@pytest.mark.parametrize("translator", ["incepu", "gsta"])
def test_one_optimiser_step_lowers_the_window_loss(translator):
    m = simvp(translator=translator, frames_out=10, init="openstl")
    x, y = window()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    before = sequence_loss(m, x, y, 1.0, gen)
    opt.zero_grad()
    before.backward()
    assert all(p.grad is not None for p in m.parameters())
    opt.step()
    assert sequence_loss(m, x, y, 1.0, gen).item() < before.item()


def test_a_window_of_another_length_is_a_one_line_error():
    m = simvp(frames_out=10)
    x, y = window(n_out=5)
    with pytest.raises(UserError, match="forecasts 10 frames at once.*have 5") as err:
        sequence_loss(m, x, y, 1.0, torch.Generator())
    assert "\n" not in str(err.value)


def test_steppers_keep_the_stepping_path():
    """Next-frame SimVP (either translator) and the recurrent models have no window forecast:
    the loss is that of teacher-forced next-frame steps at eta = 1."""
    for m in (simvp(), simvp(translator="gsta"), build_model("convlstm", height=H, width=W)):
        assert window_forecaster(m) is None
    m = simvp(translator="gsta")
    x, y = window()
    frames = torch.cat([x, y], 1)
    loss = sequence_loss(m, x, y, 1.0, torch.Generator().manual_seed(0))
    assert torch.allclose(loss, torch.mean((m(frames[:, :-1]) - frames[:, 1:]) ** 2))


def test_evaluation_of_a_window_model(tmp_path):
    """A Turing library's 10 -> 10 test windows, through evaluate_sequence."""
    from edge_shm.data.generators import build
    from edge_shm.data.library import read_library
    from edge_shm.evaluation.sequence import evaluate_sequence

    lib = read_library(build("turing", tmp_path / "tur.h5", 8, 1, size=24, n_frames=22))
    torch.manual_seed(0)
    m = build_model("simvp", {"height": 24, "width": 24, "frames_out": 10, "translator": "gsta"})
    m.eval()
    result = evaluate_sequence(m, lib)
    assert [s.step for s in result.rollout.steps] == list(range(1, 11))
    assert np.isfinite(result.rollout.mean_mae["model"])
