"""NIR graph: written with the nir package, read back type-checked, simulated without torch."""

from __future__ import annotations

import nir
import numpy as np
import pytest
import torch

from edge_shm.export.nir import export_nir
from edge_shm.export.reference import torch_trace
from edge_shm.export.verify import THRESHOLD_TOL, spike_report
from edge_shm.firmware_sim.nir_sim import NIRStepper
from edge_shm.models.lowering import lower_conv
from edge_shm.neuro.conv import conv2d
from edge_shm.runs import load_run


@pytest.fixture(scope="module")
def nir_file(spiking_snn_run, tmp_path_factory):
    model, config = load_run(spiking_snn_run)
    path = tmp_path_factory.mktemp("nir") / "snn.nir"
    export_nir(model, config, path)
    return model, path


def test_nir_graph_content(nir_file):
    model, path = nir_file
    g = nir.read(str(path), type_check=True)
    assert [type(g.nodes[n]).__name__ for n in ("conv1", "lif1", "deconv1", "deconv2")] == [
        "Conv2d",
        "LIF",
        "Conv2d",
        "Conv2d",
    ]
    assert float(np.asarray(g.metadata["dt"])) == pytest.approx(1e-3)
    for lif in ("lif1", "lif2", "lif3"):
        node = g.nodes[lif]
        assert np.allclose(node.tau, 2e-3) and np.allclose(node.v_threshold, 1.0)
        assert np.allclose(node.r, 1.0) and np.allclose(node.v_leak, 0.0)
    h, w = model.height, model.width
    for conv in ("conv1", "conv2", "deconv1", "deconv2"):
        assert tuple(g.nodes[conv].input_shape) == (h, w)
    assert list(g.nodes["output"].output_type["output"]) == [1, h, w]


def test_conv_transpose_is_the_flipped_conv(nir_file):
    model, _ = nir_file
    x = torch.randn(1, 4, 9, 11, dtype=torch.float64)
    node = lower_conv("deconv1", model.deconv1)
    want = (
        torch.nn.functional.conv_transpose2d(
            x, model.deconv1.weight.double(), model.deconv1.bias.double(), padding=1
        )
        .detach()
        .numpy()
    )
    got = conv2d(
        x.numpy(),
        node.weight.astype(np.float64),
        node.bias,
        node.stride,
        node.padding,
        node.dilation,
    )
    assert node.source == "ConvTranspose2d"
    assert np.abs(got - want).max() < 1e-5


def test_numpy_nir_simulator_matches_torch(nir_file, held_out):
    model, path = nir_file
    sim = NIRStepper(path)
    for seq in held_out[:2]:  # full 8-frame rollouts of held-out samples
        ref = torch_trace(model, seq)
        got = sim.run(seq)
        rep = spike_report(ref, got.spikes, got.prediction, model.thresholds())
        for name, layer in rep["layers"].items():
            assert layer["spike_rate"] > 1e-3, f"{name} should spike"
        assert rep["agreement"] >= 0.9999
        assert rep["max_abs_frame_diff"] <= 1e-4
        # every disagreeing spike sits on the threshold (float32 torch vs float64 numpy)
        assert rep["unexplained"] == 0
        for name in ref.spikes:
            diff = ref.spikes[name] != got.spikes[name]
            assert np.all(np.abs(got.v_pre[name][diff] - 1.0) < THRESHOLD_TOL)
