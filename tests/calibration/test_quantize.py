"""Quantisers, the Loihi fixed-point neuron step by hand, and the event-driven synapses."""

import numpy as np
import pytest

from edge_shm.calibration.calibrate import mantissa_exponent, quantize
from edge_shm.firmware_sim.int_engine import scatter_conv
from edge_shm.neuro.conv import conv2d
from edge_shm.neuro.fixed_lif import Int8LIF, LoihiLIF, decay

pytestmark = pytest.mark.fast


def test_quantisers_round_trip_representable_values_exactly():
    rng = np.random.default_rng(0)
    m = rng.integers(-128, 128, 200)
    q, clipped = quantize(m * 0.03125, 0.03125, -128, 127)
    assert np.array_equal(q, m) and clipped == 0.0
    for e in (0, 3, 9):
        w, exp, clipped = mantissa_exponent((m << e).astype(np.float64))
        assert np.array_equal(w, m << e) and clipped == 0.0
        assert exp == e  # the smallest exponent that holds them
    w, exp, _ = mantissa_exponent(np.array([127.0, -128.0]))
    assert exp == 0 and w.tolist() == [127, -128]


def test_a_weight_beyond_range_is_reported_with_its_clipped_fraction():
    q, clipped = quantize(np.array([0.0, 1.0, 2.0, 300.0]), 1.0, -127, 127)
    assert q.tolist() == [0, 1, 2, 127] and clipped == 0.25
    q, clipped = quantize(np.array([-500.0, -3.0, 0.4, 200.0, 127.4]), 1.0, -127, 127)
    assert q.tolist() == [-127, -3, 0, 127, 127] and clipped == pytest.approx(0.4)


def test_two_neurons_by_hand_match_lavas_fixed_point_arithmetic():
    """Lava's PyLifModelBitAcc with du = 4095, dv = 2048 (decay 1/2), vth = 100 (compared as
    vth << 6 = 6400, strict >), reset to 0; synaptic input a enters as a << 6. Hand-computed:
    neuron 0 reaches exactly 6400 (no spike: strict >), then decays towards zero, rounding
    towards zero (-53 -> -26, where a floor would give -27); neuron 1 spikes at step 2."""
    w = np.array([[100, -103], [50, 80]])
    inputs = [[1, 0], [0, 1]] + [[0, 0]] * 7
    neuron = LoihiLIF(dv=2048, vth=100)
    state, vs, ss = neuron.initial_state((2,)), [], []
    for x in inputs:
        s, _, state = neuron.step(w @ np.array(x), state)
        vs.append(state.v.tolist())
        ss.append(s.tolist())
    assert [row[0] for row in vs] == [6400, -3392, -1696, -848, -424, -212, -106, -53, -26]
    assert [row[1] for row in vs[:3]] == [3200, 0, 0]  # 1600 + 80 * 64 = 6720 > 6400: spike
    assert ss[1] == [False, True] and not any(s[0] for s in ss)
    assert decay(np.array([-53, 53, -1]), 2048).tolist() == [-26, 26, 0]


def test_int8_neuron_saturates_its_int16_membrane():
    neuron = Int8LIF(dv=0, vth=40000, multiplier=1, shift=1)
    state = neuron.initial_state((2,))._replace(v=np.array([0, 30000]))
    s, _, state = neuron.step(np.array([10**9, 0]), state)
    assert state.v.tolist() == [32767, 30000] and not s.any()


@pytest.mark.parametrize("stride,padding,dilation", [(1, 1, 1), (2, 1, 1), (1, 2, 2), (2, 4, 4)])
def test_event_driven_synapses_equal_the_dense_convolution(stride, padding, dilation):
    rng = np.random.default_rng(stride * 10 + dilation)
    x = (rng.random((3, 12, 16)) < 0.1).astype(np.int64) * rng.integers(1, 4, (3, 12, 16))
    w = rng.integers(-128, 128, (5, 3, 3, 3))
    dense = conv2d(
        x[None].astype(np.float64), w.astype(np.float64), None, stride, padding, dilation
    )[0]
    out, ops, events = scatter_conv(
        x, w, (stride,) * 2, (padding,) * 2, (dilation,) * 2, dense.shape[1:]
    )
    assert np.array_equal(out, dense.astype(np.int64))
    assert events == np.count_nonzero(x)
    # each event reaches C_out outputs per kernel tap that lands inside the output
    dense_ones = conv2d(
        (x[None] != 0).astype(np.float64), np.ones((1, 3, 3, 3)), None, stride, padding, dilation
    )
    assert ops == 5 * int(dense_ones.sum())
