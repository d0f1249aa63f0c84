"""The matched study's verdict follows its numbers: STCLIF's margin over the best ANN per
seed and on the mean, against the paper's 27.71 %."""

from __future__ import annotations

import pytest

from edge_shm.reports.matched import summarise, verdict

pytestmark = pytest.mark.fast


def _ev(maes, copy=0.1, parameters=1000):
    steps = [{"model": {"mae": m}, "copy_last": {"mae": copy}} for m in maes]
    return {"rollout": {"steps": steps}, "parameters": parameters}


def _evs(stclif: list[float], ann: list[float]) -> dict:
    """Per seed, a flat MAE over 10 steps for STCLIF and for three ANNs (simvp the best)."""
    return {
        "stclif": [_ev([s] * 10, parameters=1000) for s in stclif],
        "convlstm": [_ev([a * 1.5] * 10, parameters=10_000) for a in ann],
        "predrnnpp": [_ev([a * 2.0] * 10, parameters=11_000) for a in ann],
        "simvp": [_ev([a] * 10, parameters=9_000) for a in ann],
    }


def test_a_margin_beyond_the_papers_on_every_seed_is_reproduced():
    s = summarise(_evs([0.06, 0.07], [0.1, 0.1]))
    assert s["best_ann"] == "simvp" and s["stclif_lower_pct"] == pytest.approx(35.0)
    assert s["stclif_lower_pct_per_seed"] == pytest.approx([40.0, 30.0])
    assert s["reproduced"] and s["parameter_ratio"]["simvp"] == pytest.approx(9.0)
    assert "**reproduced**" in verdict(s) and "35.0 % lower" in verdict(s)


def test_a_smaller_margin_is_partly_reproduced_and_a_loss_is_not():
    s = summarise(_evs([0.09, 0.09], [0.1, 0.1]))
    assert not s["reproduced"] and "**partly reproduced**" in verdict(s)
    s = summarise(_evs([0.12, 0.05], [0.1, 0.1]))  # better on one seed, worse on the mean
    assert s["stclif_lower_pct"] == pytest.approx(15.0) and not s["reproduced"]
    assert "-20.0 to +50.0 % over 2 seeds" in verdict(s)
    s = summarise(_evs([0.2], [0.1]))
    assert "**not reproduced**" in verdict(s) and "100.0 % higher" in verdict(s)


def test_nothing_to_forecast_is_undecided():
    s = summarise(_evs([0.0], [0.0]))
    assert "**undecided**" in verdict(s)
