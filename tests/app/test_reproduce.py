"""``reproduce`` called directly: refusals before any work, the folder it knows as its own, and
its report rendered from evaluations (no training here: ``tests/cli/test_reproduce.py`` runs the
whole tiny preset)."""

from __future__ import annotations

import pytest

from edge_shm.app.reproduce import (
    KIND,
    PRESETS,
    ReproduceRequest,
    is_reproduce_folder,
    reproduce,
)
from edge_shm.errors import UserError
from edge_shm.outputs import record_written
from edge_shm.reports.reproduce import FCG_MODELS, TURING_MODELS, write_reproduce_report

pytestmark = pytest.mark.fast


def test_reproduce_refuses_before_any_work(tmp_path):
    notes = []
    with pytest.raises(UserError, match="unknown preset 'huge'; choose one of tiny, quick, full"):
        reproduce(ReproduceRequest(tmp_path / "a", "huge"), notes.append)
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match="exists and is not a folder"):
        reproduce(ReproduceRequest(tmp_path / "f", "tiny"), notes.append)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(UserError, match="not empty and not an earlier reproduce folder"):
        reproduce(ReproduceRequest(mine, "tiny"), notes.append)
    assert notes == [] and not (tmp_path / "a").exists()
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_a_reproduce_folder_is_known_by_its_record(tmp_path):
    ours, other = tmp_path / "ours", tmp_path / "other"
    for folder, kind in ((ours, KIND), (other, "profile folder")):
        folder.mkdir()
        record_written(folder, [], kind)
    assert is_reproduce_folder(ours) and not is_reproduce_folder(other)
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "fcg.h5").write_text("not a library")
    assert not is_reproduce_folder(tmp_path / "plain")


def _evaluation(mae: float, copy: float) -> dict:
    step = {"model": {"mae": mae}, "copy_last": {"mae": copy}}
    return {"rollout": {"steps": [step] * 10}}


def test_the_report_renders_each_claim_with_a_verdict(tmp_path):
    evs = {m: _evaluation(0.004, 0.02) for m in FCG_MODELS}
    evs |= {m: _evaluation(0.02, 0.03) for m in TURING_MODELS}
    evs["stclif"] = _evaluation(0.01, 0.03)
    params = {
        "snn": 1477,
        "lstm": 32_692_581,
        "convlstm": 3_000_000,
        "predrnnpp": 4_000_000,
        "simvp": 5_000_000,
        "stclif": 200_000,
    }
    row = {
        "conv_weights": 100,
        "variance": 0.01,
        "min": -0.5,
        "max": 0.5,
        "connectivity_density": 0.9,
        "activity_sparsity": None,
    }
    rows = [
        {**row, "model": "convlstm"},
        {
            **row,
            "model": "stclif",
            "variance": 0.001,
            "connectivity_density": 0.2,
            "activity_sparsity": 0.95,
        },
    ]
    mem = {"pixel_B": 50688, "vector_B": 344.0, "nodes": 40.0, "frames": 8}
    path = write_reproduce_report(tmp_path, "tiny", PRESETS["tiny"], evs, params, rows, mem)
    text = path.read_text()
    assert path == tmp_path / "REPORT.md" and text.count("Paper:") == 5
    assert "STCLIF against the best ANN (convlstm): +50.00 %" in text
    assert text.count("**reproduced**") == 6 and "**not reproduced**" not in text
    assert (
        "| stclif | 200,000 | 0.01000 |" in text and "| 1 | 0.00400 | 0.00400 | 0.02000 |" in text
    )
    for png in ("mae_per_step_fcg.png", "mae_per_step_turing.png", "accuracy_cost_turing.png"):
        assert (tmp_path / png).stat().st_size > 1000
