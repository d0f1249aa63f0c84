"""ConvLSTM, PredRNN++, SimVP and STCLIF: shapes, learning, step = forward, STCLIF's gates."""

from __future__ import annotations

import pytest
import torch

from edge_shm.cli import main
from edge_shm.models import build_model, count_parameters
from edge_shm.models.stclif import gates
from edge_shm.models.windows import rollout_window
from edge_shm.training.sequence import sequence_loss

MODELS = ("convlstm", "predrnnpp", "simvp", "stclif")
H, W = 16, 24  # not square


@pytest.fixture(params=MODELS)
def model(request):
    torch.manual_seed(0)
    return build_model(request.param, {"height": H, "width": W})


def test_maps_ten_frames_to_ten_on_a_non_square_frame(model):
    x = torch.rand(2, 10, 1, H, W)
    assert model(x).shape == (2, 10, 1, H, W)
    assert rollout_window(model, x, 10).shape == (2, 10, 1, H, W)


def test_step_form_equals_forward(model):
    x = torch.rand(2, 12, 1, H, W)
    with torch.no_grad():
        full = model(x)
        state, outs = model.initial_state(2), []
        for t in range(12):
            out, state = model.step(x[:, t], state)
            outs.append(out)
    assert torch.allclose(torch.stack(outs, 1), full, atol=1e-6)


def test_simvp_feature_cache_equals_a_fresh_window():
    """SimVP's step keeps encoded features; 12 frames streamed give what the last 10 give."""
    torch.manual_seed(0)
    m = build_model("simvp", {"height": H, "width": W}).eval()
    x = torch.rand(1, 12, 1, H, W)
    with torch.no_grad():
        assert torch.allclose(m(x)[:, -1], m(x[:, 2:])[:, -1], atol=1e-6)


def test_one_optimiser_step_lowers_the_loss(model):
    torch.manual_seed(1)
    x, y = torch.rand(4, 10, 1, H, W), torch.rand(4, 10, 1, H, W)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    before = sequence_loss(model, x, y, 1.0, gen)
    opt.zero_grad()
    before.backward()
    opt.step()
    after = sequence_loss(model, x, y, 1.0, torch.Generator().manual_seed(0))
    assert after.item() < before.item()


@pytest.mark.fast
def test_stclif_gates_stay_in_their_published_range():
    torch.manual_seed(2)
    m = build_model("stclif", {"height": H, "width": W, "hidden": [16, 16]})
    with torch.no_grad():
        for cell in m.cells:
            for conv in (cell.conv_h, cell.conv_v):
                conv.weight.mul_(50)  # push the gates to their limits
        state = m.initial_state(2)
        for _ in range(6):
            _, state = m.step(torch.rand(2, 1, H, W) * 5, state)
            for i, cell in enumerate(m.cells):
                s = state[2 * i + 1]
                assert set(s.unique().tolist()) <= {0.0, 1.0}  # binary spikes
                for g in gates(cell, s):
                    assert g.min() >= 0 and g.max() <= 2  # 1 + tanh: (0, 2)


@pytest.mark.fast
def test_paper_sizes_behind_the_flag():
    m = build_model("stclif", {"height": 200, "width": 200, "size": "paper", "hidden": [256] * 3,
                               "kernel": 5, "patch": 2})  # fmt: skip
    assert 3_000_000 < count_parameters(m) < 4_500_000  # the paper: about 3 M


@pytest.mark.fast
def test_sequence_model_refuses_a_next_frame_library(crack_lib_path, tmp_path, capsys):
    rc = main(["train", "--model", "stclif", "--library", str(crack_lib_path), "--epochs", "1",
               "-o", str(tmp_path / "run")])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "10 -> 10" in err[0] and "3 -> 1" in err[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.fast
def test_unknown_model_and_too_short_sequences(tmp_path, capsys):
    import numpy as np

    from edge_shm.data.library import write_library

    lib = tmp_path / "short.h5"  # 10 -> 10 windows, but 15-frame sequences
    write_library(lib, np.zeros((3, 15, 16, 24), np.float32), np.array([0, 0, 1], np.int8),
                  kind="imported", generator="test", seed=None, pixel_mm=1.0, params={},
                  units={}, window=(10, 10, 0))  # fmt: skip
    rc = main(["train", "--model", "nosuch", "--library", str(lib), "-o", str(tmp_path / "a")])
    assert rc == 2 and "unknown model" in capsys.readouterr().err
    rc = main(["train", "--model", "convlstm", "--library", str(lib), "-o", str(tmp_path / "b")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "do not fit samples of 15 frames" in err[0], err
