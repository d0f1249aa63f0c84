"""NIR files written for a named consumer: the parameters its importer needs to compute our steps.

NIR has no time step; each importer discretises ``tau dv/dt = (v_leak - v) + r I`` its own way
(read from their sources, the versions below):

- **norse** 1.1.0, ``norse.torch.from_nir(graph, dt=dt)``: forward Euler with the ``dt`` given
  (default 1e-3 s), ``LIFBoxCell`` with ``tau_mem_inv = 1 / tau``, spike ``v > v_th``, reset
  to 0 in the same step; ``r`` is ignored (a warning) and ``v_reset`` is not read (0).
  Our dynamics exactly; the file is the generic one, its metadata names the consumer and dt.
- **snntorch** 1.0.0, ``snntorch.import_nir.import_from_nir(graph)``: no dt argument, assumes
  ``dt = 1e-4`` s; ``Leaky(beta = 1 - dt / tau)``, threshold ``v_threshold / (r dt / tau)``
  (the input scale folded into the threshold), ``reset_mechanism = "zero"``,
  ``reset_delay = False`` (reset in the spike's step), spike ``mem > threshold``; asserts
  ``v_leak = 0`` and takes one threshold per layer. So tau is written for 1e-4 s
  (``tau' = tau x 1e-4 / dt``, the same ``dt / tau``) and the metadata dt is 1e-4; the membrane
  it carries is ours divided by ``r dt / tau``, the spikes and frames are ours.
- **sinabs** 3.1.3, ``sinabs.from_nir(graph, batch_size)``: ``LIFSqueeze(tau_mem = tau)`` with
  tau read as a number of steps (``alpha = exp(-1 / tau)``), ``norm_input = False``, ``r``
  ignored, and its defaults ``MultiSpike`` (``floor(v / threshold)`` spikes per step, from
  ``v >= threshold``) and ``MembraneSubtract`` (reset by subtracting the threshold per spike).
  No file makes it fire once and reset to zero: refused (see ``REFUSED``).
- **generic**: the file as the NIR standard reads it, ``dt`` in the metadata.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from edge_shm.errors import UserError
from edge_shm.graph.graph import DeploymentGraph
from edge_shm.graph.nodes import LIF


@dataclass(frozen=True)
class Consumer:
    name: str
    tested: str  # the release whose importer this was read from and tested against
    load: str  # how the consumer loads the file (Python)
    dt: float | None  # the time step the importer assumes, None: it takes ours


CONSUMERS = {
    c.name: c
    for c in (
        Consumer("generic", "NIR 1.0", "nir.read(path)  # dt in metadata['dt']", None),
        Consumer(
            "norse", "norse 1.1.0", "norse.torch.from_nir(nir.read(path), dt=metadata['dt'])", None
        ),
        Consumer(
            "snntorch",
            "snntorch 1.0.0",
            "snntorch.import_nir.import_from_nir(nir.read(path))  # reset_mem() per sequence",
            1e-4,
        ),
        Consumer("sinabs", "sinabs 3.1.3", "sinabs.from_nir(nir.read(path), batch_size=B)", None),
    )
}

REFUSED = {
    "sinabs": "sinabs 3.1.3's from_nir builds LIFSqueeze with its default MultiSpike "
    "(floor(v / threshold) spikes per step, firing at v >= threshold) and MembraneSubtract "
    "(reset by subtracting the threshold); edge-shm's LIF fires once when v > threshold and "
    "resets to 0, which no NIR file can make it do",
}


def _uniform(layer: LIF, key: str, consumer: str) -> float:
    v = np.asarray(getattr(layer, key), np.float64)
    if not np.all(v == v.flat[0]):
        raise UserError(
            f"--for {consumer}: layer {layer.name} has per-neuron {key}; {consumer} takes one "
            "per layer"
        )
    return float(v.flat[0])


def _require(layer: LIF, key: str, value: float, consumer: str, why: str) -> None:
    if _uniform(layer, key, consumer) != value:
        raise UserError(
            f"--for {consumer}: layer {layer.name} has {key} = "
            f"{_uniform(layer, key, consumer):g}; {why}"
        )


def adapt_graph(graph: DeploymentGraph, consumer: str) -> tuple[DeploymentGraph, dict]:
    """The graph to write for ``consumer`` and the metadata saying so.

    Raises a one-line :class:`UserError` when the consumer cannot compute the graph's
    dynamics (nothing is written then)."""
    if consumer not in CONSUMERS:
        raise UserError(f"--for {consumer!r}: choose one of {', '.join(CONSUMERS)}")
    c = CONSUMERS[consumer]
    lifs = graph.lif_layers()
    if consumer in REFUSED and lifs:
        raise UserError(f"--for {consumer}: refused: {REFUSED[consumer]}")
    meta = {"written_for": consumer, "consumer_tested": c.tested, "consumer_load": c.load}
    if consumer == "norse":
        for layer in lifs:
            _require(layer, "r", 1.0, consumer, "norse's importer ignores r (it assumes 1)")
            _require(layer, "v_reset", 0.0, consumer, "norse's importer does not read v_reset")
    if consumer == "snntorch":
        for layer in lifs:
            _require(layer, "v_leak", 0.0, consumer, "snnTorch's importer requires v_leak = 0")
            _require(layer, "v_reset", 0.0, consumer, "snnTorch's Leaky resets to zero")
            for key in ("tau", "r", "v_threshold"):
                _uniform(layer, key, consumer)
        scale = c.dt / graph.dt
        layers = [
            dataclasses.replace(x, tau=np.asarray(x.tau, np.float64) * scale)
            if isinstance(x, LIF)
            else x
            for x in graph.layers
        ]
        graph = dataclasses.replace(graph, layers=layers, dt=c.dt)
        meta["time_constants"] = (
            f"tau written for snnTorch 1.0.0's fixed dt = {c.dt:g} s (tau x {scale:g}); "
            "dt / tau, hence every step, unchanged"
        )
    return graph, meta


def consumer_of(metadata: dict) -> str:
    """Which consumer a NIR file was written for ('generic' for files before the option)."""
    v = metadata.get("written_for", "generic")
    v = v[()] if isinstance(v, np.ndarray) else v
    return v.decode() if isinstance(v, bytes) else str(v)
