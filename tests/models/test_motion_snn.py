"""The motion SNN: an ensemble over the codec's tiles whose untrained answer is constant
velocity, whose members stay apart, and whose graph carries its codec."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edge_shm.evaluation.forecast import MotionFrameForecaster, TorchStepper
from edge_shm.firmware_sim.codec import CodecStepper
from edge_shm.graph.nir_io import read_nir, write_nir
from edge_shm.models import build_model
from edge_shm.vector.motion import observe


def _straight(lengths, shape=(96, 132)):
    frames = np.zeros((len(lengths), *shape), np.float32)
    for f, n in zip(frames, lengths, strict=True):
        f[shape[0] // 2 : shape[0] // 2 + 2, :n] = 1.0
    return frames


@pytest.mark.fast
def test_an_untrained_network_forecasts_constant_velocity_at_any_frame_size():
    model = build_model("motion-snn")
    for shape, lengths in (((96, 132), [20, 28, 36, 44]), ((200, 300), [40, 70, 100, 130])):
        frames = _straight(lengths, shape)
        got = MotionFrameForecaster(model)(frames[None, :3])[0]
        assert got.shape == shape
        assert abs(observe(got).tip[1] - observe(frames[3]).tip[1]) <= 1.0


def test_members_stay_independent_through_training():
    torch.manual_seed(0)
    model = build_model("motion-snn", members=3, hidden=[8, 8])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x = torch.rand(16, 3, 1, model.height, model.width)
    for _ in range(3):
        loss = model.corrections(x).pow(2).sum() + model(x).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    w2, wr = model.hidden2.weight[:, :, 0, 0], model.readout.weight[:, :, 0, 0]
    for j in range(3):
        for i in range(3):
            if i != j:
                assert torch.all(w2[j * 8 : (j + 1) * 8, i * 8 : (i + 1) * 8] == 0)
                assert torch.all(wr[2 * j : 2 * j + 2, i * 8 : (i + 1) * 8] == 0)
    assert torch.all(wr[6:] == 0)  # tile entries past the members' readouts


@pytest.mark.fast
def test_the_graph_carries_the_codec_through_nir(tmp_path):
    model = build_model("motion-snn")
    graph = model.lower()
    assert graph.codec == model.codec.to_dict() and graph.input_shape == (1, 4, 4)
    write_nir(graph, tmp_path / "m.nir")
    assert read_nir(tmp_path / "m.nir").codec == graph.codec


@pytest.mark.parametrize("config", [{"n_in": 1}, {"members": 0}, {"height": 3, "width": 3}])
@pytest.mark.fast
def test_bad_configs_are_refused_in_one_line(config):
    from edge_shm.errors import UserError

    with pytest.raises(UserError):
        build_model("motion-snn", config)


def test_streaming_on_the_device_equals_windowed_forecasts(motion_run_dir, mixed_lib_path):
    """The codec around a stepper (what every device runs) gives the forecasts evaluate
    scores: staggered states, one per window, equal to re-running each window."""
    from edge_shm.data.library import read_library
    from edge_shm.onsite.streaming import StreamingForecaster
    from edge_shm.runs import load_run

    model, _ = load_run(motion_run_dir)
    frames = read_library(mixed_lib_path).split_frames("test")[:3]
    windowed = MotionFrameForecaster(model)
    for seq in frames:
        stream = StreamingForecaster(CodecStepper(TorchStepper(model), model.codec), 3, 1)
        for t, f in enumerate(seq):
            got = stream.push(f)
            if t >= 2:
                assert np.array_equal(got[0], windowed(seq[None, t - 2 : t + 1])[0])
