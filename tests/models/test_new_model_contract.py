"""A new spiking model, defined here and nowhere else, goes through every backend.

The acceptance test of the predictor contract and the deployment graph: a stride-2
convolution, a dilated convolution, two LIF layers (the base SNN has three) and a 1x1 readout
whose channels a depth-to-space re-indexing turns back into a full frame. It is registered,
trained for one step, and exported to ONNX, NIR and Lava with verification on held-out frames,
with no edit to ``export/``, ``firmware_sim/`` or the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn

from edge_shm.cli import main
from edge_shm.graph import DepthToSpace
from edge_shm.jsonio import read_json, write_json
from edge_shm.models import ModelConfig, register
from edge_shm.models.chain import SpikingChain
from edge_shm.models.lif import LIFBox
from edge_shm.runs import save_tensors
from edge_shm.training import TrainConfig, load_run, train


@dataclass
class StridedConfig(ModelConfig):
    channels: int = 6


@register("test-strided-snn")
class StridedSNN(SpikingChain):
    config_class = StridedConfig

    def build_layers(self, c: StridedConfig):
        return [
            ("down", nn.Conv2d(1, c.channels, 3, stride=2, padding=1)),
            ("lif_a", LIFBox(decay=0.5, v_th=1.0)),
            ("wide", nn.Conv2d(c.channels, c.channels, 3, padding=2, dilation=2)),
            ("lif_b", LIFBox(decay=0.5, v_th=1.0)),
            ("readout", nn.Conv2d(c.channels, 4, 1)),
        ]

    def build_post(self, c: StridedConfig):
        return [DepthToSpace(2)]


@pytest.fixture(scope="module")
def strided_run(crack_lib, tmp_path_factory):
    run = tmp_path_factory.mktemp("strided") / "run"
    cfg = TrainConfig(model="test-strided-snn", epochs=1, batch_size=4, max_train_windows=4)
    train(crack_lib, run, cfg)
    # one step of training leaves it nearly silent: scale so that both layers fire
    model, config = load_run(run)
    with torch.no_grad():
        model.down.weight.mul_(8.0)
        model.down.bias.add_(0.3)
        model.wide.weight.mul_(6.0)
    config["weights_sha256"] = save_tensors(run / "weights.safetensors", model.state_dict())
    write_json(run / "config.json", config)
    return run


def test_the_new_model_trains_and_keeps_the_contract(strided_run, crack_lib):
    metrics = read_json(strided_run / "metrics.json")
    assert metrics["epochs_done"] == 1 and np.isfinite(metrics["final_train_loss"])
    model, _ = load_run(strided_run)
    assert model.capabilities.spiking and model.state_names == ("v1", "v2")
    x = torch.from_numpy(crack_lib.frames[:2, :3]).unsqueeze(2)
    with torch.no_grad():
        y = model(x)
        state, steps = model.initial_state(2), []
        for t in range(3):
            out, state = model.step(x[:, t], state)
            steps.append(out)
    assert y.shape == (2, 3, 1, 96, 132)
    assert torch.equal(torch.stack(steps, 1), y)
    g = model.lower()
    assert [type(n).__name__ for n in g.layers] == ["Conv", "LIF", "Conv", "LIF", "Conv"]
    assert g.layers[0].stride == (2, 2) and g.layers[2].dilation == (2, 2)
    assert g.output_shape == (1, 96, 132)


@pytest.mark.parametrize("target", ["onnx", "nir", "lava"])
def test_the_new_model_exports_with_verification(target, strided_run, tmp_path, capsys, request):
    if target == "lava":
        request.getfixturevalue("lava_python")
    out = tmp_path / target
    assert main(["export", str(strided_run), "--target", target, "-o", str(out)]) == 0
    ver = read_json(out / "export.json")["verification"]
    assert ver["ok"]
    if target == "onnx":
        assert ver["max_abs_diff"] <= 1e-5
    else:
        assert ver["agreement"] >= 0.9999 and ver["max_abs_frame_diff"] <= 1e-4
        assert 0.005 < ver["spike_rate"] < 0.5  # both layers fire: the parity is not trivial
    if target == "lava":
        assert ver["delays"] == {"lif_a": 1, "lif_b": 2, "readout": 3}
    # the simulate command runs the artefact and outputs full frames (after depth-to-space)
    frames = tmp_path / "f.npy"
    np.save(frames, _held(strided_run))
    sim = tmp_path / "sim"
    assert main(["simulate", str(out), "--frames", str(frames), "-o", str(sim)]) == 0
    assert np.load(sim / "predictions.npy").shape[-2:] == (96, 132)


def _held(run) -> np.ndarray:
    from edge_shm.data.library import read_library

    lib = read_library(read_json(run / "config.json")["library"])
    return lib.frames[lib.indices("test")[:1], :4]


@pytest.mark.fast
def test_every_registered_model_declares_its_protocol():
    """Spiking capability and the spiking protocol go together; window and gate arithmetic are
    declared on the class (no attribute is probed for)."""
    from edge_shm.models import SpikingPredictor, build_model, model_class, model_names

    for name in model_names():
        cls = model_class(name)
        model = build_model(name)
        assert cls.capabilities.spiking == isinstance(model, SpikingPredictor), name
        assert cls.window is None or (len(cls.window) == 2 and min(cls.window) >= 1), name
        assert (cls.window is None) == (cls.config_class.PAPER is None), name
        assert isinstance(cls.gate_arithmetic, bool), name
