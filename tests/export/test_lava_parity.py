"""Lava floating_pt runs the exported bundle (inside .venv-lava) and agrees with torch.

Real Lava, full frames (96 x 132), the full 8-frame rollout of one held-out sample.
"""

from __future__ import annotations

import numpy as np
import pytest

from edge_shm.cli import main
from edge_shm.export.reference import torch_trace
from edge_shm.export.verify import THRESHOLD_TOL, spike_report
from edge_shm.firmware_sim.bundle import read_bundle
from edge_shm.firmware_sim.lava.host import run_bundle
from edge_shm.runs import load_run


@pytest.fixture(scope="module")
def bundle(spiking_snn_run, tmp_path_factory, lava_python):
    out = tmp_path_factory.mktemp("lava") / "bundle"
    rc = main(["export", str(spiking_snn_run), "--target", "lava", "-o", str(out)])
    assert rc == 0
    return out


def test_bundle_manifest(bundle):
    b = read_bundle(bundle)
    m = b.manifest
    assert m.version == 2 and m.post == []
    assert m.frame_shape == [96, 132] and m.dt == pytest.approx(1e-3)
    assert [n.name for n in m.neurons] == ["lif1", "lif2", "lif3"]
    assert all(n.lava_du == 1 and n.lava_dv == 0.5 and n.input_scale == 0.5 for n in m.neurons)
    assert m.alignment["layer_delay_steps"] == {"lif1": 1, "lif2": 2, "lif3": 3, "readout": 4}
    assert m.synapses[0].graded_input and not m.synapses[1].graded_input
    assert m.synapses[2].source == "ConvTranspose2d" and m.synapses[2].kernel == [3, 3]
    assert "test split" in m.probe["source"]
    exp = b.expected()
    assert exp["prediction"].shape == (8, 96, 132)


def test_lava_matches_torch_after_delay_alignment(bundle, spiking_snn_run, held_out, lava_python):
    model, _ = load_run(spiking_snn_run)
    seq = held_out[1]  # another held-out sample than the bundle's probe
    (got,) = run_bundle(bundle, seq[None], python=lava_python)
    assert got.delays == {"lif1": 1, "lif2": 2, "lif3": 3, "readout": 4}
    assert got.steps == len(seq) + 4
    ref = torch_trace(model, seq)
    rep = spike_report(ref, got.spikes, got.prediction, model.thresholds())
    for name, layer in rep["layers"].items():
        assert layer["spike_rate"] > 1e-3, f"{name} should spike"
    assert rep["agreement"] >= 0.9999
    assert rep["max_abs_frame_diff"] <= 1e-4
    assert rep["unexplained"] == 0  # any disagreement sits within rounding of the threshold
    for name in ref.spikes:
        diff = ref.spikes[name] != got.spikes[name]
        assert np.all(np.abs(ref.v_pre[name][diff] - 1.0) < THRESHOLD_TOL)
    # The alignment matters: one step off, the spikes no longer match.
    off = got.spikes["lif3"][1:] != ref.spikes["lif3"][:-1]
    assert off.mean() > 1e-3
