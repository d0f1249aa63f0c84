"""Tiny graphs for the neuro tests: a float deployment graph and calibrated (integer) ones."""

import numpy as np
import pytest

from edge_shm.firmware_sim.fixed_graph import FixedGraph, FixedLayer
from edge_shm.graph import LIF, Conv, DeploymentGraph, DepthToSpace


@pytest.fixture
def tiny_graph() -> DeploymentGraph:
    """conv (1 -> 3, 3x3) -> LIF -> conv (3 -> 4, stride 2) -> LIF -> conv (4 -> 4) ->
    depth-to-space 2, on 6 x 8 frames; weights large enough that both populations spike."""
    rng = np.random.default_rng(7)
    layers = [
        Conv("c1", rng.normal(0, 1.5, (3, 1, 3, 3)), rng.normal(0, 0.2, 3), padding=1),
        LIF("l1", tau=2e-3, r=1.0, v_threshold=0.6),
        Conv("c2", rng.normal(0, 1.0, (4, 3, 3, 3)), None, stride=2, padding=1),
        LIF("l2", tau=4e-3, r=2.0, v_threshold=0.5),
        Conv("c3", rng.normal(0, 1.0, (4, 4, 1, 1)), rng.normal(0, 0.1, 4)),
    ]
    return DeploymentGraph("tiny", (1, 6, 8), layers, dt=1e-3, post=[DepthToSpace(2)])


def fixed_graph(target: str) -> FixedGraph:
    """A calibrated two-layer graph (conv 1 -> 2 -> LIF -> readout conv 2 -> 1) on 4 x 5
    frames, integers of ``target``."""
    rng = np.random.default_rng(3)
    lif = dict(dv=1024, vth=40) if target == "loihi" else dict(dv=1024, vth=3000)
    if target == "int8":
        lif.update(multiplier=20000, shift=14)
    geometry = dict(stride=(1, 1), padding=(1, 1), dilation=(1, 1))
    layers = [
        FixedLayer(
            "c1",
            "l1",
            rng.integers(-128, 128, (2, 1, 3, 3)),
            np.array([5, -7]),
            in_shape=(1, 4, 5),
            out_shape=(2, 4, 5),
            scale=64.0,
            **geometry,
            **lif,
        ),
        FixedLayer(
            "c2",
            None,
            rng.integers(-128, 128, (1, 2, 3, 3)),
            np.array([3]),
            in_shape=(2, 4, 5),
            out_shape=(1, 4, 5),
            scale=32.0,
            **geometry,
        ),
    ]
    return FixedGraph("tiny", target, (1, 4, 5), 255, 1e-3, layers)


@pytest.fixture(params=["loihi", "int8"])
def fixed(request) -> FixedGraph:
    return fixed_graph(request.param)
