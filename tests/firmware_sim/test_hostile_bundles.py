"""Hostile NIR files and Lava bundles: refused in one line naming the node, field or file.

Fresh exports (``--no-verify``: no Lava, seconds) of the v0.1 fixture run (20 x 28 px) are
copied and tampered with (h5py for the NIR graph, JSON and symbolic links for the bundle);
``edge-shm simulate`` must exit 2 with one ``error:`` line and write nothing. Reading a bundle
never needs Lava, so these run without .venv-lava.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from edge_shm.cli.main import main
from edge_shm.errors import UserError
from edge_shm.firmware_sim.bundle import read_bundle

pytestmark = pytest.mark.fast

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "v0_1"
RUN = FIXTURE / "run-snn"


def _err(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("exports")
    for target in ("nir", "lava"):
        args = ["export", str(RUN), "-t", target, "--no-verify", "-o", str(root / target)]
        assert main(args) == 0
    np.save(root / "f.npy", np.load(FIXTURE / "held_out.npy")[:1, :3])
    return {"nir": root / "nir" / "model.nir", "lava": root / "lava", "frames": root / "f.npy"}


def _simulate(artefact: Path, frames: Path, out: Path, backend=None) -> int:
    args = ["simulate", str(artefact), "--frames", str(frames), "-o", str(out)]
    return main(args + ([] if backend is None else ["--backend", backend]))


def _dataset(path: str, fn):
    def edit(node):
        a = fn(np.array(node[path][()]))
        del node[path]
        node[path] = a

    return edit


def _nan_first(a):
    a = a.astype(np.float32)
    a.flat[0] = np.nan
    return a


NIR_CASES = {
    "NaN weight": (_dataset("nodes/conv1/weight", _nan_first), "node conv1: weight holds NaN"),
    "infinite bias": (_dataset("nodes/conv2/bias", lambda a: a + np.inf), "node conv2: bias"),
    "weight beyond float32": (
        _dataset("nodes/deconv1/weight", lambda a: a.astype(np.float64) * 1e39),
        "node deconv1: weight holds NaN or infinite",
    ),
    "negative threshold": (
        _dataset("nodes/lif1/v_threshold", lambda a: -a),
        "node lif1: v_threshold must be > 0",
    ),
    "zero threshold": (
        _dataset("nodes/lif2/v_threshold", lambda a: 0 * a),
        "node lif2: v_threshold must be > 0",
    ),
    "zero time constant": (_dataset("nodes/lif3/tau", lambda a: 0 * a), "node lif3: tau must be"),
    "NaN time constant": (_dataset("nodes/lif3/tau", _nan_first), "node lif3: tau holds NaN"),
    "NaN r": (_dataset("nodes/lif1/r", _nan_first), "node lif1: r holds NaN"),
    "NaN v_reset": (_dataset("nodes/lif2/v_reset", _nan_first), "node lif2: v_reset holds NaN"),
    "bias of another length": (
        _dataset("nodes/conv2/bias", lambda a: a[:2]),
        "node conv2: bias of shape (2,)",
    ),
    "groups 0": (_dataset("nodes/conv1/groups", lambda a: 0 * a), "node conv1: groups"),
    "weight of shape (1,)": (
        _dataset("nodes/conv1/weight", lambda a: np.zeros(1, np.float32)),
        "not a readable NIR graph",
    ),
    "NaN dt": (_dataset("metadata/dt", lambda a: np.nan), "dt must be a positive number"),
}


@pytest.mark.parametrize("case", list(NIR_CASES))
def test_a_tampered_nir_graph_is_one_line_exit_2(case, exports, tmp_path, capsys):
    edit, words = NIR_CASES[case]
    bad = tmp_path / "bad.nir"
    shutil.copy(exports["nir"], bad)
    with h5py.File(bad, "r+") as f:
        edit(f["node"])
    capsys.readouterr()
    assert _simulate(bad, exports["frames"], tmp_path / "s") == 2
    assert words in _err(capsys)
    assert not (tmp_path / "s").exists()


def test_the_exports_as_written_run(exports, tmp_path):
    for art, backend in ((exports["nir"], None), (exports["lava"], "nir")):
        out = tmp_path / art.stem
        assert _simulate(art, exports["frames"], out, backend) == 0
        assert np.isfinite(np.load(out / "predictions.npy")).all()


# --- Lava bundles -----------------------------------------------------------------------------
def _manifest(edit):
    def apply(bundle: Path, outside: Path):
        man = json.loads((bundle / "manifest.json").read_text())
        edit(man)
        (bundle / "manifest.json").write_text(json.dumps(man))

    return apply


def _link_out(name: str):
    """``name`` replaced by a symbolic link to an identical copy outside the bundle."""

    def apply(bundle: Path, outside: Path):
        outside.mkdir(exist_ok=True)
        shutil.move(bundle / name, outside / name)
        (bundle / name).symlink_to(outside / name)

    return apply


def _link_folder(bundle: Path, outside: Path):
    outside.mkdir(exist_ok=True)
    shutil.move(bundle / "graph.nir", outside / "graph.nir")
    (bundle / "sub").symlink_to(outside)
    _manifest(lambda m: m.update(nir_file="sub/graph.nir"))(bundle, outside)


def _graph_folder(bundle: Path, outside: Path):
    (bundle / "dir").mkdir()
    _manifest(lambda m: m.update(nir_file="dir"))(bundle, outside)


def _nan_graph(bundle: Path, outside: Path):
    with h5py.File(bundle / "graph.nir", "r+") as f:
        _dataset("nodes/conv2/weight", _nan_first)(f["node"])


def _deep(bundle: Path, outside: Path):
    man = json.loads((bundle / "manifest.json").read_text())
    man["extra"] = "DEEP"
    text = json.dumps(man).replace('"DEEP"', "[" * 100_000 + "]" * 100_000)
    (bundle / "manifest.json").write_text(text)


def _set_synapse(i, key, value):
    return _manifest(lambda m: m["synapses"][i].update({key: value}))


def _set_neuron(i, key, value):
    return _manifest(lambda m: m["neurons"][i].update({key: value}))


BUNDLE_CASES = {
    "manifest a link out of the bundle": (_link_out("manifest.json"), "a symbolic link"),
    "graph a link out of the bundle": (_link_out("graph.nir"), "a symbolic link"),
    "graph behind a linked folder": (_link_folder, "a symbolic link"),
    "graph a folder": (_graph_folder, "lacks its file 'dir'"),
    "graph outside": (_manifest(lambda m: m.update(nir_file="../x.nir")), "outside the bundle"),
    "one synapse fewer": (
        _manifest(lambda m: m["synapses"].pop(1)),
        "3 synapses and 3 neurons, the NIR graph has 4 and 3",
    ),
    "one neuron population more": (
        _manifest(lambda m: m["neurons"].append(dict(m["neurons"][0], name="lif9"))),
        "4 neurons, the NIR graph has 4 and 3",
    ),
    "no neurons": (_manifest(lambda m: m.update(neurons=[])), "0 neurons"),
    "synapse with other channels": (_set_synapse(0, "c_out", 8), "synapse conv1 c_out is 8"),
    "synapse with another kernel": (_set_synapse(1, "kernel", [5, 5]), "synapse conv2 kernel"),
    "synapse feeding another population": (_set_synapse(1, "target", "lif3"), "target is lif3"),
    "readout feeding a population": (_set_synapse(3, "target", "lif3"), "synapse deconv2 target"),
    "neuron population of another shape": (
        _set_neuron(1, "shape", [4, 10, 14]),
        "neuron population lif2",
    ),
    "neuron population renamed": (_set_neuron(0, "name", "lifX"), "neuron population lifX"),
    "frame shape not the graph's": (
        _manifest(lambda m: m.update(frame_shape=[20, 29])),
        "frame_shape [20, 29]",
    ),
    "probe not an object": (_manifest(lambda m: m.update(probe=[1])), "malformed manifest"),
    "NaN weight in the graph": (_nan_graph, "node conv2: weight holds NaN"),
    "deeply nested manifest": (_deep, "manifest.json"),
}


@pytest.mark.parametrize("backend", ["nir", None])
@pytest.mark.parametrize("case", list(BUNDLE_CASES))
def test_a_tampered_bundle_is_one_line_exit_2(case, backend, exports, tmp_path, capsys):
    edit, words = BUNDLE_CASES[case]
    bad = tmp_path / "bundle"
    shutil.copytree(exports["lava"], bad)
    edit(bad, tmp_path / "outside")
    capsys.readouterr()
    # backend None: the default, Lava; the bundle is refused before Lava would start
    assert _simulate(bad, exports["frames"], tmp_path / "s", backend) == 2
    assert words in _err(capsys)
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("name", ["probe_frames.npy", "expected_spikes.npz"])
def test_probe_files_must_be_regular_files_inside(name, exports, tmp_path):
    bad = tmp_path / "bundle"
    shutil.copytree(exports["lava"], bad)
    _link_out(name)(bad, tmp_path / "outside")
    b = read_bundle(bad)
    with pytest.raises(UserError, match="a symbolic link"):
        b.expected() if name.endswith(".npz") else b.probe_frames()
    _manifest(lambda m: m["probe"].pop("frames"))(bad, tmp_path)
    with pytest.raises(UserError, match="probe has no 'frames'"):
        read_bundle(bad).probe_frames()


def test_a_version_1_bundle_is_checked_against_its_graph(tmp_path, capsys):
    good = FIXTURE / "export-snn-lava"
    b = read_bundle(good)
    assert b.manifest.version == 2 and b.graph().input_shape == (1, 20, 28)  # upgraded
    bad = tmp_path / "v1"
    shutil.copytree(good, bad)
    _manifest(lambda m: m["synapses"][0].update(kernel=5))(bad, tmp_path)
    with pytest.raises(UserError, match="synapse conv1 kernel is \\[5, 5\\]"):
        read_bundle(bad).graph()
