"""The Lava environment: firmware_sim imports there without torch and runs a real process graph."""

import json

import numpy as np

from edge_shm.firmware_sim.lava.probe import probe_inputs, reference_lif


def test_firmware_sim_imports_without_torch(run_in_lava):
    code = (
        "import sys, edge_shm.firmware_sim, edge_shm.data.library\n"
        "import edge_shm.firmware_sim.lava.probe\n"
        "import importlib.util as u\n"
        "print(u.find_spec('torch') is None, 'torch' in sys.modules)"
    )
    assert run_in_lava(["-c", code]).split() == ["True", "False"]


def test_lava_lif_graph_spikes_match_the_reference(run_in_lava):
    got = json.loads(run_in_lava(["-m", "edge_shm.firmware_sim.lava.probe"]))
    spikes_in, weights = probe_inputs()
    assert np.array_equal(np.array(got["spikes_in"]), spikes_in)
    lava_out = np.array(got["spikes_out"])
    expected, _ = reference_lif(spikes_in, weights, **got["params"])
    assert lava_out.sum() > 5, "the probe should make the LIF population spike"
    assert np.array_equal(lava_out, expected)
    # The one-step synapse delay is real: without it the reference disagrees.
    no_delay, _ = reference_lif(spikes_in, weights, **got["params"], synapse_delay=0)
    assert not np.array_equal(lava_out, no_delay)
