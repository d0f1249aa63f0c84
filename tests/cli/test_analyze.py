"""``edge-shm analyze``: connectivity density by hand, and the report across runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_shm.app.analyze import connectivity_density, weight_stats
from edge_shm.cli import main


@pytest.mark.fast
def test_connectivity_density_equals_a_hand_count():
    w = np.array([[0.0, 5e-4, -9.99e-4], [1e-3, -1e-3, 0.2]], np.float32)
    # |w| >= 1e-3: 1e-3 (float32 rounds it to 0.0010000000475), -1e-3, 0.2 -> 3 of 6
    assert connectivity_density(w) == 0.5
    s = weight_stats({"a": w, "b": np.ones(2, np.float32)})
    assert s["conv_weights"] == 8 and s["connectivity_density"] == 5 / 8
    assert s["min"] == np.float32(-1e-3) and s["max"] == 1.0


def test_analyze_reports_runs_with_activity(spiking_snn_run, snn_run_dir, crack_lib_path,
                                            tmp_path):  # fmt: skip
    out = tmp_path / "an"
    rc = main(["analyze", str(spiking_snn_run), str(snn_run_dir), "--library",
               str(crack_lib_path), "-o", str(out)])  # fmt: skip
    assert rc == 0
    rows = json.loads((out / "analysis.json").read_text())["runs"]
    assert len(rows) == 2 and all(0 < r["connectivity_density"] <= 1 for r in rows)
    assert 0 < rows[0]["activity_sparsity"] < 1  # the gained SNN fires
    assert (out / "weights.png").stat().st_size > 1000 and (out / "analysis.md").is_file()


@pytest.mark.fast
def test_analyze_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    rc = main(["analyze", str(tmp_path), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "not a run folder" in err[0]
