"""Files written by the code of commit c484d2b (main before the layering refactor) still load
and give the same results (tests/fixtures/main_c484d2b, made with that code; its README.md holds
the script).

The fixture holds two libraries, a motion-SNN run (with band.json) and a pixel forecasting-SNN
run (each with the evaluation.json `evaluate --into-run` wrote), their ONNX, NIR and Lava
exports (and the pixel network's int8 ONNX), a Loihi and an int8 calibration of each (format
2), and what that code computed from them on held_out.npy: the `forecast` command's records
for every artefact and backend, `simulate`'s predictions, the torch streaming rollouts and the
integer engine's outputs. Today's code must read all of it and compute the same numbers.
"""

from __future__ import annotations

import gzip
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_shm.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "main_c484d2b"
TEST_SAMPLE, ROWS, COLS = 18, slice(44, 76), slice(0, 104)  # held_out.npy's sample and crop
INTEGER_BACKENDS = ("int",)  # the integer engine: every number of the network is an integer
LAVA_FRAMES = 4  # Lava re-runs every window in a child process: the first frames only (causal)

with gzip.open(FIXTURE / "expected_forecast.json.gz", "rt", encoding="utf-8") as _f:
    FORECASTS = json.load(_f)


@pytest.fixture(scope="module")
def old(tmp_path_factory) -> Path:
    """A private copy: commands below must not write into the repository."""
    dst = tmp_path_factory.mktemp("compat") / "main_c484d2b"
    shutil.copytree(FIXTURE, dst)
    return dst


@pytest.fixture
def inside(old, monkeypatch) -> Path:
    """Commands run from the fixture folder, as when it was made: an export names its run by a
    relative path (`forecast` reads the run's window, pixel size and band through it)."""
    monkeypatch.chdir(old)
    return old


@pytest.fixture(scope="module")
def expected():
    with np.load(FIXTURE / "expected.npz") as f:
        return {k: f[k] for k in f.files}


@pytest.fixture(scope="module")
def held(old):
    from edge_shm.jsonio import read_json

    cycles = np.asarray(read_json(old / "held_out_cycles.json")["cycles"], np.float64)
    return np.load(old / "held_out.npy"), cycles


def test_libraries_read_with_their_fingerprints_and_the_held_out_frames(old, held):
    from edge_shm.data.library import read_library
    from edge_shm.jsonio import read_json

    lib, crops = read_library(old / "library.h5"), read_library(old / "library-crops.h5")
    assert lib.kind == "fcg" and lib.frames.shape == (20, 8, 96, 132)
    assert crops.kind == "imported" and crops.frames.shape == (20, 8, 32, 104)
    for run, library in (("run-motion", lib), ("run-fsnn", crops)):
        config = read_json(old / run / "config.json")
        assert library.fingerprint() == config["library_fingerprint"]
        assert list(library.indices("test")) == [18, 19]
    frames, cycles = held
    assert np.array_equal(frames, lib.frames[TEST_SAMPLE, :, ROWS, COLS])
    assert np.array_equal(frames, crops.frames[TEST_SAMPLE])
    assert np.array_equal(cycles, lib.physics["frame_cycles"][TEST_SAMPLE])


# The expected outputs may be compared on another CPU, whose kernels sum in another order. A
# float32 sum of n products moves by about sqrt(n) * eps per layer (rounding errors add as a
# random walk; n * eps at worst, eps = 1.19e-7): the widest sums here are the pixel network's
# 8 x 3 x 3 = 72 products and the motion network's 16 (its first layer reads the whole 4 x 4
# tile), so at most 72 * 1.2e-7 = 8.6e-6 per layer and step, about 1e-6 as a random walk, over
# at most 5 layers and 8 steps. 1e-4 leaves room for that (the largest difference seen on the
# CPU that made the fixture is 0: the same kernels); a flipped spike moves an output by a weight
# times the readout gain, more than 1e-3, and a changed weight by more still.
TOLERANCE = 1e-4
# The motion codec's features are float64 geometry (tip positions, advances, angles, a log of
# the cycles) rounded to float32 in [0, 1]; a libm that rounds atan2 or log the other way moves
# one by a float64 ulp, which survives the rounding to float32 as at most 1 float32 ulp, 6e-8.
TILE_TOLERANCE = 1e-6


def test_pixel_run_loads_and_steps_as_before(old, held, expected):
    from edge_shm.export.reference import streaming_rollout
    from edge_shm.runs import load_run

    model, config = load_run(old / "run-fsnn")
    assert model.name == config["model"] == "forecast-snn"
    got = streaming_rollout(model, held[0][None])
    assert np.abs(got - expected["run-fsnn-torch"]).max() <= TOLERANCE


@pytest.mark.parametrize("with_cycles", [False, True], ids=["no-cycles", "cycles"])
def test_motion_run_loads_and_steps_as_before(old, held, expected, with_cycles):
    from edge_shm.export.reference import streaming_rollout
    from edge_shm.firmware_sim.codec import decode_stream, graph_inputs
    from edge_shm.runs import load_run

    model, config = load_run(old / "run-motion")
    assert model.name == config["model"] == "motion-snn"
    frames, cycles = held
    key = "-cycles" if with_cycles else ""
    tiles = graph_inputs(model.codec, frames[None], cycles[None] if with_cycles else None)
    assert np.abs(tiles - expected[f"run-motion-tiles{key}"]).max() <= TILE_TOLERANCE
    # the network alone, on the tiles the old code gave it
    readouts = streaming_rollout(model, expected[f"run-motion-tiles{key}"])
    assert np.abs(readouts - expected[f"run-motion-torch{key}"]).max() <= TOLERANCE
    # the codec alone: the old readouts decoded to forecast frames (pixels: exactly the same)
    decoded = decode_stream(model.codec, frames[None], expected[f"run-motion-torch{key}"])
    assert np.array_equal(decoded, expected[f"run-motion-torch-frames{key}"])


@pytest.mark.parametrize("run", ["run-motion", "run-fsnn"])
def test_evaluation_json_of_that_code_reads(old, run):
    from edge_shm.evaluation.results import EvaluationSummary
    from edge_shm.jsonio import read_json

    data = read_json(old / run / "evaluation.json")
    ev = EvaluationSummary.from_json(data, run)
    assert ev.one_step_mae == data["one_step"]["model"]["mae"]
    assert ev.rollout_mae == data["rollout"]["mean_mae"]["model"]
    assert ev.copy_last_one_step_mae == data["one_step"]["copy_last"]["mae"]
    assert len(ev.horizons) == 4 and all("model" in h and "paris" in h for h in ev.horizons)
    assert ev.evaluated_on == f"library {data['run']['library_fingerprint']}, split test"


@pytest.mark.parametrize("run", ["run-motion", "run-fsnn"])
def test_compare_reads_the_old_evaluation(inside, tmp_path, capsys, run):
    # one run each: compare refuses runs evaluated on different libraries, as these two are
    args = ["compare", run, "--no-energy", "-o", str(tmp_path / "cmp")]
    assert main(args) == 0, capsys.readouterr().err
    assert "evaluation" not in capsys.readouterr().err


# --- the forecast command, per artefact and backend ------------------------------------------
# A record holds discrete things (frame, names, status, warning, steps, crack found or not) and
# numbers. Every number but one is float64 arithmetic on pixel positions: the crack geometry of
# the observed frame and of each forecast frame (forecasts are crack maps, thresholded before
# they are measured, so a network's rounding reaches them only by flipping a whole pixel, which
# moves a length by >= 0.075 mm), and from those the growth, band, Paris fit and remaining life.
# Reordered float64 arithmetic moves such a number by about 1e-16 relative per operation, and
# the Paris fit (a least-squares fit on a few points) magnifies that by its conditioning (< 1e6
# here): FLOAT64 = 1e-9 relative is far from both that and any real change.
FLOAT64 = 1e-9
# The one exception is the motion network's members' spread (spread_mm): S px x 0.075 mm/px x
# the RMS deviation of its 5 members' corrections, a correction being 4 x (readout - 0.5) of
# float32 readouts. A readout's rounding error is about sqrt(16) x 1.2e-7 = 5e-7 per layer,
# a few 1e-6 over its 3 layers and the window's steps; even at 1e-5 it moves spread_mm by at
# most 4 x 1e-5 x sqrt(2) x 40 px (S here stays under 40 px) x 0.075 = 1.7e-4 mm. The spreads
# here are 0.01 to 0.03 mm. On the integer engine the readouts are integers: compared exactly.
SPREAD_MM = 3e-4


def _differences(got, want, integer: bool, path: str = "") -> list[str]:
    if isinstance(want, dict) and isinstance(got, dict):
        if set(got) != set(want):
            return [f"{path}: keys {sorted(set(got) ^ set(want))} differ"]
        return [d for k in want for d in _differences(got[k], want[k], integer, f"{path}/{k}")]
    if isinstance(want, list) and isinstance(got, list):
        if len(got) != len(want):
            return [f"{path}: {len(got)} items, expected {len(want)}"]
        return [
            d
            for i, (g, w) in enumerate(zip(got, want, strict=True))
            for d in _differences(g, w, integer, f"{path}[{i}]")
        ]
    floats = isinstance(want, float) and isinstance(got, int | float) and not isinstance(got, bool)
    if not floats:
        return [] if got == want and type(got) is type(want) else [f"{path}: {got!r} != {want!r}"]
    in_forecast = "/forecast[" in path
    if path.endswith("/spread_mm") and not integer:
        ok = abs(got - want) <= SPREAD_MM
    elif in_forecast and integer:
        ok = got == want  # the integer engine's forecast: exactly the same
    else:
        ok = math.isclose(got, want, rel_tol=FLOAT64, abs_tol=1e-12)
    return [] if ok else [f"{path}: {got!r} != {want!r}"]


def _as_before_bands(rec: dict, old: dict) -> None:
    """The one intended change since the fixture (issue 27): remaining life says which band
    it gives (``band``), and a Paris fit of fewer than 5 lengths, whose residuals cannot judge
    it, gives the range over prior exponents instead of its 5-95 % band (of zero width with 3).
    Its cycles and every other band stay as they were."""
    life, was = rec.get("cycles_to_critical"), old.get("cycles_to_critical")
    if not (isinstance(life, dict) and isinstance(was, dict)):
        return
    band = life.pop("band", None)
    if band is not None and band.startswith("prior"):
        assert life["low"] < life["cycles"] < life["high"]
        life["low"], life["high"] = was["low"], was["high"]


def _without_view_keys(rec: dict) -> None:
    """Keys added since the fixture (issue 27): whether a crack left the view (``left_view``
    of the observed crack and of each forecast, ``view_a_mm``) and whether the remaining life
    comes from a length the view capped (``a_lower_bound``). Optional: old records lack them."""
    rec.pop("view_a_mm", None)
    for geom in [rec.get("observed") or {}, *(rec.get("forecast") or [])]:
        geom.pop("left_view", None)
    for life in (rec.get("frames_to_critical"), rec.get("cycles_to_critical")):
        if isinstance(life, dict):
            life.pop("a_lower_bound", None)


@pytest.mark.parametrize("name", sorted(FORECASTS))
def test_forecast_as_before(inside, tmp_path, capsys, request, name):
    case = FORECASTS[name]
    want = case["records"]
    args = list(case["args"])
    assert args[0] == "forecast" and case["backend"] in args
    if case["backend"] == "lava":
        request.getfixturevalue("lava_python")
        args += ["--max-frames", str(LAVA_FRAMES)]
        want = want[:LAVA_FRAMES]
    out = tmp_path / "forecast"
    assert main([*args, "-o", str(out)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    got = [json.loads(line) for line in (out / "forecast.jsonl").read_text().splitlines()]
    for rec, old in zip(got, want, strict=False):
        rec.pop("latency_ms", None)
        _without_view_keys(rec)
        _as_before_bands(rec, old)
    assert sum(bool(r.get("forecast")) for r in want) >= 2  # not a comparison of empty forecasts
    diffs = _differences(got, want, case["backend"] in INTEGER_BACKENDS)
    assert not diffs, f"{len(diffs)} differences, first: {diffs[:5]}"


# --- the artefacts on the device side (what `simulate` wrote) --------------------------------
# model.int8.onnx requantises every convolution's output to int8; ONNX Runtime computes the
# quantised convolutions with integer kernels chosen by the CPU's instruction set (with or
# without VNNI, u8s8 sums saturate differently), so on another CPU a requantised value may land
# one step away. Its readout's step (the scale of its last QuantizeLinear) is 0.0035092; the
# forecast frame + (1 - frame) * growth moves by at most that.
INT8_STEP = 0.0036
SIMULATED = [
    (name, case["artefact"], case["backend"])
    for name, case in sorted(FORECASTS.items())
    if case["backend"] != "torch"
]


@pytest.mark.parametrize("name, artefact, backend", SIMULATED, ids=[s[0] for s in SIMULATED])
def test_artefacts_run_as_before(old, held, expected, request, name, artefact, backend):
    """The pixel network's forecasts are its raw outputs: within TOLERANCE on float backends,
    and for its int8 ONNX within one step of the readout's quantiser (INT8_STEP). The motion
    network's are crack maps drawn from its tip forecast: the same pixels. The integer engine:
    exactly."""
    from edge_shm.firmware_sim.artefacts import artefact_kind, choose_backend, run_artefact

    if backend == "lava":
        request.getfixturevalue("lava_python")
    kind, path = artefact_kind(old / artefact)
    assert choose_backend(kind, backend) == backend
    got = run_artefact(kind, path, backend, held[0][None])
    want = expected[f"simulate-{name}"]
    assert got.shape == want.shape
    if name.startswith("motion") or backend in INTEGER_BACKENDS:
        assert np.array_equal(got, want)
    else:
        tol = INT8_STEP if name.endswith("int8") else TOLERANCE
        assert np.abs(got - want).max() <= tol


@pytest.mark.parametrize("net", ["motion", "fsnn"])
@pytest.mark.parametrize("target", ["int8", "loihi"])
def test_calibrations_of_format_2_run_on_the_integer_engine_as_before(
    old, held, expected, net, target
):
    from edge_shm.firmware_sim.fixed_graph import FixedGraph
    from edge_shm.firmware_sim.int_engine import IntEngine
    from edge_shm.jsonio import read_json

    folder = old / f"calib-{net}-{target}"
    assert read_json(folder / "calibration.json")["format_version"] == 2
    fixed = FixedGraph.load(folder)
    assert fixed.target == target and fixed.window is None and fixed.pixel_mm is None
    x = held[0] if net == "fsnn" else expected["run-motion-tiles"][0]
    got = IntEngine(fixed).run(x)
    key = f"int-{net}-{target}"
    assert np.array_equal(got["readout"], expected[f"{key}-readout"])
    assert np.array_equal(got["prediction"], expected[f"{key}-prediction"])
    layers = sorted(
        k[len(key) + len("-spikes-") :] for k in expected if k.startswith(f"{key}-spikes-")
    )
    assert sorted(got["spikes"]) == layers
    for layer in layers:
        assert np.array_equal(got["spikes"][layer], expected[f"{key}-spikes-{layer}"])


V3 = Path(__file__).parent / "fixtures" / "main_c98586f"


@pytest.mark.parametrize("target", ["int8", "loihi"])
def test_calibrations_of_format_3_run_on_the_integer_engine_as_before(held, target):
    """Folders written by the calibration writer of c98586f (format 3), before the engine
    became one stepper over precisions: the same spikes, readouts and forecasts."""
    from edge_shm.firmware_sim.fixed_graph import FixedGraph
    from edge_shm.firmware_sim.int_engine import IntEngine

    fixed = FixedGraph.load(V3 / f"calib-fsnn-{target}")
    assert fixed.window == 3 and fixed.pixel_mm == 0.075
    with np.load(V3 / "expected.npz") as f:
        want = {k: f[k] for k in f.files}
    got = IntEngine(fixed).run(held[0])
    key = f"int-fsnn-{target}"
    assert np.array_equal(got["readout"], want[f"{key}-readout"])
    assert np.array_equal(got["prediction"], want[f"{key}-prediction"])
    for layer, spikes in got["spikes"].items():
        assert np.array_equal(spikes, want[f"{key}-spikes-{layer}"]), layer
