"""Hostile calibration folders: every field the integer engine and Lava fixed_pt use is checked.

A real calibration of the v0.1 fixture run (20 x 28 px, seconds to make) is copied and one field
corrupted per case, then re-sealed (both checksums recomputed, as a careless or hostile writer
would), so that the field's own check must catch it: ``simulate --backend int`` and ``export
--fixed-point`` exit 2 with one ``error:`` line naming the problem and write nothing.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from edge_shm.cli.main import main
from edge_shm.errors import UserError
from edge_shm.firmware_sim.fixed_graph import FixedGraph, values_sha256

pytestmark = pytest.mark.fast

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "v0_1"
RUN, LIB = FIXTURE / "run-snn", FIXTURE / "library.h5"


def _err(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.fixture(scope="module")
def calibs(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for target in ("loihi", "int8"):
        out[target] = tmp_path_factory.mktemp("calib") / target
        args = ["calibrate", str(RUN), "-l", str(LIB), "-t", target, "--sequences", "2"]
        assert main([*args, "-o", str(out[target])]) == 0
    return out


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("frames") / "f.npy"
    np.save(path, np.load(FIXTURE / "held_out.npy")[:1, :3])
    return path


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _reseal(folder: Path, meta: dict, text: str | None = None) -> None:
    """Rewrite calibration.json with both checksums matching (``text``: verbatim instead)."""
    meta["tensors_sha256"] = _sha(folder / "tensors.npz")
    meta["values_sha256"] = values_sha256(meta)
    (folder / "calibration.json").write_text(text or json.dumps(meta, indent=1))


def _arrays(folder: Path) -> dict:
    with np.load(folder / "tensors.npz") as z:
        return {k: z[k] for k in z.files}


def _savez(folder: Path, arrays: dict, allow_pickle: bool = False) -> None:
    with open(folder / "tensors.npz", "wb") as f:
        np.savez(f, allow_pickle=allow_pickle, **arrays)


def _json(key, value):
    def edit(meta, folder):
        meta[key] = value

    return edit


def _layer(i, key, value):
    def edit(meta, folder):
        meta["layers"][i][key] = value

    return edit


def _tensor(key, fn):
    def edit(meta, folder):
        arrays = _arrays(folder)
        fn(arrays, key)
        _savez(folder, arrays)

    return edit


def _set(value):
    def fn(arrays, key):
        arrays[key] = value

    return fn


def _non_array(meta, folder):
    arrays = _arrays(folder)
    del arrays["conv1.weight"]
    _savez(folder, arrays)
    with zipfile.ZipFile(folder / "tensors.npz", "a") as z:
        z.writestr("conv1.weight", b"not an array")


def _object_array(meta, folder):
    arrays = _arrays(folder)
    arrays["conv1.bias"] = np.array([{"a": 1}] * 16, dtype=object)
    _savez(folder, arrays, allow_pickle=True)


def _not_mantissa(arrays, key):
    arrays[key] = arrays[key] + 1  # loihi kernels are m << e with e >= 1 here


def _deep(meta, folder):
    meta["report"] = "DEEP"
    return json.dumps(meta).replace('"DEEP"', "[" * 100_000 + "]" * 100_000)


def _post(ops):
    return _json("post", ops)


# case: (target, edit, words: one of them is in the error line)
CASES = {
    "no layers": ("loihi", _json("layers", []), ["layers must be a non-empty list"]),
    "layers an object": ("loihi", _json("layers", {"a": 1}), ["layers must be"]),
    "readout scale 0": ("loihi", _layer(-1, "scale", 0), ["deconv2: scale must be"]),
    "readout scale -1": ("int8", _layer(-1, "scale", -1.0), ["deconv2: scale must be"]),
    "readout scale NaN": ("loihi", _layer(-1, "scale", float("nan")), ["scale", "NaN"]),
    "readout scale inf": ("int8", _layer(-1, "scale", float("inf")), ["scale", "Infinity"]),
    "readout scale 10**400": ("loihi", _layer(-1, "scale", 10**400), ["scale must be"]),
    "string scale": ("loihi", _layer(0, "scale", "2048"), ["conv1: scale must be"]),
    "bool scale": ("int8", _layer(0, "scale", True), ["conv1: scale must be"]),
    "input_scale 0": ("loihi", _json("input_scale", 0), ["input_scale"]),
    "input_scale 7": ("int8", _json("input_scale", 7), ["input_scale must be 1 or 255"]),
    "input_scale string": ("loihi", _json("input_scale", "255"), ["input_scale"]),
    "dt 0": ("loihi", _json("dt", 0.0), ["dt must be"]),
    "vth 0": ("loihi", _layer(0, "vth", 0), ["conv1: vth"]),
    "vth -5": ("int8", _layer(1, "vth", -5), ["conv2: vth"]),
    "vth beyond int16": ("int8", _layer(1, "vth", 40000), ["conv2: vth"]),
    "vth beyond 2**16": ("loihi", _layer(1, "vth", 2**17), ["conv2: vth"]),
    "dv 1e9": ("loihi", _layer(0, "dv", 10**9), ["conv1: dv must be an integer in [0, 4096]"]),
    "dv -1": ("int8", _layer(0, "dv", -1), ["conv1: dv"]),
    "dv 0.5": ("loihi", _layer(2, "dv", 0.5), ["deconv1: dv"]),
    "weight_exp 40": ("loihi", _layer(0, "weight_exp", 40), ["conv1: weight_exp"]),
    "multiplier 0": ("int8", _layer(0, "multiplier", 0), ["conv1: multiplier"]),
    "shift 0": ("int8", _layer(0, "shift", 0), ["conv1: shift"]),
    "shift 99": ("int8", _layer(0, "shift", 99), ["conv1: shift"]),
    "in_shape breaks the chain": ("loihi", _layer(1, "in_shape", [3, 20, 28]), ["in_shape"]),
    "out_shape not the convolution's": (
        "int8",
        _layer(0, "out_shape", [16, 10, 14]),
        ["conv1: out_shape"],
    ),
    "stride 0": ("loihi", _layer(0, "stride", [0, 1]), ["conv1: stride"]),
    "padding a string": ("loihi", _layer(0, "padding", "same"), ["conv1: padding"]),
    "readout with a LIF": ("loihi", _layer(-1, "lif", "lif9"), ["deconv2: lif"]),
    "hidden layer without LIF": ("int8", _layer(0, "lif", None), ["conv1: lif"]),
    "repeated LIF name": ("loihi", _layer(1, "lif", "lif1"), ["repeat"]),
    "name with a newline": ("loihi", _layer(0, "name", "conv1\nx"), ["printable"]),
    "unknown layer field": ("loihi", _layer(0, "gain", 3), ["unknown fields"]),
    "layer not an object": ("int8", _json("layers", [1, 2]), ["layers[0] must be an object"]),
    "unknown target": ("loihi", _json("target", "tpu"), ["unknown target"]),
    "two input channels": ("loihi", _json("input_shape", [2, 20, 28]), ["input_shape"]),
    "input_shape a string": ("int8", _json("input_shape", "20x28"), ["input_shape"]),
    "model a number": ("loihi", _json("model", 5), ["model must be a string"]),
    "unknown output operation": ("loihi", _post([{"op": "rot90"}]), ["post"]),
    "depth_to_space factor 0": (
        "loihi",
        _post([{"op": "depth_to_space", "factor": 0}]),
        ["factor"],
    ),
    "depth_to_space that does not fit": (
        "int8",
        _post([{"op": "depth_to_space", "factor": 2}]),
        ["does not fit"],
    ),
    "codec a string": ("loihi", _json("codec", "motion"), ["codec"]),
    "window 0": ("int8", _json("window", 0), ["window must be an integer in [1, 1024]"]),
    "window a list": ("loihi", _json("window", [3, 1]), ["window must be an integer"]),
    "pixel_mm negative": ("loihi", _json("pixel_mm", -0.075), ["pixel_mm must be a finite"]),
    "pixel_mm NaN": ("int8", _json("pixel_mm", float("nan")), ["pixel_mm", "NaN"]),
    "unknown top-level field": ("loihi", _json("gain", 2.0), ["unknown fields ['gain']"]),
    "deeply nested report": ("loihi", _deep, ["calibration.json"]),
    # tensors.npz
    "weight of shape (1,)": (
        "loihi",
        _tensor("conv1.weight", _set(np.zeros(1, np.int32))),
        ["conv1: weight of shape (1,)"],
    ),
    "weight with other channels": (
        "int8",
        _tensor("conv2.weight", _set(np.zeros((4, 8, 3, 3), np.int32))),
        ["conv2: weight of shape"],
    ),
    "bias of another length": (
        "loihi",
        _tensor("conv2.bias", _set(np.zeros(3, np.int32))),
        ["conv2: bias of shape"],
    ),
    "float weights": (
        "int8",
        _tensor("conv1.weight", _set(np.full((16, 1, 3, 3), np.nan))),
        ["integer array"],
    ),
    "weights beyond int32": (
        "int8",
        _tensor("conv1.bias", _set(np.full(16, 2**40, np.int64))),
        ["beyond int32"],
    ),
    "loihi kernel not 8-bit mantissas": (
        "loihi",
        _tensor("conv1.weight", _not_mantissa),
        ["8-bit mantissas"],
    ),
    "int8 kernel beyond int8": (
        "int8",
        _tensor("conv1.weight", _set(np.full((16, 1, 3, 3), 300, np.int32))),
        ["beyond int8"],
    ),
    "missing bias": ("loihi", _tensor("conv2.bias", lambda a, k: a.pop(k)), ["no entry conv2"]),
    "entry of no layer": (
        "int8",
        _tensor("ghost.weight", _set(np.zeros(1, np.int32))),
        ["belong to no layer"],
    ),
    "non-array entry": ("loihi", _non_array, ["integer array, not bytes"]),
    "object array entry": ("int8", _object_array, ["unreadable"]),
}


def _corrupt(calibs, target: str, edit, dest: Path) -> Path:
    shutil.copytree(calibs[target], dest)
    meta = json.loads((dest / "calibration.json").read_text())
    text = edit(meta, dest)
    _reseal(dest, meta, text)
    return dest


@pytest.mark.parametrize("case", list(CASES))
def test_a_corrupted_calibration_is_one_line_exit_2(case, calibs, frames, tmp_path, capsys):
    target, edit, words = CASES[case]
    bad = _corrupt(calibs, target, edit, tmp_path / "bad")
    capsys.readouterr()
    out = tmp_path / "sim"
    args = ["simulate", str(bad), "--frames", str(frames), "--backend", "int", "-o", str(out)]
    assert main(args) == 2
    line = _err(capsys)
    assert any(w in line for w in words), line
    assert not out.exists()
    # export --fixed-point never says ok on it (it refuses it before running Lava)
    out = tmp_path / "export"
    args = ["export", str(RUN), "-t", "lava", "--fixed-point", str(bad), "-o", str(out)]
    assert main([*args, "--frames", str(LIB)]) == 2
    line = _err(capsys)
    assert any(w in line for w in words), line
    assert not out.exists()


def test_forecast_refuses_a_corrupted_calibration(calibs, tmp_path, capsys):
    bad = _corrupt(calibs, "loihi", _layer(-1, "scale", 0), tmp_path / "bad")
    np.save(tmp_path / "f.npy", np.load(FIXTURE / "held_out.npy")[0, :4])
    capsys.readouterr()
    args = ["forecast", str(bad), "--frames", str(tmp_path / "f.npy"), "-o", str(tmp_path / "o")]
    assert main(args) == 2
    assert "deconv2: scale must be a finite number > 0" in _err(capsys)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "edit",
    [_layer(-1, "scale", 1.0), _layer(0, "vth", 1), _json("input_scale", 255), _json("dt", 2e-3)],
)
def test_a_value_changed_without_its_checksum_is_tampering(edit, calibs, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(calibs["loihi"], bad)
    meta = json.loads((bad / "calibration.json").read_text())
    edit(meta, bad)
    (bad / "calibration.json").write_text(json.dumps(meta))
    with pytest.raises(UserError, match="values_sha256 differs from its values"):
        FixedGraph.load(bad)


def _as_version(folder: Path, version: int) -> dict:
    """Rewrite a version-3 folder as the writer of ``version`` would have (1: no
    values_sha256; 1 and 2: no window, pixel_mm)."""
    meta = json.loads((folder / "calibration.json").read_text())
    meta["format_version"] = version
    del meta["window"], meta["pixel_mm"]
    if version == 1:
        del meta["values_sha256"]
    else:
        meta["values_sha256"] = values_sha256(meta)
    (folder / "calibration.json").write_text(json.dumps(meta, indent=2))
    return meta


def _as_version_1(folder: Path) -> dict:
    return _as_version(folder, 1)


def test_versions_1_and_2_still_load_and_are_checked(calibs, frames, tmp_path, capsys):
    meta = json.loads((calibs["int8"] / "calibration.json").read_text())
    assert meta["format_version"] == 3 and len(meta["values_sha256"]) == 64
    assert meta["window"] == 3 and meta["pixel_mm"] == 0.075
    preds = {}
    for version in (3, 2, 1):
        folder = tmp_path / f"v{version}"
        shutil.copytree(calibs["int8"], folder)
        if version < 3:
            _as_version(folder, version)
            fixed = FixedGraph.load(folder)
            assert fixed.window is None and fixed.pixel_mm is None
        out = tmp_path / f"sim-{version}"
        args = ["simulate", str(folder), "--frames", str(frames), "--backend", "int"]
        assert main([*args, "-o", str(out)]) == 0
        preds[version] = np.load(out / "predictions.npy")
    assert np.isfinite(preds[1]).all()
    assert np.array_equal(preds[1], preds[3]) and np.array_equal(preds[2], preds[3])
    # version 1 has no values checksum: the field checks alone refuse a bad value
    bad = tmp_path / "v1-bad"
    shutil.copytree(calibs["loihi"], bad)
    meta = _as_version_1(bad)
    meta["layers"][-1]["scale"] = 0
    (bad / "calibration.json").write_text(json.dumps(meta))
    with pytest.raises(UserError, match="deconv2: scale must be a finite number > 0"):
        FixedGraph.load(bad)
    for version in (4, True, "2", 2.0):
        meta["format_version"] = version
        (bad / "calibration.json").write_text(json.dumps(meta))
        with pytest.raises(UserError, match="format version"):
            FixedGraph.load(bad)


def test_the_writer_refuses_what_the_reader_would(calibs, tmp_path):
    fixed = FixedGraph.load(calibs["loihi"])
    fixed.layers[0].vth = 0
    (tmp_path / "w").mkdir()
    with pytest.raises(UserError, match="cannot be written: layer conv1: vth"):
        fixed.save(tmp_path / "w")
    assert not (tmp_path / "w" / "calibration.json").exists()


def _verify(fixed, monkeypatch):
    """export/fixed_point.verify_fixed with Lava replaced by the integer engine (so both sides
    agree by construction; what is judged is whether the comparison means anything)."""
    import edge_shm.firmware_sim.lava.fixed as lava_fixed
    from edge_shm.export.fixed_point import describe_fixed, verify_fixed
    from edge_shm.firmware_sim.int_engine import IntEngine
    from edge_shm.runs import load_run

    monkeypatch.setattr(
        lava_fixed, "run_fixed", lambda folder, seqs: [IntEngine(fixed).run(s) for s in seqs]
    )
    model, _ = load_run(RUN, "cpu")
    seqs = np.load(FIXTURE / "held_out.npy")[:1, :3]
    with np.errstate(divide="ignore", invalid="ignore"):
        res = verify_fixed(model, fixed, Path("unused"), seqs)
    return res, describe_fixed(res)


def test_fixed_point_verification_is_not_ok_when_it_shows_nothing(calibs, monkeypatch):
    fixed = FixedGraph.load(calibs["loihi"])
    res, text = _verify(fixed, monkeypatch)
    assert res["ok"] and res["problems"] == [] and np.isfinite(res["max_abs_frame_diff_vs_float"])
    fixed.layers[-1].scale = 0.0  # in memory: the reader refuses it in a folder
    res, text = _verify(fixed, monkeypatch)
    assert not res["ok"] and "integer forecast not finite" in res["problems"]
    assert np.isnan(res["max_abs_frame_diff_vs_float"]) and "not verified" in text
    fixed = FixedGraph.load(calibs["loihi"])
    fixed.layers[-1].weight[:] = 0
    fixed.layers[-1].bias[:] = 0
    res, _ = _verify(fixed, monkeypatch)
    assert not res["ok"] and res["problems"] == ["every readout value is 0 on both sides"]
