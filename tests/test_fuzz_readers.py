"""Fuzzing the readers of files users hand us: JSON (run configs, manifests, calibrations),
HDF5 (libraries, NIR graphs) and npz (calibration tensors).

Each case starts from a valid file written by edge-shm, changes its structure, types and values
at random (hypothesis; seeded by the test's name, so a failure reproduces), re-seals checksums
where the format has them (so that the field checks, not the checksum, must catch the change),
and reads it back. The only failure allowed is the one-line :class:`UserError`; a reader that
accepts the file must return normally. Example counts keep the whole file under a minute.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_shm.cli.main import main
from edge_shm.errors import UserError

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "v0_1"
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _filled(shape, dtype, fill) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):  # NaN or 1e30 cast to an integer type
        return np.full(shape, fill).astype(dtype)


arrays = st.one_of(
    st.builds(
        _filled,
        st.lists(st.integers(0, 5), min_size=0, max_size=4).map(tuple),
        st.sampled_from(["f4", "f8", "i1", "i4", "i8", "u1", "?"]),
        st.sampled_from([0, 1, -1, 1e30, float("nan"), float("inf"), 255]),
    ),
    st.builds(lambda s: np.array(s.encode()), st.text(max_size=8)),
)


def _only_user_errors(read) -> None:
    try:
        read()
    except UserError as e:
        message = str(e)
        assert message and "\n" not in message.strip(), message


def _mutate_json(data, path: list, value):
    """Set ``value`` at ``path`` (indices into nested objects and lists) of ``data``."""
    node = data
    for step in path[:-1]:
        if isinstance(node, dict) and node:
            node = node[sorted(node)[step % len(node)]]
        elif isinstance(node, list) and node:
            node = node[step % len(node)]
    if isinstance(node, dict) and node:
        node[sorted(node)[path[-1] % len(node)]] = value
    elif isinstance(node, list) and node:
        node[path[-1] % len(node)] = value
    return data


paths = st.lists(st.integers(0, 50), min_size=1, max_size=5)


# --- JSON: run config ---------------------------------------------------------------------------


@FUZZ
@given(path=paths, value=json_values)
def test_run_config_fields(tmp_path_factory, path, value):
    from edge_shm.runs import load_run

    run = tmp_path_factory.mktemp("run") / "run"
    shutil.copytree(FIXTURE / "run-snn", run)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps(_mutate_json(config, path, value)))
    _only_user_errors(lambda: load_run(run))


@FUZZ
@given(data=json_values)
def test_any_json_as_a_run_config(tmp_path_factory, data):
    from edge_shm.runs import read_run_config

    run = tmp_path_factory.mktemp("run") / "run"
    shutil.copytree(FIXTURE / "run-snn", run)
    (run / "config.json").write_text(json.dumps(data))
    _only_user_errors(lambda: read_run_config(run))


# --- JSON + npz: calibration folders --------------------------------------------------------------


@pytest.fixture(scope="module")
def calibration(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("calib") / "int8"
    args = ["calibrate", str(FIXTURE / "run-snn"), "-l", str(FIXTURE / "library.h5")]
    assert main([*args, "-t", "int8", "--sequences", "2", "-o", str(folder)]) == 0
    return folder


def _reseal(folder: Path, meta: dict) -> None:
    import hashlib

    from edge_shm.firmware_sim.fixed_graph import values_sha256

    meta["tensors_sha256"] = hashlib.sha256((folder / "tensors.npz").read_bytes()).hexdigest()
    try:
        meta["values_sha256"] = values_sha256(meta)
    except (TypeError, ValueError):
        pass  # values JSON cannot hold: the reader must refuse them anyway
    (folder / "calibration.json").write_text(json.dumps(meta))


@FUZZ
@given(path=paths, value=json_values)
def test_calibration_values(calibration, path, value):
    from edge_shm.firmware_sim.fixed_graph import FixedGraph

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "c"
        shutil.copytree(calibration, folder)
        meta = json.loads((folder / "calibration.json").read_text())
        _reseal(folder, _mutate_json(meta, path, value))
        _only_user_errors(lambda: FixedGraph.load(folder))


@FUZZ
@given(pick=st.integers(0, 100), array=arrays)
def test_calibration_tensors(calibration, pick, array):
    from edge_shm.firmware_sim.fixed_graph import FixedGraph

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "c"
        shutil.copytree(calibration, folder)
        with np.load(folder / "tensors.npz") as z:
            tensors = {k: z[k] for k in z.files}
        tensors[sorted(tensors)[pick % len(tensors)]] = array
        with open(folder / "tensors.npz", "wb") as f:
            np.savez(f, **tensors)
        _reseal(folder, json.loads((folder / "calibration.json").read_text()))
        _only_user_errors(lambda: FixedGraph.load(folder))


# --- HDF5: NIR graphs, Lava bundles, libraries ------------------------------------------------


def _datasets(f: h5py.File) -> list[str]:
    names: list[str] = []
    f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    return sorted(names)


def _replace(f: h5py.File, name: str, value) -> None:
    del f[name]
    f[name] = value


@FUZZ
@given(pick=st.integers(0, 1000), array=arrays)
def test_nir_datasets(tmp_path_factory, pick, array):
    from edge_shm.graph.nir_io import read_nir

    path = tmp_path_factory.mktemp("nir") / "model.nir"
    shutil.copy(FIXTURE / "export-snn-nir" / "model.nir", path)
    with h5py.File(path, "r+") as f:
        names = _datasets(f)
        _replace(f, names[pick % len(names)], array)
    _only_user_errors(lambda: read_nir(path))


@FUZZ
@given(path=paths, value=json_values)
def test_lava_manifest(tmp_path_factory, path, value):
    from edge_shm.firmware_sim.bundle import read_bundle

    bundle = tmp_path_factory.mktemp("lava") / "b"
    shutil.copytree(FIXTURE / "export-snn-lava", bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    (bundle / "manifest.json").write_text(json.dumps(_mutate_json(manifest, path, value)))
    _only_user_errors(lambda: read_bundle(bundle).graph())


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lib") / "fcg.h5"
    assert main(["library", "build", "fcg", "--samples", "3", "-o", str(path)]) == 0
    return path


@FUZZ
@given(pick=st.integers(0, 1000), array=arrays, as_attribute=st.booleans())
def test_library_fields(library, pick, array, as_attribute):
    from edge_shm.data.library import read_library

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lib.h5"
        shutil.copy(library, path)
        with h5py.File(path, "r+") as f:
            if as_attribute:
                holders = [f, *(f[n] for n in _datasets(f))]
                keys = [(h, k) for h in holders for k in sorted(h.attrs)]
                holder, key = keys[pick % len(keys)]
                holder.attrs[key] = array
            else:
                names = _datasets(f)
                _replace(f, names[pick % len(names)], array)
        _only_user_errors(lambda: read_library(path))
