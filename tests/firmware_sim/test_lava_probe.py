"""The Lava environment: firmware_sim imports there without torch and runs a real process graph."""

import json
import subprocess

import numpy as np

from edge_shm.firmware_sim.lava_probe import probe_inputs, reference_lif


def test_firmware_sim_imports_without_torch(lava_python):
    code = (
        "import sys, edge_shm.firmware_sim, edge_shm.library, edge_shm.firmware_sim.lava_probe\n"
        "import importlib.util as u\n"
        "print(u.find_spec('torch') is None, 'torch' in sys.modules)"
    )
    res = subprocess.run(
        [str(lava_python), "-c", code], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["True", "False"]


def test_lava_lif_graph_spikes_match_the_reference(lava_python):
    res = subprocess.run(
        [str(lava_python), "-m", "edge_shm.firmware_sim.lava_probe"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    spikes_in, weights = probe_inputs()
    assert np.array_equal(np.array(got["spikes_in"]), spikes_in)
    lava_out = np.array(got["spikes_out"])
    expected, _ = reference_lif(spikes_in, weights, **got["params"])
    assert lava_out.sum() > 5, "the probe should make the LIF population spike"
    assert np.array_equal(lava_out, expected)
    # The one-step synapse delay is real: without it the reference disagrees.
    no_delay, _ = reference_lif(spikes_in, weights, **got["params"], synapse_delay=0)
    assert not np.array_equal(lava_out, no_delay)
