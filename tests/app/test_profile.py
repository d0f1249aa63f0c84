"""Profiling called directly: a complete, frozen profile built in one place, its report, its
stage, and one-line refusals that write nothing."""

from __future__ import annotations

import dataclasses
import json

import pytest

from edge_shm.app.profile import ProfileRequest, profile_run
from edge_shm.errors import UserError


def test_profile_run_returns_the_complete_profile(snn_run_dir, crack_lib_path, tmp_path, stages,
                                                  capsys):  # fmt: skip
    out = tmp_path / "p"
    request = ProfileRequest(
        snn_run_dir,
        "loihi2-core",
        library=crack_lib_path,
        max_windows=4,
        budget_ram_kb=256,
        output=out,
        torch_device="cpu",
    )
    result = profile_run(request, stages)
    p = result.profile
    assert result.folder == out and stages.seen == [("profiling", 4, 4)]
    assert (p.model, p.parameters, p.device["name"]) == ("snn", 1477, "loihi2-core")
    assert p.run["dir"] == str(snn_run_dir) and "deployed" not in p.run
    assert (p.frames["windows"], p.frames["steps_per_forecast"]) == (4, 3)
    assert p.energy.available and p.energy.frame_rate_Hz == pytest.approx(1 / 60)
    ram = next(c for c in p.memory_budget.checks if c.memory == "RAM")
    assert ram.budget_B == 256 * 1024
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.energy = None  # built whole, never patched afterwards
    stored = json.loads((out / "profile.json").read_text())
    assert stored["run"] == p.run and stored["frames"] == p.frames
    assert stored["energy"]["total_pJ"] == pytest.approx(p.energy.total_pJ)
    assert {"profile.md", "energy.png", "memory.png"} <= {f.name for f in out.iterdir()}
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"device": "nope"}, "unknown device 'nope'"),
        ({"budget_ram_kb": -5}, "--budget-ram must be a positive number"),
        ({"frame_rate_hz": 0}, "--frame-rate must be a positive number"),
        ({"max_windows": 0}, "--max-windows must be a positive integer"),
        ({"split": "validation"}, "--split must be train or test"),
        ({"library": None}, "give exactly one of --library and --frames"),
    ],
)
def test_profile_run_refuses_in_one_line(snn_run_dir, crack_lib_path, tmp_path, stages, fields,
                                         words):  # fmt: skip
    request = {"device": "loihi2", "library": crack_lib_path, "output": tmp_path / "p", **fields}
    with pytest.raises(UserError, match=words) as e:
        profile_run(ProfileRequest(snn_run_dir, **request), stages)
    assert "\n" not in str(e.value) and not (tmp_path / "p").exists() and stages.seen == []
