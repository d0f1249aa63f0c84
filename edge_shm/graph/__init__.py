"""The deployment graph: what a model lowers itself to, and what every backend consumes.

A :class:`~edge_shm.graph.graph.DeploymentGraph` is a chain of small dataclasses
(:mod:`edge_shm.graph.nodes`): convolutions and LIF populations, one graph step per input
frame, followed by fixed output operations (a depth-to-space re-indexing, ...). The NIR writer,
the Lava bundle, the numpy reference simulator and the integer engine read this graph; none of
them knows a layer name. Torch-free.
"""

from edge_shm.graph.graph import DeploymentGraph, GraphError
from edge_shm.graph.nodes import LIF, Conv, DepthToSpace, KeepCracked, post_op_from_dict
from edge_shm.graph.trace import SequenceTrace, Trace

__all__ = [
    "LIF",
    "Conv",
    "DepthToSpace",
    "KeepCracked",
    "DeploymentGraph",
    "GraphError",
    "SequenceTrace",
    "Trace",
    "post_op_from_dict",
]
