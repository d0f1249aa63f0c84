"""``edge-shm encode``: frames to polylines (JSON, SVG), summary table, one-line errors."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import numpy as np
import pytest
from skimage import io

from edge_shm import vector
from edge_shm.cli import main
from edge_shm.data.generators import build_fcg


def crack(shape=(40, 60), row=20, end=45) -> np.ndarray:
    f = np.zeros(shape, np.float32)
    f[row : row + 2, :end] = 1.0
    return f


@pytest.fixture(scope="module")
def lib_path(tmp_path_factory):
    return build_fcg(tmp_path_factory.mktemp("lib") / "l.h5", 6, 0)


def run(capsys, *args):
    rc = main(["encode", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_encode_library_json_svg_and_table(lib_path, tmp_path, capsys):
    rc, out, err = run(capsys, lib_path, "-o", tmp_path / "c.json", "--svg", tmp_path / "c.svg")
    assert rc == 0, err
    doc = json.loads((tmp_path / "c.json").read_text())
    assert doc["leading_shape"] == [6, 8] and doc["frame_shape_px"] == [96, 132]
    assert doc["pixel_size_mm"] == pytest.approx(0.075)
    assert len(doc["frames"]) == 48
    s = doc["summary"]
    assert s["pixel_bytes_float32_B"] == 50_688
    assert s["compression_ratio_x"] == pytest.approx(50_688 / s["mean_vector_bytes_B"])
    assert s["reconstruction_mae_1"] <= 0.005 and s["mean_hausdorff_px"] <= 1.0
    g = vector.CrackGeometry.from_dict(doc["frames"][-1])
    assert vector.main_length_mm(g) == pytest.approx(
        doc["frames"][-1]["measures"]["main_length_mm"]
    )
    for label in (
        "mean nodes per frame (nodes)",
        "compression ratio M_p / M_v (x)",
        "reconstruction MAE",
        "mean Hausdorff distance (px)",
        "(B)",
        "(ms)",
    ):
        assert label in out
    svg = (tmp_path / "c.svg").read_text()
    ElementTree.fromstring(svg.split("?>", 1)[1])  # well-formed XML
    assert svg.startswith("<?xml") and svg.count("<polyline") == 8  # first sample's frames
    assert 'width="10.2000mm"' in svg  # (132 px + 2 x 2 px margin) x 0.075 mm


@pytest.mark.fast
def test_encode_png_with_pixel_size(tmp_path, capsys):
    io.imsave(tmp_path / "c.png", (crack() * 255).astype(np.uint8), check_contrast=False)
    rc, out, err = run(
        capsys,
        tmp_path / "c.png",
        "-o",
        tmp_path / "c.json",
        "--pixel-mm",
        "0.1",
        "--tolerance",
        "1",
    )
    assert rc == 0, err
    doc = json.loads((tmp_path / "c.json").read_text())
    assert doc["leading_shape"] == [] and len(doc["frames"]) == 1
    m = doc["frames"][0]["measures"]
    assert m["nodes_count"] == 2 and m["main_length_mm"] == pytest.approx(4.4, abs=0.05)
    assert "tip position x, y (mm)" in out


@pytest.mark.fast
def test_encode_flat_image_folder_and_nd_npy(tmp_path, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    for t in range(3):
        io.imsave(folder / f"f{t}.tif", crack(end=20 + 10 * t))
    rc, _, err = run(capsys, folder, "-o", tmp_path / "f.json")
    assert rc == 0, err
    doc = json.loads((tmp_path / "f.json").read_text())
    lengths = [f["measures"]["main_length_mm"] for f in doc["frames"]]
    assert doc["leading_shape"] == [3] and lengths == sorted(lengths)

    stack = np.stack([crack(end=e) for e in (20, 30, 40, 50, 55, 58)]).reshape(2, 3, 40, 60)
    stack[1, 2] = 0.0  # an empty frame
    np.save(tmp_path / "s.npy", stack)
    rc, out, err = run(capsys, tmp_path / "s.npy", "-o", tmp_path / "s.json")
    assert rc == 0, err
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["leading_shape"] == [2, 3] and doc["summary"]["empty_frames_count"] == 1
    assert doc["frames"][-1]["nodes_px"] == [] and doc["frames"][-1]["measures"]["tip_mm"] == [
        None,
        None,
    ]


def _bad_inputs(tmp_path):
    np.save(tmp_path / "one_d.npy", np.zeros(5))
    nan = np.stack([crack(), crack()])
    nan[1, 3, 3] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    np.save(tmp_path / "big.npy", crack() * 3)
    (tmp_path / "fake.png").write_text("not an image")
    (tmp_path / "notes.txt").write_text("hello")
    return {
        "one_d.npy": "2 dimensions",
        "nan.npy": "NaN",
        "big.npy": "[0, 1]",
        "fake.png": "not a readable image",
        "notes.txt": "not an image (PNG, TIFF, JPEG, BMP, GIF)",
        "missing.npy": "no such file",
    }


@pytest.mark.fast
def test_bad_inputs_one_line_exit_2(tmp_path, capsys):
    for name, why in _bad_inputs(tmp_path).items():
        rc, out, err = run(capsys, tmp_path / name, "-o", tmp_path / "x.json")
        assert rc == 2, name
        assert err.startswith("error: ") and why in err, err
        assert err.count("\n") == 1, err
    assert not (tmp_path / "x.json").exists()


@pytest.mark.fast
def test_bad_options_exit_2(lib_path, tmp_path, capsys):
    np.save(tmp_path / "s.npy", crack())
    cases = [
        (lib_path, "--pixel-mm", "0.1"),
        (tmp_path / "s.npy", "--pixel-mm", "-1"),
        (tmp_path / "s.npy", "--tolerance", "-0.5"),
        (tmp_path / "s.npy", "--threshold", "1.5"),
    ]
    for args in cases:
        rc, _, err = run(capsys, args[0], "-o", tmp_path / "x.json", *args[1:])
        assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    rc, _, err = run(capsys, tmp_path / "s.npy", "-o", tmp_path / "s.npy" / "x.json")
    assert rc == 2 and "output folder cannot be made" in err and "is not a folder" in err


@pytest.mark.fast
def test_a_multi_page_tiff_encodes_every_page(tmp_path, capsys):
    import json

    import tifffile

    pages = np.zeros((3, 20, 30), np.uint8)
    for k in range(3):
        pages[k, 9:11, : 8 + 6 * k] = 255  # a crack growing page by page
    tifffile.imwrite(tmp_path / "seq.tif", pages, photometric="minisblack")  # 3 grey pages
    assert main(["encode", str(tmp_path / "seq.tif"), "-o", str(tmp_path / "v.json")]) == 0
    doc = json.loads((tmp_path / "v.json").read_text())
    assert doc["leading_shape"] == [3]
    lengths = [f["measures"]["main_length_mm"] for f in doc["frames"]]
    assert lengths[0] < lengths[1] < lengths[2]
