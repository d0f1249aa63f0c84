"""The forecasting SNN: its size, its reach, the never-healing output, and its deployments."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edge_shm.errors import UserError
from edge_shm.models import build_model, count_parameters


@pytest.mark.fast
def test_size_and_receptive_field():
    m = build_model("forecast-snn")
    assert count_parameters(m) <= 20_000  # over 1,000x fewer than the base LSTM
    assert count_parameters(build_model("lstm")) / count_parameters(m) > 1000
    # receptive field: an impulse at one pixel reaches the readout up to 31 px away (63 px wide)
    m = build_model("forecast-snn", height=96, width=132).eval()
    g = m.lower()
    assert [op.to_dict()["op"] for op in g.post] == ["depth_to_space", "keep_cracked"]
    size, step = 1, 1
    for layer in g.layers:
        if hasattr(layer, "kernel"):
            size += (layer.kernel[0] - 1) * layer.dilation[0] * step
            step *= layer.stride[0]
    assert size == 63 and size >= 2 * 16  # twice the 16 px per-frame tip advance


@pytest.mark.fast
def test_the_output_keeps_what_is_cracked():
    torch.manual_seed(0)
    m = build_model("forecast-snn", height=16, width=24).eval()
    frames = torch.zeros(2, 3, 1, 16, 24)
    frames[:, :, 0, 8, :10] = 1.0
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 1)  # whatever the weights, cracked pixels stay cracked
        y = m(frames)
    assert torch.all(y[:, -1, 0, 8, :10] == 1.0)


@pytest.mark.fast
def test_frame_sides_must_divide_by_4():
    with pytest.raises(UserError, match="divide by 4"):
        build_model("forecast-snn", height=18, width=24)


@pytest.mark.fast
def test_step_equals_forward_and_lowering_matches_torch():
    from edge_shm.graph.simulate import GraphStepper

    torch.manual_seed(2)
    m = build_model("forecast-snn", height=24, width=32).eval()
    with torch.no_grad():
        m.down2.weight.mul_(4)
        m.context1.weight.mul_(4)
        m.context2.weight.mul_(4)
    x = torch.rand(1, 4, 1, 24, 32)
    with torch.no_grad():
        y = m(x)
    sim = GraphStepper(m.lower())
    got = sim.run(x[0, :, 0].numpy())
    assert np.abs(got.prediction - y[0, :, 0].numpy()).max() < 1e-5
    assert sum(s.sum() for s in got.spikes.values()) > 0


@pytest.fixture(scope="module")
def firing_forecast_run(crack_lib, tmp_path_factory):
    """The forecasting SNN after one training step, scaled so that every layer fires."""
    from edge_shm.jsonio import write_json
    from edge_shm.runs import save_tensors
    from edge_shm.training import TrainConfig, load_run, train

    run = tmp_path_factory.mktemp("fsnn") / "run"
    cfg = TrainConfig(
        model="forecast-snn", epochs=1, batch_size=4, max_train_windows=4, loss="growth"
    )
    train(crack_lib, run, cfg)
    model, config = load_run(run)
    with torch.no_grad():
        for name in ("down2", "context1", "context2"):
            getattr(model, name).weight.mul_(6.0)
    config["weights_sha256"] = save_tensors(run / "weights.safetensors", model.state_dict())
    write_json(run / "config.json", config)
    return run


@pytest.mark.parametrize("target", ["onnx", "nir", "lava"])
def test_it_deploys_with_verification(target, firing_forecast_run, tmp_path, request):
    from edge_shm.cli import main
    from edge_shm.jsonio import read_json

    if target == "lava":
        request.getfixturevalue("lava_python")
    out = tmp_path / target
    assert main(["export", str(firing_forecast_run), "-t", target, "-o", str(out)]) == 0
    ver = read_json(out / "export.json")["verification"]
    assert ver["ok"]
    if target != "onnx":
        assert ver["agreement"] >= 0.9999 and ver["max_abs_frame_diff_tie_free"] <= 1e-4
        layers = ver.get("spike_rate", 0)
        assert layers > 1e-3  # the comparison is not between two silent networks
    if target == "lava":
        from edge_shm.firmware_sim.bundle import read_bundle

        m = read_bundle(out).manifest
        assert m.post == [{"op": "depth_to_space", "factor": 4}, {"op": "keep_cracked"}]
        assert m.synapses[0].stride == [2, 2] and m.synapses[3].dilation == [4, 4]
