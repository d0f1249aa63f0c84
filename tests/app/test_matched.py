"""``reproduce --matched``: the Turing claim at equal updates and recipe, end to end on a tiny
plan (16 px frames: seconds), resumed when rerun; its refusals."""

from __future__ import annotations

import json

import pytest

from edge_shm.app.matched import MODELS, PLANS, STCLIF_WIDTH
from edge_shm.cli import main


def test_matched_tiny_trains_every_model_with_the_reference_recipe(tmp_path):
    out = tmp_path / "m"
    assert main(["reproduce", "--matched", "--preset", "tiny", "-o", str(out)]) == 0
    summary = json.loads((out / "matched.json").read_text())
    plan = PLANS["tiny"]
    for m in plan.models:
        run = out / f"matched-{m}-seed0"
        train = json.loads((run / "config.json").read_text())["train"]
        history = json.loads((run / "metrics.json").read_text())["history"]
        assert train["recipe"] == "reference" and train["batch_size"] == plan.batch
        assert len(history) == plan.epochs  # the same epochs, windows and batch for every model
        assert summary["models"][m]["parameters"] > 0
    assert (out / "matched_mae_per_step.png").stat().st_size > 1000
    text = (out / "REPORT.md").read_text()
    assert "## Verdict" in text and "27.71 %" in text and "| copy-last |" not in text[:50]
    mtime = (out / "matched-stclif-seed0" / "weights.safetensors").stat().st_mtime
    assert main(["reproduce", "--matched", "--preset", "tiny", "-o", str(out)]) == 0
    assert (out / "matched-stclif-seed0" / "weights.safetensors").stat().st_mtime == mtime


@pytest.mark.fast
def test_the_matched_plan_mixes_stclif_gates_and_gives_the_anns_ten_times_its_parameters():
    from edge_shm.models import build_model

    def parameters(name, options):
        model = build_model(name, dict(options, height=64, width=64), where="test")
        return sum(p.numel() for p in model.parameters())

    stclif = build_model("stclif", dict(MODELS["stclif"], height=64, width=64), where="test")
    for cell in stclif.cells:  # every gate group sees more than one channel
        assert cell.conv_h.in_channels // cell.conv_h.groups > 1
    assert STCLIF_WIDTH in MODELS["stclif"]["hidden"]
    base = parameters("stclif", MODELS["stclif"])
    for m in ("convlstm", "predrnnpp", "simvp"):
        assert 8 <= parameters(m, MODELS[m]) / base <= 12, m


@pytest.mark.fast
def test_matched_refusals(tmp_path, capsys):
    assert main(["reproduce", "--matched", "--quick", "-o", str(tmp_path / "a")]) == 2
    assert main(["reproduce", "--matched", "--seeds", "0", "-o", str(tmp_path / "b")]) == 2
    assert main(["reproduce", "--quick", "--seeds", "2", "-o", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "--seeds goes with --matched" in err[2]
    assert not any((tmp_path / n).exists() for n in "abc")
