"""Files written by edge-shm 0.1.0 (tests/fixtures/v0_1, made with that code) still load and run.

The fixture holds a library, a base-SNN run and a base-LSTM run (with their evaluation.json),
and the four exports of 0.1.0 (SNN to ONNX, NIR, Lava bundle format 1; LSTM to ONNX), plus what
0.1.0 computed from them on held-out frames. Today's code must read all of it and compute the
same numbers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_shm.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "v0_1"
ARTEFACTS = [
    ("export-snn-onnx", "onnx"),
    ("export-snn-nir", "nir"),
    ("export-snn-lava", "lava"),
    ("export-snn-lava", "nir"),
    ("export-lstm-onnx", "onnx"),
]


@pytest.fixture(scope="module")
def old(tmp_path_factory) -> Path:
    """A private copy: commands below must not write into the repository."""
    dst = tmp_path_factory.mktemp("compat") / "v0_1"
    shutil.copytree(FIXTURE, dst)
    return dst


@pytest.fixture(scope="module")
def expected():
    with np.load(FIXTURE / "expected.npz") as f:
        return {k: f[k] for k in f.files}


@pytest.mark.fast
def test_library_of_format_1_reads_with_its_fingerprint(old):
    from edge_shm.data.library import read_library
    from edge_shm.jsonio import read_json

    lib = read_library(old / "library.h5")
    assert lib.frames.shape == (10, 8, 20, 28) and lib.kind == "imported"
    assert lib.fingerprint() == read_json(old / "run-snn" / "config.json")["library_fingerprint"]


# The expected outputs were computed on another CPU, whose kernels sum in another order. A float32
# sum of n products in [-1, 1] then moves by about sqrt(n) * eps per layer (rounding errors add as
# a random walk; n * eps at worst): the widest sums here are the SNN's 16 x 3 x 3 = 144 products
# and the LSTM input layer's 4 x 20 x 28 = 2,240, so sqrt(2240) * 1.19e-7 = 5.6e-6 per layer and
# step. Over the few layers and steps of these runs that stays under 1e-4 (1.4e-6 seen on one
# CPU, where 1e-6 failed); a flipped spike or a changed weight moves outputs by more than 1e-3.
TOLERANCE = 1e-4


@pytest.mark.parametrize("run", ["run-snn", "run-lstm"])
@pytest.mark.fast
def test_runs_load_and_forecast_as_before(old, expected, run):
    from edge_shm.evaluation.forecast import streaming_rollout
    from edge_shm.runs import load_run

    model, config = load_run(old / run)
    assert model.name == config["model"]
    got = streaming_rollout(model, np.load(old / "held_out.npy"))
    assert np.abs(got - expected[f"{run}-torch"]).max() <= TOLERANCE


@pytest.mark.parametrize("artefact, backend", ARTEFACTS)
def test_exports_simulate_as_before(old, expected, tmp_path, artefact, backend, request):
    if backend == "lava":
        request.getfixturevalue("lava_python")
    out = tmp_path / "sim"
    args = ["simulate", str(old / artefact), "--frames", str(old / "held_out.npy")]
    assert main([*args, "--backend", backend, "-o", str(out)]) == 0
    got = np.load(out / "predictions.npy")
    assert np.abs(got - expected[artefact]).max() <= TOLERANCE


def test_old_runs_evaluate_compare_profile_and_export(old, tmp_path, capsys):
    lib, held = str(old / "library.h5"), str(old / "held_out.npy")
    runs = [str(old / "run-snn"), str(old / "run-lstm")]
    # compare reads the evaluation.json files that 0.1.0 wrote
    assert main(["compare", *runs, "--no-energy", "-o", str(tmp_path / "cmp")]) == 0
    assert main(["evaluate", runs[0], "--library", lib, "-o", str(tmp_path / "ev")]) == 0
    assert (
        main(
            [
                "profile",
                runs[0],
                "-d",
                "loihi",
                "--library",
                lib,
                "--max-windows",
                "4",
                "-o",
                str(tmp_path / "prof"),
            ]
        )
        == 0
    )
    # the library path stored by 0.1.0 is from another machine: --frames takes its place
    for target in ("onnx", "nir"):
        out = tmp_path / f"ex-{target}"
        assert main(["export", runs[0], "-t", target, "--frames", held, "-o", str(out)]) == 0
    capsys.readouterr()
