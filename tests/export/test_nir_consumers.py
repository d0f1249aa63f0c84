"""NIR written for another framework (``--for``): its own importer computes our spikes.

snnTorch 1.0.0, Norse 1.1.0 and Sinabs 3.1.3 are test dependencies (scripts/setup.sh). Each
file is loaded the way its consumer documents and run step by step on held-out 96 x 132
sequences; spikes are read from the consumer's own neuron modules.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import nir
import numpy as np
import pytest

from edge_shm.cli import main
from edge_shm.errors import UserError
from edge_shm.export.nir_consumer_run import (
    activity_similarity,
    run_consumer,
    sinabs_closest,
)
from edge_shm.export.nir_consumers import adapt_graph, consumer_of
from edge_shm.export.reference import torch_trace
from edge_shm.export.verify import merge, spike_report
from edge_shm.graph.nir_io import from_nir, to_nir
from edge_shm.graph.nodes import LIF
from edge_shm.jsonio import read_json
from edge_shm.runs import load_run

SHIPPED = Path(__file__).resolve().parents[2] / "examples" / "runs" / "forecast-snn"


@pytest.fixture(scope="module", params=["snn", "forecast-snn"])
def run_dir(request, spiking_snn_run):
    return spiking_snn_run if request.param == "snn" else SHIPPED


def _consumer_vs_torch(model, g, consumer, frames):
    graph = from_nir(g)
    reps, facts = [], {}
    for seq in frames:
        run = run_consumer(consumer, g, graph.dt, graph.apply_post, seq)
        facts = run.facts
        reps.append(spike_report(torch_trace(model, seq), run.spikes, run.prediction,
                                 model.thresholds()))  # fmt: skip
    return merge(reps, frames), facts


@pytest.mark.parametrize("consumer", ["norse", "snntorch"])
def test_consumer_runs_our_network(run_dir, consumer, crack_lib_path, held_out, tmp_path):
    out = tmp_path / consumer
    rc = main(["export", str(run_dir), "-t", "nir", "--for", consumer,
               "--frames", str(crack_lib_path), "-o", str(out)])  # fmt: skip
    assert rc == 0
    report = read_json(out / "export.json")
    assert report["verification"]["consumer"]["ran"], "the export verifies in the consumer"
    g = nir.read(str(out / "model.nir"))
    assert consumer_of(g.metadata) == consumer
    model, _ = load_run(run_dir)
    res, facts = _consumer_vs_torch(model, g, consumer, held_out[:3])
    rates = [r["spike_rate"] for r in spike_report_layers(model, held_out[0])]
    assert min(rates) > 1e-3, f"every layer must fire for the test to mean something: {rates}"
    assert res["agreement"] >= 0.9999 and res["unexplained"] == 0, res
    assert res["max_abs_frame_diff_tie_free"] is not None
    assert res["max_abs_frame_diff_tie_free"] <= 1e-5, res
    assert all(f["decay"] == pytest.approx(0.5, abs=1e-6) for f in facts.values()), facts


def spike_report_layers(model, seq):
    tr = torch_trace(model, seq)
    return [{"spike_rate": float(np.mean(z))} for z in tr.spikes.values()]


def test_generic_file_in_snntorch_runs_another_network(spiking_snn_run, held_out):
    """Without --for, snnTorch 1.0.0 reads tau = 2 ms with its own dt = 0.1 ms: decay 0.95."""
    model, _ = load_run(spiking_snn_run)
    g = to_nir(model.lower())
    res, facts = _consumer_vs_torch(model, g, "snntorch", held_out[:2])
    assert all(f["decay"] == pytest.approx(0.95) for f in facts.values()), facts
    assert res["agreement"] < 0.99 and res["unexplained"] > 0
    assert res["max_abs_frame_diff"] > 0.1


def test_sinabs_refused_with_the_reason(spiking_snn_run, crack_lib_path, tmp_path, capsys):
    out = tmp_path / "sinabs"
    rc = main(["export", str(spiking_snn_run), "-t", "nir", "--for", "sinabs",
               "--frames", str(crack_lib_path), "-o", str(out)])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and not out.exists() and not list(tmp_path.iterdir())
    assert len(err) == 1 and "MembraneSubtract" in err[0] and "resets to 0" in err[0]


def test_sinabs_anyway_computes_something_else(spiking_snn_run, held_out):
    """The closest file Sinabs loads (same leak 0.5, same scaled threshold) still differs:
    it subtracts the threshold at a spike and emits floor(v / threshold) spikes per step."""
    model, _ = load_run(spiking_snn_run)
    graph = model.lower()
    seq = held_out[0]
    ref = torch_trace(model, seq)
    run = run_consumer("sinabs", sinabs_closest(graph), graph.dt, graph.apply_post, seq)
    assert all(f["decay"] == pytest.approx(0.5) for f in run.facts.values())
    multi = max(float(z.max()) for z in run.spikes.values())
    assert multi >= 2, "sinabs emits several spikes in one step where we emit one"
    agree = np.mean(
        np.concatenate([(run.spikes[k] > 0).ravel() == ref.spikes[k].ravel() for k in ref.spikes])
    )
    assert agree < 0.9999
    first = graph.lif_layers()[0].name
    sim = activity_similarity(ref.spikes[first], run.spikes[first])
    assert 0 < sim < 1
    assert np.abs(run.prediction - ref.prediction).max() > 0.1


def test_snntorch_time_constants_written_for_its_dt(spiking_snn_run):
    model, _ = load_run(spiking_snn_run)
    graph, meta = adapt_graph(model.lower(), "snntorch")
    assert graph.dt == 1e-4 and meta["written_for"] == "snntorch"
    for layer in graph.lif_layers():
        assert layer.scalar("tau") == pytest.approx(2e-4)
        assert graph.dt / layer.scalar("tau") == pytest.approx(0.5)  # the same step


@pytest.mark.parametrize(
    "consumer, change, words",
    [
        ("snntorch", {"v_leak": 0.1}, "v_leak"),
        ("snntorch", {"v_reset": 0.2}, "resets to zero"),
        ("norse", {"r": 2.0}, "ignores r"),
    ],
)
def test_inexpressible_parameters_are_refused(spiking_snn_run, consumer, change, words):
    model, _ = load_run(spiking_snn_run)
    graph = model.lower()
    layers = [dataclasses.replace(x, **change) if isinstance(x, LIF) else x for x in graph.layers]
    with pytest.raises(UserError, match=words):
        adapt_graph(dataclasses.replace(graph, layers=layers), consumer)


def test_per_neuron_threshold_refused_for_snntorch(spiking_snn_run):
    model, _ = load_run(spiking_snn_run)
    graph = model.lower()
    shape = graph.lif_shapes()[graph.lif_layers()[0].name]
    vth = np.ones(shape)
    vth[0, 0, 0] = 1.5
    layers = [
        dataclasses.replace(x, v_threshold=vth) if x is graph.lif_layers()[0] else x
        for x in graph.layers
    ]
    with pytest.raises(UserError, match="one per layer"):
        adapt_graph(dataclasses.replace(graph, layers=layers), "snntorch")


def test_for_needs_the_nir_target(spiking_snn_run, tmp_path, capsys):
    out = tmp_path / "x"
    rc = main(["export", str(spiking_snn_run), "-t", "onnx", "--for", "snntorch", "--no-verify",
               "-o", str(out)])  # fmt: skip
    assert rc == 2 and not out.exists()
    assert "--for is for --target nir" in capsys.readouterr().err
