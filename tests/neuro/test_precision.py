"""The deployed precisions: byte sizes, the registry and its old names, the synaptic sum rule,
and the profiler and the integer engine reading the same state bytes."""

import numpy as np
import pytest

from edge_shm.firmware_sim.int_engine import IntEngine
from edge_shm.neuro.precision import (
    FLOAT32,
    INT8,
    LOIHI,
    PRECISIONS,
    precision,
    saturate,
    wrap,
    wrap24,
)
from edge_shm.profile import memory

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    "p,sizes",
    [(FLOAT32, (4, 4, 4, 4)), (INT8, (1, 2, 1, 1)), (LOIHI, (1, 3, 1, 1))],
)
def test_byte_sizes_per_precision(p, sizes):
    """(weight, state per neuron, activation, input pixel) in bytes; state is the membrane v
    only: int16 for int8, 24 bit for Loihi (du = 4095 leaves the current no memory)."""
    assert (p.weight_bytes, p.state_bytes, p.activation_bytes, p.input_bytes) == sizes
    if p.state_bits is not None:
        assert p.state_bytes * 8 == p.state_bits


def test_the_registry_knows_three_precisions_and_the_old_loihi8_name():
    assert list(PRECISIONS) == ["float32", "int8", "loihi"]
    assert precision("loihi8") is LOIHI and precision("loihi") is LOIHI
    assert precision("int8") is INT8 and precision("float32") is FLOAT32
    with pytest.raises(ValueError, match="unknown precision 'int4'.*loihi8"):
        precision("int4")


def test_wrap_and_saturate_at_the_edges():
    x = np.array([2**23 - 1, 2**23, -(2**23), -(2**23) - 1, 3 * 2**24 + 5])
    assert wrap24(x).tolist() == [2**23 - 1, -(2**23), -(2**23), 2**23 - 1, 5]
    assert wrap(np.array([128, -129]), 8).tolist() == [-128, 127]
    assert saturate(np.array([2**31, -(2**31) - 1, 7]), 32).tolist() == [2**31 - 1, -(2**31), 7]


def test_loihi_wraps_the_sum_and_the_bias_apart_int8_saturates_their_sum():
    acc, bias = np.array([2**23, 10, 2**31]), np.array([2**23 + 1, -(2**24), 2**31])
    # each wraps alone, the sum at the LIF's a_in does not wrap again
    assert LOIHI.synaptic_sum(acc, bias).tolist() == [-(2**23) + -(2**23) + 1, 10, 0]
    assert INT8.synaptic_sum(acc, bias).tolist() == [2**24 + 1, 10 - 2**24, 2**31 - 1]
    assert FLOAT32.synaptic_sum(np.array([0.5]), np.array([0.25])).tolist() == [0.75]


def test_profile_tables_read_the_precisions():
    for col in memory.PRECISIONS:
        p = precision(col)
        assert memory.WEIGHT_BYTES[col] == p.weight_bytes
        assert memory.STATE_BYTES[col] == p.state_bytes
        assert memory.ACT_BYTES[col] == p.activation_bytes
        assert memory.INPUT_BYTES[col] == p.input_bytes
    assert memory.STATE_BYTES["loihi8"] == 3
    assert memory.column("loihi") == "loihi8" == memory.column("loihi8")


def test_the_profiler_and_the_engine_agree_on_state_bytes(fixed):
    neurons = sum(int(np.prod(la.out_shape)) for la in fixed.layers if la.lif)
    mem = IntEngine(fixed).memory_bytes()
    assert mem["state"] == neurons * memory.STATE_BYTES[memory.column(fixed.target)]
    assert mem["state"] == neurons * (3 if fixed.target == "loihi" else 2)
    assert mem["weights"] == sum(la.weight.size for la in fixed.layers)
    assert mem["biases"] == 4 * sum(la.bias.size for la in fixed.layers)
