"""The backend and artefact-kind tables: what opens what, the defaults, the errors, and a new
runtime plugged in as one more row (as a C firmware would be)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_shm.errors import UserError
from edge_shm.firmware_sim.artefacts import artefact_kind, choose_backend, run_artefact
from edge_shm.firmware_sim.backends import BACKENDS, KINDS, Backend, add_backend, backend_for

pytestmark = pytest.mark.fast

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
V01 = FIXTURES / "v0_1"
CALIB = FIXTURES / "calibration_v2"


def test_the_tables():
    assert list(BACKENDS) == ["onnx", "nir", "lava", "int", "lava-fixed", "c", "cortex-m4"]
    assert set(KINDS) == {"onnx", "nir", "bundle", "calibration", "firmware"}
    for b in BACKENDS.values():
        assert set(b.default_for) <= set(b.kinds) <= set(KINDS) and b.title
        assert b.open is not None or b.run is not None
    for kind in KINDS:  # every kind has exactly one default
        assert sum(kind in b.default_for for b in BACKENDS.values()) == 1


@pytest.mark.parametrize(
    "path, kind, name",
    [
        ("export-snn-onnx", "onnx", "model.onnx"),
        ("export-snn-onnx/model.onnx", "onnx", "model.onnx"),
        ("export-snn-nir", "nir", "model.nir"),
        ("export-snn-lava", "bundle", "export-snn-lava"),
    ],
)
def test_artefacts_are_recognised(path, kind, name):
    found_kind, found = artefact_kind(V01 / path)
    assert (found_kind, found.name) == (kind, name)
    assert artefact_kind(CALIB) == ("calibration", CALIB)


def test_defaults_and_refusals():
    assert [choose_backend(k, None) for k in ("onnx", "nir", "bundle", "calibration")] == [
        "onnx",
        "nir",
        "lava",
        "int",
    ]
    assert choose_backend("bundle", "nir") == "nir"
    with pytest.raises(UserError, match="unknown backend 'tflm'; choose one of onnx, nir, lava"):
        choose_backend("onnx", "tflm")
    with pytest.raises(UserError, match="a onnx artefact cannot run on the c backend"):
        choose_backend("onnx", "c")
    with pytest.raises(UserError, match="a onnx artefact cannot run on the int backend"):
        choose_backend("onnx", "int")
    with pytest.raises(UserError, match="unknown backend 'nir'; choose one of int"):
        backend_for("calibration", "nir", names=("int",))
    with pytest.raises(UserError, match="not an exported artefact"):
        artefact_kind(V01 / "held_out.npy")
    with pytest.raises(UserError, match="no such file or folder"):
        artefact_kind(V01 / "missing")


def test_the_nir_simulator_runs_an_onnx_exports_twin_alike():
    frames = np.load(V01 / "held_out.npy")[:1, :3]
    onnx = run_artefact("onnx", V01 / "export-snn-onnx" / "model.onnx", "onnx", frames)
    nir = run_artefact("nir", V01 / "export-snn-nir" / "model.nir", "nir", frames)
    bundle = run_artefact("bundle", V01 / "export-snn-lava", "nir", frames)
    assert onnx.shape == nir.shape == (1, 3, 20, 28)
    assert np.allclose(onnx, nir, atol=1e-4) and np.array_equal(nir, bundle)


@pytest.fixture
def c_row():
    """A runtime that runs a calibration on whole sequences (as another compiled engine
    would), here the integer engine's behind another name; removed again after the test."""
    int_row = BACKENDS["int"]
    row = Backend("other", ("calibration",), run=int_row.run, trace=int_row.trace, title="C")
    add_backend(row)
    yield row
    del BACKENDS["other"]


def test_a_new_runtime_is_one_row(c_row):
    frames = np.load(V01 / "held_out.npy")[:1]
    got = run_artefact("calibration", CALIB, choose_backend("calibration", "other"), frames)
    assert np.array_equal(got, np.load(CALIB / "expected.npy"))
    spikes = BACKENDS["other"].trace("calibration", CALIB, frames)[0]["spikes"]
    assert sorted(spikes) == ["lif1", "lif2", "lif3"] and spikes["lif1"].shape[0] == 8
    with pytest.raises(ValueError, match="exists"):
        add_backend(c_row)
    with pytest.raises(ValueError, match="unknown artefact kinds"):
        add_backend(Backend("fpga", ("bitstream",), run=c_row.run))
