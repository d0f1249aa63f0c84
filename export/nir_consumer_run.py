"""Run a NIR file inside the framework it was written for, the way that framework documents it.

Used by the export's verification (when the consumer is installed; it is a test dependency, not
a runtime one), by the tests and by ``make bench``. Spikes are read with forward hooks on the
consumer's own neuron modules, named by their NIR node; the readout goes through the output
operations of the file's metadata, as any consumer must do (NIR has no such node).
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError


@dataclass
class ConsumerRun:
    """One sequence run in a consumer: spikes per LIF layer (T, C, H, W), forecasts (T, H, W)."""

    spikes: dict[str, np.ndarray]
    prediction: np.ndarray
    facts: dict  # what the consumer built (decay, threshold per layer)


def installed(consumer: str) -> str | None:
    """The consumer's version when it imports, else None."""
    import importlib

    try:
        mod = importlib.import_module(consumer)
    except Exception:  # noqa: BLE001 - a broken install counts as not installed
        return None
    return str(getattr(mod, "__version__", "?"))


def _load(consumer: str, graph, dt: float):
    """(torch module, neuron module types, step(module, x, state) -> (readout, state))."""
    quiet = contextlib.redirect_stdout(io.StringIO())  # snntorch prints its scaling notes
    logging.disable(logging.WARNING)  # norse logs r != 1 warnings through logging
    try:
        with quiet:
            if consumer == "norse":
                import norse.torch
                from norse.torch.module.lif_box import LIFBoxCell

                return norse.torch.from_nir(graph, dt=dt), (LIFBoxCell,), _stateful
            if consumer == "snntorch":
                import snntorch
                from snntorch.import_nir import import_from_nir

                return import_from_nir(graph), (snntorch.Leaky,), _hidden
            if consumer == "sinabs":
                import sinabs
                import sinabs.layers as sl

                return sinabs.from_nir(graph, batch_size=1), (sl.LIFSqueeze,), _hidden
    finally:
        logging.disable(logging.NOTSET)
    raise UserError(f"no runner for consumer {consumer!r}")


def _stateful(module, x, state):
    return module(x, state)


def _hidden(module, x, state):
    out = module(x)
    return (out[0] if isinstance(out, tuple) else out), None


def _reset(module) -> None:
    for m in module.modules():
        if hasattr(m, "reset_mem"):  # snnTorch neurons (init_hidden)
            m.reset_mem()
        elif hasattr(m, "reset_states"):  # sinabs layers
            m.reset_states()


def _first(v) -> float:
    return float(v.detach().flatten()[0]) if hasattr(v, "detach") else float(v)


def _facts(module, kinds) -> dict:
    """Per neuron layer, the decay per step and the threshold the consumer built."""
    out = {}
    for name, m in module.named_modules():
        if not isinstance(m, kinds):
            continue
        if hasattr(m, "beta"):  # snnTorch Leaky: mem <- beta mem + x
            f = {"decay": _first(m.beta), "threshold": _first(m.threshold)}
        elif hasattr(m, "alpha_mem_calculated"):  # sinabs: v <- alpha v + x
            f = {"decay": _first(m.alpha_mem_calculated), "threshold": _first(m.spike_threshold)}
        else:  # norse LIFBoxCell: v <- v + dt tau_mem_inv ((v_leak - v) + x)
            f = {"decay": 1 - m.dt * _first(m.p.tau_mem_inv), "threshold": _first(m.p.v_th)}
        out[name.split(".")[-1]] = f
    return out


def run_consumer(consumer: str, nir_graph, dt: float, post, frames: np.ndarray) -> ConsumerRun:
    """``frames`` (T, H, W) through ``nir_graph`` loaded by ``consumer`` (norse, snntorch,
    sinabs), from a zero state; ``post(readout, frame)`` applies the output operations."""
    import torch

    module, kinds, step = _load(consumer, nir_graph, dt)
    _reset(module)
    spikes: dict[str, list] = {}

    def hook(name):
        def record(_m, _inp, out):
            z = out[0] if isinstance(out, tuple) else out
            spikes.setdefault(name, []).append(z.detach().cpu().numpy()[0].copy())

        return record

    for name, m in module.named_modules():
        if isinstance(m, kinds):
            m.register_forward_hook(hook(name.split(".")[-1]))
    preds, state = [], None
    with torch.no_grad():
        for f in np.asarray(frames, np.float32):
            x = torch.from_numpy(np.ascontiguousarray(f[None, None]))
            readout, state = step(module, x, state)
            preds.append(post(readout.numpy().astype(np.float64), f[None, None])[0, 0])
    return ConsumerRun(
        {k: np.stack(v) for k, v in spikes.items()}, np.stack(preds), _facts(module, kinds)
    )


def verify_in_consumer(model, path: Path, frames: np.ndarray, consumer: str) -> dict:
    """The file loaded by its consumer vs torch ``trace_step``: spikes per layer and frames,
    judged like the export verification (ties at the threshold explained)."""
    import nir

    from edge_shm.export.reference import torch_trace
    from edge_shm.export.spikes import merge, spike_report
    from edge_shm.graph.nir_io import from_nir

    version = installed(consumer)
    if version is None:
        return {"consumer": consumer, "ran": False, "why": f"{consumer} is not installed here"}
    g = nir.read(str(path))
    graph = from_nir(g)
    reps = []
    facts = {}
    for seq in frames:
        run = run_consumer(consumer, g, graph.dt, graph.apply_post, seq)
        facts = run.facts
        bits = {k: np.minimum(v, 1) for k, v in run.spikes.items()}
        reps.append(spike_report(torch_trace(model, seq), bits, run.prediction, model.thresholds()))
    res = merge(reps, frames)
    res.update(consumer=consumer, version=version, ran=True, neurons=facts)
    return res


def sinabs_closest(graph):
    """The NIR graph closest to ``graph`` that sinabs 3.1.3 can load (one value per layer:
    its importer cannot take per-neuron arrays): leak ``alpha = exp(-1 / tau) = 1 - dt / tau``
    (tau in steps) and threshold ``v_threshold / (r dt / tau)`` (it ignores r and does not
    scale its input). Its reset and multi-spike rule stay sinabs's own: the reason ``--for
    sinabs`` is refused. For measuring that difference, not for deployment."""
    import dataclasses

    import nir

    from edge_shm.graph.nir_io import to_nir
    from edge_shm.graph.nodes import LIF

    g = to_nir(graph)
    for layer in graph.layers:
        if isinstance(layer, LIF):
            a = graph.dt / layer.scalar("tau")
            one = dataclasses.replace(
                g.nodes[layer.name],
                tau=np.array([-1 / np.log1p(-a)]),
                r=np.array([1.0]),
                v_leak=np.array([0.0]),
                v_threshold=np.array([layer.scalar("v_threshold") / (a * layer.scalar("r"))]),
                v_reset=np.array([0.0]),
            )
            g.nodes[layer.name] = one
    return nir.NIRGraph(nodes=g.nodes, edges=g.edges, metadata=g.metadata, type_check=False)


def activity_similarity(ref: np.ndarray, got: np.ndarray) -> float:
    """Pearson correlation of per-neuron spike counts over a sequence (T, ...) -> [-1, 1]."""
    a = np.asarray(ref, np.float64).sum(axis=0).ravel()
    b = np.asarray(got, np.float64).sum(axis=0).ravel()
    if a.std() == 0 or b.std() == 0:
        return float(np.array_equal(a, b))
    return float(np.corrcoef(a, b)[0, 1])


def interop_rows(model, frames: np.ndarray) -> list[dict]:
    """Each consumer on held-out sequences (N, T, H, W) against torch: the file written for
    it (``--for``), the generic file in snnTorch (what goes wrong without the option), and the
    closest file sinabs can load. Spike agreement over every neuron and step of every LIF
    layer (sinabs's multi-spikes counted as one), the first layer's activity similarity
    (:func:`activity_similarity`, the NIR paper's comparison), and the frames."""
    from edge_shm.export.nir_consumers import adapt_graph
    from edge_shm.export.reference import torch_trace
    from edge_shm.graph.nir_io import to_nir

    graph = model.lower()
    cases = [
        ("norse", "--for norse", to_nir(*adapt_graph(graph, "norse"))),
        ("snntorch", "--for snntorch", to_nir(*adapt_graph(graph, "snntorch"))),
        ("snntorch", "generic (no --for)", to_nir(graph)),
        ("sinabs", "closest loadable (--for sinabs refuses)", sinabs_closest(graph)),
    ]
    first = graph.lif_layers()[0].name
    refs = [torch_trace(model, seq) for seq in frames]
    rows = []
    for consumer, file, g in cases:
        if installed(consumer) is None:
            rows.append({"consumer": consumer, "file": file, "ran": False})
            continue
        same = total = fired = 0
        counts_ref, counts_got, frame_diff, facts = [], [], 0.0, {}
        for seq, ref in zip(frames, refs, strict=True):
            run = run_consumer(consumer, g, graph.dt, graph.apply_post, seq)
            facts = run.facts
            for k, z in ref.spikes.items():
                same += int((np.asarray(z, bool) == (run.spikes[k] > 0)).sum())
                total += z.size
                fired += int(np.count_nonzero(z))
            counts_ref.append(np.asarray(ref.spikes[first], np.float64).sum(axis=0))
            counts_got.append(np.asarray(run.spikes[first], np.float64).sum(axis=0))
            frame_diff = max(frame_diff, float(np.abs(run.prediction - ref.prediction).max()))
        rows.append(
            {
                "consumer": consumer,
                "version": installed(consumer),
                "file": file,
                "ran": True,
                "neurons": facts,
                "spike_agreement": same / total,
                "torch_spike_rate": fired / total,
                "activity_similarity_first_layer": activity_similarity(
                    np.stack(counts_ref)[None], np.stack(counts_got)[None]
                ),
                "max_abs_frame_diff": frame_diff,
            }
        )
    return rows
