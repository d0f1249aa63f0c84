"""The one chain stepper: float stages give the float simulator's numbers (checked against a
walk written out here), integer stages the integer engine's, and every runtime's trace reads
as a dict."""

import numpy as np
import pytest

from edge_shm.firmware_sim.int_engine import IntEngine
from edge_shm.graph.nodes import Conv
from edge_shm.graph.simulate import GraphStepper, graph_stages
from edge_shm.neuro.chain import ChainStepper
from edge_shm.neuro.conv import conv2d
from edge_shm.neuro.fixed_lif import FIXED_NEURONS
from edge_shm.neuro.lif import LIFState, lif_step
from edge_shm.neuro.precision import precision
from edge_shm.neuro.trace import SequenceTrace

pytestmark = pytest.mark.fast


def _frames(t, h, w, seed=0):
    return np.random.default_rng(seed).random((t, h, w))


def _float_walk(graph, frames):
    """The float simulation written out: conv2d, then the LIF step, layer by layer."""
    state = {
        n: LIFState(np.zeros((1, *s)), np.zeros((1, *s))) for n, s in graph.lif_shapes().items()
    }
    preds, spikes = [], {n: [] for n in state}
    for f in frames:
        x = f[None, None].astype(np.float64)
        for layer in graph.layers:
            if isinstance(layer, Conv):
                x = conv2d(x, layer.weight, layer.bias, layer.stride, layer.padding, layer.dilation)
            else:
                z, _, state[layer.name] = lif_step(x, state[layer.name], layer.params(graph.dt))
                spikes[layer.name].append(z[0])
                x = z.astype(np.float64)
        preds.append(graph.apply_post(x, f[None, None])[0, 0])
    return np.stack(preds), {n: np.stack(s) for n, s in spikes.items()}


def test_float_stages_step_as_the_written_out_simulation(tiny_graph):
    frames = _frames(6, 6, 8)
    want_pred, want_spikes = _float_walk(tiny_graph, frames)
    got = GraphStepper(tiny_graph).run(frames)
    assert np.array_equal(got.prediction, want_pred)
    for name, s in want_spikes.items():
        assert 0 < s.mean() < 1, name  # the test graph spikes, but not everywhere
        assert np.array_equal(got.spikes[name], s), name
    # a bare chain over the same stages gives the readout the output operations start from
    bare = ChainStepper(graph_stages(tiny_graph)).run(frames)
    assert np.array_equal(bare.readout, got.readout)
    assert np.array_equal(tiny_graph.apply_post(got.readout, frames[:, None])[:, 0], want_pred)


def _dense_integer_walk(fixed, frames):
    """The integer engine written out with dense convolutions (float64 sums of small
    integers are exact) and the precision's neurons and sum rule."""
    prec = precision(fixed.target)
    v = {la.lif: np.zeros(la.out_shape, np.int64) for la in fixed.layers if la.lif}
    reads, spikes = [], {n: [] for n in v}
    for f in frames:
        x = fixed.quantize(f)
        for la in fixed.layers:
            geometry = (la.stride, la.padding, la.dilation)
            acc = conv2d(x[None].astype(np.float64), la.weight.astype(np.float64), None, *geometry)
            acc = acc[0]
            a = prec.synaptic_sum(np.rint(acc).astype(np.int64), la.bias[:, None, None])
            if la.lif is None:
                reads.append(a)
                break
            neuron = FIXED_NEURONS[fixed.target].of(la)
            z, _, st = neuron.step(a, LIFState(np.zeros_like(a), v[la.lif]))
            v[la.lif] = st.v
            spikes[la.lif].append(z)
            x = z.astype(np.int64)
    return np.stack(reads), {n: np.stack(s) for n, s in spikes.items()}


def test_integer_stages_step_as_the_written_out_engine(fixed):
    frames = _frames(5, 4, 5, seed=1)
    want_read, want_spikes = _dense_integer_walk(fixed, frames)
    engine = IntEngine(fixed)
    got = engine.run(frames)
    assert np.array_equal(got["readout"], want_read) and np.any(want_read)
    for name, s in want_spikes.items():
        assert 0 < s.mean() < 1, name
        assert np.array_equal(got["spikes"][name], s)
    pixels = [fixed.quantize(f) for f in frames]
    want_pred = np.stack([fixed.forecast(r, p)[0] for r, p in zip(want_read, pixels, strict=True)])
    assert np.array_equal(got["prediction"], want_pred)
    assert engine.ops.neuron_updates == 5 * 2 * 4 * 5  # steps x neurons
    assert engine.ops.bias_ops == 5 * (2 + 1) * 4 * 5  # both layers have a bias


def test_every_runtime_result_reads_as_a_dict(fixed):
    res = IntEngine(fixed).run(_frames(2, 4, 5))
    assert isinstance(res, SequenceTrace)
    assert res["readout"] is res.readout and res["spikes"] is res.spikes
    assert res["prediction"].shape == (2, 4, 5) and res["v_pre"]["l1"].shape == (2, 2, 4, 5)
    with pytest.raises(KeyError):
        res["delays"]


def test_state_is_explicit_and_the_unbatched_engine_refuses_a_batch(fixed, tiny_graph):
    engine = IntEngine(fixed)
    state = engine.initial_state()
    assert state["l1"].v.shape == (2, 4, 5) and state["l1"].v.dtype == np.int64
    with pytest.raises(ValueError, match="one sequence"):
        engine.initial_state(2)
    assert GraphStepper(tiny_graph).initial_state(3)["l2"].v.shape == (3, 4, 3, 4)
    # stepping does not touch the state it was given
    frame = _frames(1, 4, 5)[0]
    _, new = engine.step(frame, state)
    assert not state["l1"].v.any() and new is not state


def test_a_chain_must_end_in_a_readout(tiny_graph):
    stages = graph_stages(tiny_graph)
    with pytest.raises(ValueError, match="readout"):
        ChainStepper(stages[:-1])
