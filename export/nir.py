"""NIR graph of a model's deployment graph, written with the ``nir`` package.

Not norse 1.1.0's ``to_nir`` (it writes tau = dt / tau_mem_inv, leaves Conv2d input_shape unset
and cannot map ConvTranspose2d): the model lowers itself to the deployment graph
(:mod:`edge_shm.models.lowering` says how each torch layer maps) and :mod:`edge_shm.graph.nir_io`
writes it. NIR has no dt: the metadata records it (s).
"""

from __future__ import annotations

from pathlib import Path

from edge_shm.graph.nir_io import write_nir


def transposed_note(graph) -> dict:
    names = [
        layer.name for layer in graph.layers if getattr(layer, "source", "") == "ConvTranspose2d"
    ]
    if not names:
        return {}
    return {
        "conv_transpose": f"{', '.join(names)} are stride-1 ConvTranspose2d written as "
        "Conv2d (kernel flipped, channels swapped, padding d(k-1)-p)"
    }


def export_nir(model, config: dict, path: Path, consumer: str = "generic") -> dict:
    """Write ``model``'s graph for ``consumer`` (export/nir_consumers.py); refuses (one line,
    nothing written) when that consumer cannot compute it."""
    from edge_shm.export.nir_consumers import adapt_graph

    graph, meta = adapt_graph(model.lower(), consumer)
    write_nir(graph, path, {**transposed_note(graph), **meta})
    lifs = graph.lif_layers()
    return {
        "written_for": consumer,
        "load": meta["consumer_load"],
        "nodes": ["input", *[layer.name for layer in graph.layers], "output"],
        "dt": float(graph.dt),
        "tau": float(lifs[0].scalar("tau")) if lifs else None,
        "post": [op.to_dict() for op in graph.post],
        "bytes": path.stat().st_size,
    }
