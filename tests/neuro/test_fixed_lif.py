"""The integer neurons by closed-form cases, and every neuron's Lava parameters."""

import numpy as np
import pytest

from edge_shm.neuro.fixed_lif import Int8LIF, LoihiLIF, decay, wrap_u
from edge_shm.neuro.lif import FloatLIF, LIFParams

pytestmark = pytest.mark.fast


def _step(neuron, current, v=None):
    current = np.asarray(current, np.int64)
    state = neuron.initial_state(current.shape)
    if v is not None:
        state = state._replace(v=np.asarray(v, np.int64))
    return neuron.step(current, state)


def test_decay_truncates_towards_zero():
    assert decay(np.array([-53, 53, -1, 1, 0]), 2048).tolist() == [-26, 26, 0, 0, 0]
    # a floor would give -27 and -1
    z, v_pre, _ = _step(LoihiLIF(dv=2048, vth=1000), [0, 0], v=[-53, -1])
    assert v_pre.tolist() == [-26, 0] and not z.any()


def test_loihi_current_enters_as_a_shl_6_and_wraps_once():
    assert wrap_u(np.array([2**23, 2**23 + 1, -(2**23), -(2**23) + 1])).tolist() == [
        2**23, -(2**23) + 1, 2**23, -(2**23) + 1
    ]  # fmt: skip
    z, v_pre, new = _step(LoihiLIF(dv=0, vth=2**17), [3, 2**17 + 1, -(2**17)])
    # 3 << 6; 2**23 + 64 wraps to 64 - 2**23; -2**23 wraps to 2**23, then v saturates
    assert new.u.tolist() == [192, 64 - 2**23, 2**23]
    assert v_pre.tolist() == [192, 64 - 2**23, 2**23 - 1] and not z.any()


def test_loihi_threshold_is_strict_and_resets_to_zero():
    z, v_pre, new = _step(LoihiLIF(dv=0, vth=100), [100, 101])
    assert v_pre.tolist() == [6400, 6464]  # compared with vth << 6 = 6400
    assert z.tolist() == [False, True] and new.v.tolist() == [6400, 0]


def test_loihi_current_has_no_memory():
    neuron = LoihiLIF(dv=4096, vth=1000)  # dv 4096: the membrane forgets too
    state = neuron.initial_state((1,))
    _, _, state = neuron.step(np.array([50]), state)
    _, v_pre, state = neuron.step(np.array([0]), state)
    assert v_pre.tolist() == [0] and state.u.tolist() == [0]


def test_int8_requantisation_rounds_half_up():
    """a = (acc M + 2**(sh-1)) >> sh with M = 3, sh = 2: acc 3/4 of a unit; dv 4096 leaves
    v_pre = a."""
    z, v_pre, new = _step(Int8LIF(dv=4096, vth=100, multiplier=3, shift=2), [1, -1, 2, -2, 6])
    assert v_pre.tolist() == [1, -1, 2, -1, 5]  # 0.75, -0.75, 1.5, -1.5, 4.5
    assert new.u.tolist() == v_pre.tolist() and not z.any()


def test_int8_membrane_saturates_at_int16():
    neuron = Int8LIF(dv=0, vth=2**15 - 1, multiplier=1, shift=1)
    z, v_pre, _ = _step(neuron, [10**9, -(10**9), 0], v=[0, 0, 30000])
    assert v_pre.tolist() == [2**15 - 1, -(2**15), 30000]
    assert not z.any()  # 32767 is not above the threshold 32767


def test_int8_threshold_is_strict():
    z, v_pre, new = _step(Int8LIF(dv=0, vth=10, multiplier=1, shift=1), [20, 22])
    assert v_pre.tolist() == [10, 11] and z.tolist() == [False, True]
    assert new.v.tolist() == [10, 0]


def test_lava_parameters_of_each_neuron():
    assert LoihiLIF(dv=512, vth=77).lava_params() == {
        "du": 4095, "dv": 512, "vth": 77, "bias_mant": 0, "bias_exp": 0
    }  # fmt: skip
    with pytest.raises(ValueError, match="int8"):
        Int8LIF(1, 1, 1, 1).lava_params()
    f = FloatLIF(LIFParams.from_continuous(4e-3, 2.0, 0.0, 0.5, 0.0, dt=1e-3))
    assert f.lava_params() == {"du": 1.0, "dv": 0.25, "vth": 0.5, "bias_mant": 0.0}
    assert f.input_gain == 0.5
    for bad in (LIFParams(dv=0.5, v_leak=0.1), LIFParams(dv=np.array([0.5, 0.25]))):
        with pytest.raises(ValueError, match="Lava's LIF needs"):
            FloatLIF(bad).lava_params()
