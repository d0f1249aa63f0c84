"""The hostile-input sweep: each bad input gives one line, exit 2, and changes nothing on disk.

Every case runs the CLI in-process in a folder holding a library, a run, its exports and a set
of broken files; before and after, every file of that folder is hashed: a refused command must
leave every input and existing output byte-identical and write nothing new.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from edge_shm.cli import main


def _config_edit(run: Path, **changes):
    cfg = json.loads((run / "config.json").read_text())
    for key, value in changes.items():
        if key.startswith("mc_"):
            cfg["model_config"][key[3:]] = value
        elif value is None:
            cfg.pop(key)
        else:
            cfg[key] = value
    (run / "config.json").write_text(json.dumps(cfg))


def _attrs_edit(src: Path, dst: Path, **attrs):
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        for k, v in attrs.items():
            f.attrs[k] = v


def _devices(path: Path, **budget):
    q = lambda v, u: {"value": v, "unit": u, "source": "test"}  # noqa: E731
    dev = {
        "kind": "mcu",
        "precision": "int8",
        "energy": {"mac": q(1, "pJ"), "ac": q(1, "pJ"), "neuron_active": q(1, "pJ")},
    }
    dev.update(budget)
    path.write_text(
        json.dumps({"format": "edge-shm-devices", "version": 1, "devices": {"bad": dev}})
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory, snn_run_dir, crack_lib_path):
    import onnx
    from onnx import TensorProto, helper

    w = tmp_path_factory.mktemp("hostile")
    shutil.copy(crack_lib_path, w / "lib.h5")
    shutil.copytree(snn_run_dir, w / "run")
    _config_edit(w / "run", library=str(w / "lib.h5"))
    for t in ("onnx", "nir", "lava"):
        assert main(["export", str(w / "run"), "-t", t, "-o", str(w / t), "--no-verify"]) == 0
    assert main(["evaluate", str(w / "run"), "--library", str(w / "lib.h5"), "--into-run"]) == 0
    np.save(w / "frames.npy", np.zeros((1, 3, 96, 132), np.float32))
    np.save(w / "complex.npy", np.zeros((2, 4, 8, 8), np.complex64))
    np.savez(w / "renamed.npy", x=np.zeros(3))  # an .npz under a .npy name
    shutil.move(w / "renamed.npy.npz", w / "renamed.npy")
    with open(w / "huge.npy", "wb") as f:  # a header that claims terabytes
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)}
        )
    with open(w / "negative.npy", "wb") as f:  # a header with a negative dimension
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (1, -3, 96, 132)}
        )
    os.mkfifo(w / "fifo.npy")  # reading it would block forever
    (w / "garbage.onnx").write_bytes(b"\x08\x07garbage" * 50)
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    onnx.save(helper.make_model(graph), w / "foreign.onnx")
    (w / "garbage.nir").write_bytes(b"not hdf5")
    nodt = w / "nodt"
    shutil.copytree(w / "nir", nodt)
    with h5py.File(nodt / "model.nir", "r+") as f:
        del f["node"]["metadata"]["dt"]
    for name, edit in {
        "bundle_escape": {"nir_file": "../../../../etc/passwd"},
        "bundle_abs": {"nir_file": "/etc/passwd"},
        "bundle_nosyn": {"synapses": None},
    }.items():
        shutil.copytree(w / "lava", w / name)
        man = json.loads((w / name / "manifest.json").read_text())
        for k, v in edit.items():
            if v is None:
                man.pop(k)
            else:
                man[k] = v
        (w / name / "manifest.json").write_text(json.dumps(man))
    shutil.copytree(w / "lava", w / "bundle_list")
    (w / "bundle_list" / "manifest.json").write_text("[1, 2]")
    # libraries broken in one way each
    _attrs_edit(w / "lib.h5", w / "skip.h5", window_skip=-1)
    _attrs_edit(w / "lib.h5", w / "win0.h5", window_in=0)
    _attrs_edit(w / "lib.h5", w / "arrattr.h5", window_in=np.array([3, 3]))
    shutil.copy(w / "lib.h5", w / "group.h5")
    with h5py.File(w / "group.h5", "r+") as f:
        del f["frames"]
        f.create_group("frames")
    shutil.copy(w / "lib.h5", w / "notrain.h5")
    with h5py.File(w / "notrain.h5", "r+") as f:
        f["split"][...] = 1
    # runs broken in one way each (the weights stay valid)
    for name, edit in {
        "extra": {"mc_colour": "red"},
        "wrongtype": {"mc_hidden": "many"},
        "negative": {"mc_hidden": [16, -4]},
        "dt0": {"mc_dt": 0},
        "huge": {"mc_height": 100000},
        "notrain": {"train": None},
    }.items():
        shutil.copytree(w / "run", w / f"run_{name}")
        _config_edit(w / f"run_{name}", **edit)
    (w / "run_badeval").mkdir()
    shutil.copytree(w / "run", w / "run_badeval", dirs_exist_ok=True)
    (w / "run_badeval" / "evaluation.json").write_text('{"one_step": 5}')
    _devices(
        w / "dev_huge.json",
        energy={
            "mac": {"value": 1e308, "unit": "J", "source": "x"},
            "ac": {"value": 1, "unit": "pJ", "source": "x"},
            "neuron_active": {"value": 1, "unit": "pJ", "source": "x"},
        },
    )
    # a user's folder that happens to hold a file of the name a command writes (issue: deleted)
    for name, files in {
        "user_export": ["export.json"],
        "user_sim": ["simulate.json"],
        "user_calib": ["calibration.json"],
        "user_analysis": ["analysis.json"],
        "user_forecast": ["forecast.jsonl", "summary.json"],
    }.items():
        (w / name).mkdir()
        for f in files:
            (w / name / f).write_text("{}")
        (w / name / "thesis.tex").write_text("chapter 1")
    shutil.copytree(w / "run", w / "run_notes")  # a run the user wrote notes into
    (w / "run_notes" / "notes.txt").write_text("lr too high?")
    deep = {"model": "snn", "model_config": {}}
    for _ in range(200):  # deeper than read_json takes, shallow enough for json itself
        deep = {"x": deep}
    shutil.copytree(w / "run", w / "run_deep")
    (w / "run_deep" / "config.json").write_text(json.dumps(deep))
    for name, edit in {"window": [0, -1], "frame_shape": [-5, "x"], "pixel_mm": 1e300}.items():
        shutil.copytree(w / "run", w / f"run_field_{name}")
        _config_edit(w / f"run_field_{name}", **{name: edit})
    shutil.copytree(w / "run", w / "run_otherlib")  # evaluated on another library
    ev = json.loads((w / "run_otherlib" / "evaluation.json").read_text())
    ev["run"]["library_fingerprint"] = "0123456789abcdef"
    (w / "run_otherlib" / "evaluation.json").write_text(json.dumps(ev))
    _devices(w / "dev_ram0.json", budget={"ram": {"value": 0, "unit": "KB", "source": "x"}})
    _devices(w / "dev_src5.json", budget={"ram": {"value": 1, "unit": "KB", "source": 5}})
    return w


LIB, RUN = "lib.h5", "run"
CASES = {
    # data loss: an output that is an input, a device, or another output of the same command
    "export into its own run": (["export", RUN, "-t", "onnx", "-o", RUN], "also an input"),
    "export over the folder holding the run": (
        ["export", RUN, "-t", "onnx", "-o", "."],
        "current or parent folder",
    ),
    "export over the parent": (["export", RUN, "-t", "onnx", "-o", ".."], "parent folder"),
    "simulate into its artefact": (
        ["simulate", "onnx", "--frames", "frames.npy", "-o", "onnx"],
        "also an input",
    ),
    "encode over its library": (["encode", LIB, "-o", LIB], "also an input"),
    "preview over its library": (["library", "preview", LIB, "-o", LIB], "also an input"),
    "json and svg the same file": (
        ["encode", LIB, "-o", "x.json", "--svg", "x.json"],
        "named for both",
    ),
    "build over a run folder": (
        ["library", "build", "fcg", "--samples", "2", "-o", RUN],
        "is a folder",
    ),
    "build over a foreign file": (
        ["library", "build", "fcg", "--samples", "2", "-o", "frames.npy"],
        "not an edge-shm library file",
    ),
    "train over the library": (["train", "-l", LIB, "-o", LIB], "also an input"),
    "evaluate into a file": (["evaluate", RUN, "-l", LIB, "-o", "frames.npy"], "not a folder"),
    "compare into a file": (["compare", RUN, "-o", "frames.npy", "--no-energy"], "not a folder"),
    "profile into a file": (
        ["profile", RUN, "-d", "loihi2", "-l", LIB, "-o", "frames.npy"],
        "not a folder",
    ),
    "profile over an export": (
        ["profile", RUN, "-d", "loihi2", "-l", LIB, "-o", "onnx"],
        "edge-shm did not write there as a profile folder",
    ),
    "compare over a run": (["compare", RUN, "-o", RUN, "--no-energy"], "also an input"),
    # path traversal inside artefacts
    "bundle pointing outside": (
        ["simulate", "bundle_escape", "--frames", "frames.npy", "-o", "s"],
        "outside the bundle",
    ),
    "bundle with an absolute path": (
        ["simulate", "bundle_abs", "--frames", "frames.npy", "-o", "s"],
        "not a name inside the bundle",
    ),
    # silent garbage
    "infinite learning rate": (["train", "-l", LIB, "-o", "r", "--lr", "inf"], "--lr"),
    "negative max windows": (
        ["train", "-l", LIB, "-o", "r", "--max-windows", "-5"],
        "--max-windows",
    ),
    "negative window skip": (["library", "info", "skip.h5"], "window_skip"),
    "complex frames": (["library", "import", "complex.npy", "-o", "c.h5"], "real numbers"),
    "device energy 1e308 J": (
        ["profile", RUN, "-d", "bad", "--devices", "dev_huge.json", "-l", LIB, "-o", "p"],
        "implausible",
    ),
    # tracebacks before
    "group where frames should be": (["library", "info", "group.h5"], "'frames' dataset"),
    "array-valued attribute": (["library", "info", "arrattr.h5"], "must be one int"),
    "no train split": (["train", "-l", "notrain.h5", "-o", "r"], "no train samples"),
    "window_in 0": (["library", "info", "win0.h5"], "window_in"),
    "max windows 0": (
        ["profile", RUN, "-d", "loihi2", "-l", LIB, "--max-windows", "0", "-o", "p"],
        "--max-windows",
    ),
    "config with an extra key": (
        ["export", "run_extra", "-t", "onnx", "-o", "e"],
        "unknown key 'colour'",
    ),
    "config with a wrong type": (
        ["evaluate", "run_wrongtype", "-l", LIB, "--into-run"],
        "wrong type",
    ),
    "config with negative channels": (
        ["evaluate", "run_negative", "-l", LIB, "--into-run"],
        "positive",
    ),
    "config with dt 0": (["evaluate", "run_dt0", "-l", LIB, "--into-run"], "'dt' must be positive"),
    "config with a huge frame": (
        ["evaluate", "run_huge", "-l", LIB, "--into-run"],
        "outside 1..4096",
    ),
    "compare without a training record": (
        ["compare", "run_notrain", "--no-energy", "-o", "c"],
        "training record",
    ),
    "compare with a tampered evaluation": (
        ["compare", "run_badeval", "--no-energy", "-o", "c"],
        "malformed evaluation",
    ),
    "npz renamed npy": (
        ["simulate", "onnx", "--frames", "renamed.npy", "-o", "s"],
        "not a .npy array",
    ),
    "npy with a negative dimension": (
        ["simulate", "onnx", "--frames", "negative.npy", "-o", "s"],
        "negative size",
    ),
    "npy that is a FIFO": (
        ["simulate", "onnx", "--frames", "fifo.npy", "-o", "s"],
        "not a regular file",
    ),
    "npy claiming terabytes": (["simulate", "onnx", "--frames", "huge.npy", "-o", "s"], "GiB"),
    "corrupt onnx": (
        ["simulate", "garbage.onnx", "--frames", "frames.npy", "-o", "s"],
        "not a loadable ONNX model",
    ),
    "foreign onnx": (
        ["simulate", "foreign.onnx", "--frames", "frames.npy", "-o", "s"],
        "not an edge-shm step graph",
    ),
    "corrupt nir": (
        ["simulate", "garbage.nir", "--frames", "frames.npy", "-o", "s"],
        "not a readable NIR graph",
    ),
    "nir without dt": (["simulate", "nodt", "--frames", "frames.npy", "-o", "s"], "'dt'"),
    "manifest without synapses": (
        ["simulate", "bundle_nosyn", "--frames", "frames.npy", "-o", "s"],
        "malformed manifest",
    ),
    "manifest that is a list": (
        ["simulate", "bundle_list", "--frames", "frames.npy", "-o", "s"],
        "Lava bundle manifest",
    ),
    "turing size 2": (["library", "build", "turing", "--size", "2", "-o", "t.h5"], "--size"),
    "turing size 100000": (
        ["library", "build", "turing", "--size", "100000", "-o", "t.h5"],
        "--size",
    ),
    "samples 1e12": (
        ["library", "build", "fcg", "--samples", "1e12", "-o", "t.h5"],
        "valid integer",
    ),
    "samples 10^12": (["library", "build", "fcg", "--samples", str(10**12), "-o", "t.h5"], "GiB"),
    "device with ram 0": (
        ["profile", RUN, "-d", "bad", "--devices", "dev_ram0.json", "-l", LIB, "-o", "p"],
        "budget must be positive",
    ),
    # second sweep: folders judged by a file name, then deleted whole
    "export over a user's folder": (
        ["export", RUN, "-t", "onnx", "-o", "user_export"],
        "edge-shm did not write there",
    ),
    "simulate over a user's folder": (
        ["simulate", "onnx", "--frames", "frames.npy", "-o", "user_sim"],
        "edge-shm did not write there",
    ),
    "calibrate over a user's folder": (
        ["calibrate", RUN, "-l", LIB, "-t", "int8", "-o", "user_calib"],
        "edge-shm did not write there",
    ),
    "analyze over a user's folder": (
        ["analyze", RUN, "-l", LIB, "-o", "user_analysis"],
        "edge-shm did not write there",
    ),
    "forecast over a user's folder": (
        ["forecast", RUN, "--frames", "frames.npy", "-o", "user_forecast"],
        "edge-shm did not write there",
    ),
    "train --no-resume over a run with notes": (
        ["train", "-l", LIB, "-o", "run_notes", "--no-resume", "--epochs", "1"],
        "edge-shm did not write there",
    ),
    "evaluate with neither -o nor --into-run": (["evaluate", RUN, "-l", LIB], "--into-run"),
    # second sweep: names, streams, nesting, fields
    "output named -": (["library", "build", "fcg", "--samples", "2", "-o", "-"], "standard output"),
    "file output ending in /": (
        ["library", "build", "fcg", "--samples", "2", "-o", "newdir/"],
        "names a folder",
    ),
    "name of 300 characters": (
        ["library", "build", "fcg", "--samples", "2", "-o", "n" * 296 + ".h5"],
        "too long",
    ),
    "name of 245 characters": (
        ["library", "build", "fcg", "--samples", "2", "-o", "n" * 241 + ".h5"],
        "too long",
    ),
    "path over 4096 bytes": (
        ["library", "build", "fcg", "--samples", "2", "-o", "d/" * 2100 + "x.h5"],
        "path is too long",
    ),
    "config nested 200 deep": (["export", "run_deep", "-t", "onnx", "-o", "e"], "config"),
    "config window [0, -1]": (["export", "run_field_window", "-t", "onnx", "-o", "e"], "'window'"),
    "config frame_shape [-5, x]": (
        ["export", "run_field_frame_shape", "-t", "onnx", "-o", "e"],
        "'frame_shape'",
    ),
    "config pixel_mm 1e300": (
        ["export", "run_field_pixel_mm", "-t", "onnx", "-o", "e"],
        "'pixel_mm'",
    ),
    "compare across libraries": (
        ["compare", RUN, "run_otherlib", "--no-energy", "-o", "c"],
        "evaluate them on one library",
    ),
    "library seed 2^70": (
        ["library", "build", "fcg", "--samples", "2", "--seed", str(2**70), "-o", "t.h5"],
        "--seed must be",
    ),
    "training seed 2^40": (["train", "-l", LIB, "-o", "r", "--seed", str(2**40)], "--seed must be"),
    "100000 workers": (
        ["train", "-l", LIB, "-o", "r", "--data", "lazy", "--workers", "100000"],
        "--workers must be 0 to",
    ),
    # unclear messages before
    "library info on a folder": (["library", "info", RUN], "is a folder, not a library"),
    "source 5": (["devices", "--devices", "dev_src5.json"], "source must be text"),
}


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else "dir"
        for p in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input(case, world, capsys, monkeypatch):
    args, fragment = CASES[case]
    monkeypatch.chdir(world)
    before = _snapshot(world)
    capsys.readouterr()
    rc = main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2, (rc, err)
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert fragment in err[0], err[0]
    assert _snapshot(world) == before
