"""Training called directly: the configuration built whole by ``TrainConfig.from_options``,
``train_run``'s stages, files and result, nothing printed, one-line refusals before any work."""

from __future__ import annotations

import dataclasses

import pytest

from edge_shm.app.train import TrainRequest, model_catalog, train_run
from edge_shm.errors import UserError
from edge_shm.models import model_class
from edge_shm.training.config import TrainConfig


def test_from_options_builds_the_whole_configuration():
    cfg = TrainConfig.from_options("convlstm", paper_size=True, epochs=2, schedule="cosine")
    assert cfg.model_options == {**model_class("convlstm").config_class.PAPER, "size": "paper"}
    assert (cfg.epochs, cfg.schedule, cfg.loss, cfg.batch_size) == (2, "cosine", "mse", 32)
    assert TrainConfig.from_options("snn").model_options == {}


@pytest.mark.parametrize(
    ("model", "fields", "words"),
    [
        ("gpt", {}, "unknown model 'gpt'"),
        ("snn", {"paper_size": True}, "--paper-size: model 'snn' has no paper-size preset"),
        ("snn", {"epochs": 0}, "--epochs must be a positive integer"),
        ("snn", {"lr": float("inf")}, "--lr must be a positive finite number"),
        ("snn", {"max_train_windows": -5}, "--max-windows must be a positive integer"),
        ("snn", {"loss": "l1"}, "unknown loss 'l1'"),
    ],
)
def test_from_options_refuses_in_one_line(model, fields, words):
    with pytest.raises(UserError, match=words) as e:
        TrainConfig.from_options(model, **fields)
    assert "\n" not in str(e.value)


def test_train_run_trains_resumes_and_reports_through_its_stages(
    crack_lib_path, tmp_path, stages, capsys
):
    run, notes = tmp_path / "run", []
    cfg = TrainConfig.from_options("snn", epochs=1, batch_size=8, max_train_windows=16)
    result = train_run(TrainRequest(cfg, crack_lib_path, run, data="memory"), stages, notes.append)
    assert (result.output, result.band, result.main) == (run, None, True)
    assert result.metrics["epochs_done"] == 1 and result.metrics["final_train_loss"] > 0
    assert {"weights.safetensors", "config.json", "metrics.json", "loss.png"} <= {
        p.name for p in run.iterdir()
    }
    assert stages.seen == [("training snn", 16, 16)] and notes == []
    assert capsys.readouterr().out == ""  # the application layer prints nothing
    more = dataclasses.replace(cfg, epochs=2)  # resumed: one epoch left
    result = train_run(TrainRequest(more, crack_lib_path, run), stages)
    assert stages.seen[-1] == ("training snn", 16, 16) and result.metrics["epochs_done"] == 2


def test_train_run_refuses_before_any_work(crack_lib_path, tmp_path, stages):
    cfg = TrainConfig.from_options("snn", epochs=1)
    with pytest.raises(UserError, match="--workers must be 0 to"):
        train_run(TrainRequest(cfg, crack_lib_path, tmp_path / "r", workers=-1), stages)
    with pytest.raises(UserError, match="is also an input"):
        train_run(TrainRequest(cfg, crack_lib_path, crack_lib_path), stages)
    with pytest.raises(UserError, match="unknown device 'tpu'"):
        train_run(TrainRequest(cfg, crack_lib_path, tmp_path / "r", device="tpu"), stages)
    assert stages.seen == [] and not (tmp_path / "r").exists()


def test_a_motion_network_calibrates_its_band(mixed_lib_path, tmp_path, stages):
    cfg = TrainConfig.from_options("motion-snn", epochs=1, batch_size=64, lr=0.003)
    result = train_run(TrainRequest(cfg, mixed_lib_path, tmp_path / "m"), stages)
    names = [s[0] for s in stages.seen]
    assert names == ["reading crack motion", "training motion-snn", "calibrating the forecast band"]
    assert all(total == done for _, total, done in stages.seen)
    assert (tmp_path / "m" / "band.json").is_file() and len(result.band["ratio"]) == 4


def test_training_summary_names_the_loss_and_the_band(tmp_path):
    from edge_shm.reports.evaluation import training_summary

    metrics = {"final_train_loss": 0.0123456, "train_seconds_total": 3.21}
    assert training_summary(metrics, None, "mse", tmp_path) == (
        f"final train loss 0.012346 (mse loss, per pixel), 3.2 s of training; run in {tmp_path}"
    )
    band = {"quantile": 0.9, "windows": [30, 28], "ratio": [0.5, 1.25]}
    first, last = training_summary(metrics, band, "mse", tmp_path).splitlines()
    assert first == (
        "forecast band (90% of tip errors, 30 held-out windows): 0.50 / 1.25 x (S + 1 px) at "
        "horizons 1-2"
    )
    assert "(log(1 + tip error / (S + 1 px)), per window)" in last


def test_the_catalog_lists_every_registered_predictor():
    rows = {m.name: m for m in model_catalog()}
    assert (rows["snn"].parameters, rows["snn"].spiking) == (1477, True)
    assert (rows["lstm"].parameters, rows["lstm"].spiking) == (32_692_581, False)
    assert "onnx" in rows["snn"].targets and rows["snn"].description


def test_crack_models_default_to_the_settings_that_forecast():
    """Without --loss / --batch-size the base SNN and LSTM get the bench's settings (weighted
    / mse, batch 16); --loss mse keeps the paper's protocol; other models keep MSE and 32."""
    snn = TrainConfig.from_options("snn", loss="auto", batch_size=None)
    assert (snn.loss, snn.batch_size) == ("weighted", 16)
    lstm = TrainConfig.from_options("lstm", loss="auto")
    assert (lstm.loss, lstm.batch_size) == ("mse", 16)
    paper = TrainConfig.from_options("snn", loss="mse", batch_size=32)
    assert (paper.loss, paper.batch_size) == ("mse", 32)
    other = TrainConfig.from_options("rnn", loss="auto")
    assert (other.loss, other.batch_size) == ("mse", 32)
