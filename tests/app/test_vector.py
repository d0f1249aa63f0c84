"""The encode use case called directly: the document and drawing it writes, the typed result,
progress per frame, and one-line refusals before any work."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_shm import vector
from edge_shm.app.vector import EncodeRequest, encode_vectors
from edge_shm.errors import UserError

pytestmark = pytest.mark.fast


def crack(shape=(20, 30), row=9, end=20) -> np.ndarray:
    """(H, W) float32: a 2-px-wide bright crack from the left edge to column ``end``."""
    f = np.zeros(shape, np.float32)
    f[row : row + 2, :end] = 1.0
    return f


def test_one_frame(tmp_path):
    np.save(tmp_path / "c.npy", crack())
    request = EncodeRequest(tmp_path / "c.npy", tmp_path / "c.json", pixel_mm=0.1, tolerance=1)
    r = encode_vectors(request)
    assert (r.shape, r.pixel_mm, r.svg, len(r.geometries)) == ((20, 30), 0.1, None, 1)
    assert r.geometries[0].nodes.shape == (2, 2)  # one straight polyline
    assert r.mean_main_length_mm == pytest.approx(1.9, abs=0.06)  # 19 px between end centres
    x, y = r.tip_mm
    assert x == pytest.approx(1.95, abs=0.06) and y == pytest.approx(1.05, abs=0.06)
    doc = json.loads((tmp_path / "c.json").read_text())
    assert (doc["format"], doc["format_version"]) == ("edge-shm-crack-vectors", 1)
    assert doc["leading_shape"] == [] and doc["frame_shape_px"] == [20, 30]
    assert doc["settings"] == {
        "threshold_1": 0.5,
        "min_size_px": 10,
        "tolerance_px": 1,
        "min_branch_px": vector.MIN_BRANCH_PX,
        "gap_px": 0.0,
    }
    assert doc["summary"] == json.loads(json.dumps(r.summary))
    assert doc["frames"][0]["measures"]["nodes_count"] == 2


def test_a_stack_reports_progress_and_draws_the_first_sample(tmp_path, stages):
    stack = np.stack([crack(end=e) for e in (8, 12, 16, 20, 24, 28)]).reshape(2, 3, 20, 30)
    stack[1, 2] = 0.0  # an empty frame
    np.save(tmp_path / "s.npy", stack)
    request = EncodeRequest(tmp_path / "s.npy", tmp_path / "s.json", svg=tmp_path / "s.svg")
    r = encode_vectors(request, progress=stages)
    assert stages.seen == [("encoding frames", 6, 6)]
    assert r.shape == (2, 3, 20, 30) and r.pixel_mm == vector.DEFAULT_PIXEL_MM
    assert r.tip_mm is None and r.encode_ms.shape == (6,)
    assert r.summary["frames_count"] == 6 and r.summary["empty_frames_count"] == 1
    lengths = [vector.main_length_mm(g) for g in r.geometries]
    assert lengths[:5] == sorted(lengths[:5]) and lengths[5] == 0
    assert r.mean_main_length_mm == pytest.approx(np.mean(lengths))
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["leading_shape"] == [2, 3] and len(doc["frames"]) == 6
    for entry, g in zip(doc["frames"], r.geometries, strict=True):
        assert np.array_equal(vector.CrackGeometry.from_dict(entry).nodes, g.nodes)
    assert r.svg.read_text().count("<polyline") == 3  # the first sample's three frames


def test_a_library_sets_its_pixel_size(tiny_library, tmp_path):
    r = encode_vectors(EncodeRequest(tiny_library, tmp_path / "l.json"))
    assert r.pixel_mm == 0.05 and r.shape == (8, 5, 16, 20) and len(r.geometries) == 40
    with pytest.raises(UserError, match="--pixel-mm does not apply to a library"):
        encode_vectors(EncodeRequest(tiny_library, tmp_path / "m.json", pixel_mm=0.1))
    assert not (tmp_path / "m.json").exists()


def test_an_earlier_document_is_replaced_a_foreign_file_is_not(tmp_path):
    np.save(tmp_path / "c.npy", crack())
    out = tmp_path / "c.json"
    encode_vectors(EncodeRequest(tmp_path / "c.npy", out))
    assert vector.is_vectors_file(out)
    encode_vectors(EncodeRequest(tmp_path / "c.npy", out, tolerance=2.0))
    assert json.loads(out.read_text())["settings"]["tolerance_px"] == 2.0
    (tmp_path / "mine.json").write_text('{"mine": true}')
    assert not vector.is_vectors_file(tmp_path / "mine.json")
    with pytest.raises(UserError, match="refusing to replace"):
        encode_vectors(EncodeRequest(tmp_path / "c.npy", tmp_path / "mine.json"))
    assert (tmp_path / "mine.json").read_text() == '{"mine": true}'


@pytest.mark.parametrize(
    "fields, why",
    [
        (dict(tolerance=-0.5), "--tolerance must be a non-negative number of px"),
        (dict(tolerance=float("inf")), "--tolerance"),
        (dict(threshold=1.0), r"--threshold must lie in \[0, 1\)"),
        (dict(min_size=-1), "--min-size must be a non-negative number of px"),
        (dict(gap_px=float("nan")), "--gap-px must be a non-negative number of px"),
        (dict(pixel_mm=-1.0), "pixel"),
        (dict(svg="c.npy"), "also an input"),
        (dict(frames="missing.npy"), "no such file"),
    ],
)
def test_bad_requests_are_refused_in_one_line(tmp_path, monkeypatch, fields, why, stages):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "c.npy", crack())
    request = EncodeRequest(**{"frames": "c.npy", "output": "x.json", **fields})
    with pytest.raises(UserError, match=why) as e:
        encode_vectors(request, progress=stages)
    assert "\n" not in str(e.value) and stages.seen == []
    assert not (tmp_path / "x.json").exists()
