"""The integer engine against Lava fixed_pt: identical spikes and outputs, full frames.

Real Lava (``Loihi2SimCfg(select_tag="fixed_pt")``, in .venv-lava), 96 x 132 frames, one
held-out 8-frame sequence, every step and every layer, for the base SNN (with gains that make
every layer spike) and the shipped forecasting SNN.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_shm.cli import main
from edge_shm.firmware_sim.fixed_graph import FixedGraph
from edge_shm.firmware_sim.int_engine import IntEngine

SHIPPED = Path(__file__).resolve().parents[2] / "examples" / "runs" / "forecast-snn"


@pytest.fixture(scope="module", params=["snn", "forecast-snn"])
def calibrated(request, spiking_snn_run, crack_lib_path, tmp_path_factory):
    run = spiking_snn_run if request.param == "snn" else SHIPPED
    out = tmp_path_factory.mktemp("calib") / request.param
    rc = main(["calibrate", str(run), "-l", str(crack_lib_path), "-t", "loihi", "-o", str(out)])
    assert rc == 0
    return out


def test_integer_engine_equals_lava_fixed_point(calibrated, held_out, run_in_lava, tmp_path):
    fixed = FixedGraph.load(calibrated)
    seq = held_out[:1]
    frames, res = tmp_path / "frames.npy", tmp_path / "lava.npz"
    np.save(frames, seq.astype(np.float32))
    run_in_lava(
        ["-m", "edge_shm.firmware_sim.lava.fixed", str(calibrated), "--frames", str(frames),
         "--out", str(res)],
        timeout=900,
    )  # fmt: skip
    mine = IntEngine(fixed).run(seq[0])
    with np.load(res, allow_pickle=False) as lava:
        for name, spikes in mine["spikes"].items():
            assert spikes.mean() > 1e-3, f"{name} should spike"
            assert np.array_equal(lava[f"0_spikes_{name}"], spikes), name
        assert np.array_equal(lava["0_readout"], mine["readout"])
        assert np.array_equal(lava["0_prediction"], mine["prediction"])
    assert mine["prediction"].shape == seq.shape[1:]


def test_fixed_point_lava_export_is_verified_bit_exact(
    spiking_snn_run, crack_lib_path, tmp_path, lava_python
):
    from edge_shm.jsonio import read_json

    calib, out = tmp_path / "calib", tmp_path / "bundle"
    args = ["calibrate", str(spiking_snn_run), "-l", str(crack_lib_path), "-t", "loihi"]
    assert main([*args, "--sequences", "4", "-o", str(calib)]) == 0
    rc = main(["export", str(spiking_snn_run), "-t", "lava", "--fixed-point", str(calib),
               "--frames", str(crack_lib_path), "-o", str(out)])  # fmt: skip
    assert rc == 0
    ver = read_json(out / "export.json")["verification"]
    assert ver["ok"] and ver["spikes_differ"] == 0 and ver["readout_values_differ"] == 0
    assert ver["spikes_compared"] == 2 * 8 * (16 + 4 + 16) * 96 * 132 and ver["spike_rate"] > 1e-3
