"""ONNX streaming step graphs of the SNN and the LSTM equal torch over full held-out rollouts."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from edge_shm.evaluation.forecast import streaming_rollout
from edge_shm.export.onnx import OPSET, export_onnx
from edge_shm.firmware_sim.onnx_runner import OnnxStepper
from edge_shm.firmware_sim.stepper import stream
from edge_shm.runs import load_run


@pytest.mark.parametrize("which", ["snn", "lstm"])
def test_onnx_step_graph_matches_torch(which, spiking_snn_run, lstm_run_dir, held_out, tmp_path):
    run = spiking_snn_run if which == "snn" else lstm_run_dir
    model, config = load_run(run)
    path = tmp_path / "m.onnx"
    info = export_onnx(model, config, path)
    proto = onnx.load(str(path), load_external_data=False)
    onnx.checker.check_model(str(path))
    assert info["opset"] == OPSET == proto.opset_import[0].version
    names = list(model.state_names)
    assert [i.name for i in proto.graph.input] == ["frame", *names]
    assert [o.name for o in proto.graph.output] == ["prediction", *[f"{n}_next" for n in names]]
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["edge_shm_model"] == which
    # full rollout (every frame of every held-out sample), state carried by the caller
    frames = held_out
    ref = streaming_rollout(model, frames)
    got = stream(OnnxStepper(path), frames)
    assert got.shape == frames.shape
    assert np.abs(got - ref).max() <= 1e-5
    assert np.abs(ref).max() > 0.01  # not a trivial all-zero comparison
