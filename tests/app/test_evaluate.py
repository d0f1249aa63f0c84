"""Evaluation and comparison called directly: typed results, the report written where asked,
nothing printed, one-line refusals that write nothing."""

from __future__ import annotations

import json
import shutil

import pytest

from edge_shm.app.evaluate import (
    CompareRequest,
    EvaluateRequest,
    compare_runs,
    evaluate_model,
    evaluate_run,
)
from edge_shm.errors import UserError
from edge_shm.reports.evaluation import FILES


def test_evaluate_run_writes_the_report_it_returns(snn_run_dir, crack_lib, crack_lib_path,
                                                   tmp_path, capsys):  # fmt: skip
    out = tmp_path / "ev"
    result = evaluate_run(EvaluateRequest(snn_run_dir, crack_lib_path, out, device="cpu"))
    assert result.folder == out and set(FILES) <= {p.name for p in out.iterdir()}
    assert result.markdown.startswith("# Evaluation of `snn` (1,477 parameters)")
    assert result.markdown.endswith(f"report: {out / 'evaluation.md'}")
    run = result.evaluation.run
    assert (run["split"], run["model"]) == ("test", "snn")
    assert run["library_fingerprint"] == crack_lib.fingerprint()
    assert json.loads((out / "evaluation.json").read_text())["run"] == run
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({}, "name a report folder with -o, or write into the run folder with --into-run"),
        ({"output": "ev", "into_run": True}, "name a report folder with -o"),
        ({"output": "ev", "split": "train"}, "--split must be test or all, got 'train'"),
        ({"output": "ev", "split": "all"}, "the run was trained on this library"),
        ({"output": "ev", "device": "tpu"}, "unknown device 'tpu'"),
    ],
)
def test_evaluate_run_refuses_in_one_line(snn_run_dir, crack_lib_path, tmp_path, fields, words):
    if "output" in fields:
        fields = {**fields, "output": tmp_path / fields["output"]}
    with pytest.raises(UserError, match=words) as e:
        evaluate_run(EvaluateRequest(snn_run_dir, crack_lib_path, **fields))
    assert "\n" not in str(e.value) and not (tmp_path / "ev").exists()


@pytest.fixture(scope="module")
def evaluated_snn(snn_run_dir, crack_lib, tmp_path_factory):
    from edge_shm.runs import load_run

    run = tmp_path_factory.mktemp("evaluated") / "snn"
    shutil.copytree(snn_run_dir, run)
    model, config = load_run(run)
    result = evaluate_model(model, config, crack_lib, run)
    assert result.folder == run and (run / "evaluation.json").is_file()
    return run


def test_compare_runs_fills_typed_rows_with_energy(evaluated_snn, crack_lib_path, tmp_path):
    out = tmp_path / "cmp"
    request = CompareRequest(
        (evaluated_snn,), out, ("loihi2",), library=crack_lib_path, profile_windows=2
    )
    said: list[str] = []
    result = compare_runs(request, note=said.append)
    (row,) = result.rows
    assert (row.model, row.spiking, row.parameters) == ("snn", True, 1477)
    assert row.energy_uj["loihi2"] > 0 and row.firing_rate is not None
    assert "energy per forecast, loihi2 (uJ)" in result.markdown and said == []
    (stored,) = json.loads((out / "comparison.json").read_text())["runs"]
    assert stored["energy_loihi2_uj"] == pytest.approx(row.energy_uj["loihi2"])
    assert stored["tip_error_h1_median_mm"] == row.tip_error_mm
    assert (out / "accuracy_vs_parameters.png").is_file()
    # the tiny run draws no crack: no tip error, so the energy figure plots MAE and says so
    assert row.tip_error_mm is None and "Accuracy axis: one-step MAE" in result.markdown
    assert (out / "energy_vs_mae.png").is_file() and not (out / "energy_vs_tip_error.png").exists()


def test_compare_plots_energy_against_tip_error(evaluated_snn, crack_lib_path, tmp_path):
    run = tmp_path / "drawn"
    shutil.copytree(evaluated_snn, run)
    ev = json.loads((run / "evaluation.json").read_text())
    ev["forecast"]["horizons"][0]["methods"]["model"]["tip_error_mm"]["median"] = 0.5
    (run / "evaluation.json").write_text(json.dumps(ev))
    out = tmp_path / "cmp"
    request = CompareRequest((run,), out, ("loihi2",), crack_lib_path, 2)
    (row,) = compare_runs(request).rows
    assert row.tip_error_mm == 0.5
    assert (out / "energy_vs_tip_error.png").is_file() and not (out / "energy_vs_mae.png").exists()
    md = (out / "comparison.md").read_text()
    assert "Accuracy axis: median tip error one frame ahead (mm)." in md and "| 0.500 |" in md


def test_compare_defaults_to_loihi2_and_the_old_loihi_name_means_loihi1(
    evaluated_snn, crack_lib_path, tmp_path
):
    assert CompareRequest(()).devices == ("loihi2", "arm-cortex-a")
    request = CompareRequest(
        (evaluated_snn,), tmp_path / "cmp", ("loihi", "loihi1"), crack_lib_path, 2
    )
    said: list[str] = []
    (row,) = compare_runs(request, note=said.append).rows
    assert list(row.energy_uj) == ["loihi1"]  # one column: the old name is the same profile
    (line,) = said
    assert "'loihi' is the deprecated name of 'loihi1'" in line and "\n" not in line


def test_compare_prices_no_twin_on_a_spiking_only_device(
    evaluated_snn, crack_lib_path, tmp_path, monkeypatch
):
    from edge_shm.reports import plots

    drawn = {}
    monkeypatch.setattr(plots, "energy_vs_firing_rate", lambda c, p: drawn.update(curves=c))
    request = CompareRequest((evaluated_snn,), tmp_path / "cmp", library=crack_lib_path,
                             profile_windows=2)  # fmt: skip
    md = compare_runs(request).markdown
    refs = {c["label"]: c["references"] for c in drawn["curves"]}
    assert set(refs) == {"loihi2", "arm-cortex-a"}
    assert "non-spiking twin" not in refs["loihi2"] and "non-spiking twin" in refs["arm-cortex-a"]
    assert "- `loihi2`: no non-spiking twin: loihi2 runs spiking networks only." in md
    assert "above 1.000" not in md and "spike rate up to 1 spike/neuron/step" in md


def test_compare_runs_without_energy_and_its_refusals(evaluated_snn, snn_run_dir, tmp_path):
    result = compare_runs(CompareRequest((evaluated_snn,), tmp_path / "cmp", energy=False))
    assert result.rows[0].energy_uj == {} and "one-step MAE" in result.markdown
    for request, words in (
        (CompareRequest((evaluated_snn,), tmp_path / "a", profile_windows=0), "--profile-windows"),
        (CompareRequest((snn_run_dir,), tmp_path / "a"), "not evaluated yet"),
        (CompareRequest((evaluated_snn,), tmp_path / "a", devices=("nope",)), "unknown device"),
        (CompareRequest((evaluated_snn,), evaluated_snn, energy=False), "is also an input"),
    ):
        with pytest.raises(UserError, match=words):
            compare_runs(request)
    assert not (tmp_path / "a").exists()
