"""``edge-shm reproduce`` on a tiny configuration: every figure and table of the paper is in the
report, each with the paper's claim and a verdict."""

from __future__ import annotations

import pytest

from edge_shm.cli import main

SECTIONS = (
    "## FCG: MAE per predicted step and parameters (Fig. 4a-b)",
    "## Turing: MAE per predicted step, cumulative MAE (Fig. 4c)",
    "## Accuracy-cost map (Fig. 4d)",
    "## Weight distributions and connectivity (Fig. 5)",
    "## Pixel vs vector memory",
    "## Where this departs from the paper",
)
FIGURES = (
    "mae_per_step_fcg.png",
    "mae_per_step_turing.png",
    "accuracy_cost_turing.png",
    "analysis/weights.png",
)


def test_reproduce_tiny_writes_every_figure(tmp_path):
    out = tmp_path / "rep"
    assert main(["reproduce", "--preset", "tiny", "-o", str(out)]) == 0
    text = (out / "REPORT.md").read_text()
    for s in SECTIONS:
        assert s in text, s
    assert text.count("Paper:") == 5 and text.count("reproduced") >= 6
    for f in FIGURES:
        assert (out / f).stat().st_size > 1000, f
    for m in ("convlstm", "predrnnpp", "simvp", "stclif", "snn", "lstm", "copy-last"):
        assert f"| {m} |" in text or f" {m} |" in text, m
    assert "27.71 %" in text and "22.07 %" in text and "47.44 kB" in text
    # Resumes: a second call reuses the libraries and runs.
    mtime = (out / "turing-stclif" / "weights.safetensors").stat().st_mtime
    assert main(["reproduce", "--preset", "tiny", "-o", str(out)]) == 0
    assert (out / "turing-stclif" / "weights.safetensors").stat().st_mtime == mtime


@pytest.mark.fast
def test_reproduce_bad_input(tmp_path, capsys):
    assert main(["reproduce", "--quick", "--full", "-o", str(tmp_path / "a")]) == 2
    assert main(["reproduce", "--preset", "huge", "-o", str(tmp_path / "b")]) == 2
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "mine.txt").write_text("keep")
    assert main(["reproduce", "--quick", "-o", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "not an earlier reproduce folder" in err[2]
    (tmp_path / "d").mkdir()  # a library's name alone does not make a reproduce folder
    (tmp_path / "d" / "fcg.h5").write_text("not a library")
    assert main(["reproduce", "--quick", "-o", str(tmp_path / "d")]) == 2
    assert "not an earlier reproduce folder" in capsys.readouterr().err
    assert (tmp_path / "d" / "fcg.h5").read_text() == "not a library"
