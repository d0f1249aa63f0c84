"""Training loop, run directories and their failure modes."""

import json

import numpy as np
import pytest
import torch

from edge_shm.errors import UserError
from edge_shm.models import build_model
from edge_shm.runs import load_run
from edge_shm.training import TrainConfig, train
from edge_shm.training.losses import crack_band, loss_fn


def test_one_training_step_lowers_the_loss_on_a_fixed_batch(crack_lib):
    from edge_shm.data.window_dataset import WindowDataset

    torch.manual_seed(0)
    x, y = WindowDataset(crack_lib, "train").batch(np.arange(8))
    cfg = TrainConfig()
    for name in ("snn", "lstm"):
        m = build_model(name)
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        before = loss_fn(m(x)[:, -1], y[:, 0], x[:, -1], cfg)
        opt.zero_grad()
        before.backward()
        opt.step()
        with torch.no_grad():
            after = loss_fn(m(x)[:, -1], y[:, 0], x[:, -1], cfg)
        assert after < before, name


@pytest.mark.fast
def test_weighted_loss_weighs_a_band_around_the_crack():
    pred = torch.zeros(1, 1, 12, 12)
    pred[0, 0, 11, 11] = 1.0  # a false positive far from the crack: weight 1
    target = torch.zeros_like(pred)
    target[0, 0, 0, 0] = 1.0  # a missed crack pixel: weight 1 + w
    last = torch.zeros_like(pred)
    assert loss_fn(pred, target, last, TrainConfig(loss="mse")) == pytest.approx(2 / 144)
    w = loss_fn(pred, target, last, TrainConfig(loss="weighted", crack_weight=3.0))
    assert w == pytest.approx((4 + 1) / 144)
    band = crack_band(target, last)[0, 0]
    assert band[:5, :5].all() and band.sum() == 25


def test_run_directory_reloads_to_identical_predictions(snn_run_dir, crack_lib):
    files = {p.name for p in snn_run_dir.iterdir()}
    assert {"weights.safetensors", "config.json", "metrics.json", "loss.png"} <= files
    assert not [f for f in files if f.endswith((".pt", ".pth", ".pkl"))]
    config = json.loads((snn_run_dir / "config.json").read_text())
    assert config["model"] == "snn" and config["parameters"] == 1477
    assert config["library_fingerprint"] == crack_lib.fingerprint()
    m1, _ = load_run(snn_run_dir)
    m2, _ = load_run(snn_run_dir)
    x = torch.from_numpy(crack_lib.frames[-1:, :3]).unsqueeze(2)
    with torch.no_grad():
        assert torch.equal(m1(x), m2(x))


def test_training_is_deterministic_and_resumes(crack_lib, tmp_path):
    cfg = TrainConfig(model="snn", epochs=2, batch_size=8, max_train_windows=16, seed=4)
    full = train(crack_lib, tmp_path / "a", cfg, resume=False)
    train(crack_lib, tmp_path / "b", TrainConfig(**{**cfg.__dict__, "epochs": 1}))
    resumed = train(crack_lib, tmp_path / "b", cfg)
    assert [h["train_loss"] for h in resumed["history"]] == pytest.approx(
        [h["train_loss"] for h in full["history"]], rel=1e-6
    )
    wa = (tmp_path / "a" / "weights.safetensors").read_bytes()
    wb = (tmp_path / "b" / "weights.safetensors").read_bytes()
    assert wa == wb


def test_resume_refuses_a_different_configuration(crack_lib, tmp_path):
    cfg = TrainConfig(model="snn", epochs=1, batch_size=8, max_train_windows=8)
    train(crack_lib, tmp_path / "r", cfg)
    with pytest.raises(UserError, match="different run"):
        train(crack_lib, tmp_path / "r", TrainConfig(**{**cfg.__dict__, "lr": 0.01}))


def test_missing_files_and_tampered_weights(snn_run_dir, tmp_path):
    import shutil

    bad = tmp_path / "copy"
    shutil.copytree(snn_run_dir, bad)
    (bad / "config.json").unlink()
    with pytest.raises(UserError, match="missing config.json"):
        load_run(bad)
    shutil.rmtree(bad)
    shutil.copytree(snn_run_dir, bad)
    data = bytearray((bad / "weights.safetensors").read_bytes())
    data[-5] ^= 0xFF
    (bad / "weights.safetensors").write_bytes(bytes(data))
    with pytest.raises(UserError, match="checksum"):
        load_run(bad)
    (bad / "weights.safetensors").write_bytes(b"garbage")
    cfg = json.loads((bad / "config.json").read_text())
    cfg.pop("weights_sha256")
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UserError, match="corrupt safetensors"):
        load_run(bad)
    with pytest.raises(UserError, match="not a run directory"):
        load_run(tmp_path / "nothing")


def test_two_trainings_into_one_folder_are_refused(crack_lib, tmp_path):
    from edge_shm.runs import run_lock

    cfg = TrainConfig(model="snn", epochs=1, batch_size=8, max_train_windows=8)
    with run_lock(tmp_path / "r"), pytest.raises(UserError, match="another training"):
        train(crack_lib, tmp_path / "r", cfg)
    assert not (tmp_path / "r").exists()
    train(crack_lib, tmp_path / "r", cfg)  # the lock is gone with its holder
    assert not list(tmp_path.glob(".r.*"))


def test_a_diverging_training_writes_nothing(crack_lib, tmp_path, monkeypatch):
    import edge_shm.training.loop as loop

    real = loop.loss_fn
    monkeypatch.setattr(loop, "loss_fn", lambda *a: real(*a) * float("inf"))
    cfg = TrainConfig(model="snn", epochs=1, batch_size=8, max_train_windows=16)
    with pytest.raises(UserError, match="diverged"):
        train(crack_lib, tmp_path / "r", cfg)
    assert list(tmp_path.iterdir()) == []


def test_weights_that_do_not_fit_name_the_tensor(snn_run_dir, tmp_path):
    import shutil

    from edge_shm.runs import save_tensors

    run = tmp_path / "r"
    shutil.copytree(snn_run_dir, run)
    model, _ = load_run(run)
    state = model.state_dict()
    state["conv1.weight"] = torch.zeros(3, 1, 3, 3)
    cfg = json.loads((run / "config.json").read_text())
    cfg["weights_sha256"] = save_tensors(run / "weights.safetensors", state)
    (run / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UserError, match=r"tensor 'conv1.weight' has shape \(3, 1, 3, 3\)"):
        load_run(run)
    state = model.state_dict()
    state["conv2.bias"] = torch.full_like(state["conv2.bias"], float("nan"))
    cfg["weights_sha256"] = save_tensors(run / "weights.safetensors", state)
    (run / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UserError, match="'conv2.bias' holds NaN"):
        load_run(run)


@pytest.mark.fast
def test_cosine_schedule_and_older_runs_without_it():
    cfg = TrainConfig(epochs=4, lr=1e-3, schedule="cosine")
    expected = [1e-3, 8.53553390593e-4, 5e-4, 1.46446609407e-4]
    assert [cfg.lr_at(e) for e in range(4)] == pytest.approx(expected, rel=1e-9)
    assert TrainConfig(lr=1e-3).lr_at(3) == 1e-3
    old = TrainConfig().to_dict()
    old.pop("schedule")  # a run written before the schedule existed
    assert TrainConfig().same_run(old) and not TrainConfig(schedule="cosine").same_run(old)
    with pytest.raises(UserError, match="unknown schedule"):
        TrainConfig(schedule="step").check()


@pytest.mark.fast
def test_crack_pixel_weight_moves_the_decision_to_1_over_1_plus_a():
    """Half the targets cracked (p = 0.5): the constant forecast minimising the loss is
    a p / (a p + 1 - p) = 0.75 for a = 3, against 0.5 for the calibrated a = 1."""
    target = torch.zeros(1, 1, 4, 4)
    target[..., :2, :] = 1.0
    last = torch.zeros_like(target)
    for a, best in ((1.0, 0.5), (3.0, 0.75)):
        cfg = TrainConfig(loss="mse", crack_pixel_weight=a)
        ys = torch.linspace(0, 1, 401)
        losses = [loss_fn(torch.full_like(target, float(y)), target, last, cfg) for y in ys]
        assert float(ys[int(torch.stack(losses).argmin())]) == pytest.approx(best, abs=1e-9)
    with pytest.raises(UserError, match="--crack-pixel-weight"):
        TrainConfig(crack_pixel_weight=0.0).check()
    assert TrainConfig(crack_pixel_weight=1.0).same_run(TrainConfig().to_dict() | {"epochs": 3})


@pytest.mark.fast
def test_a_lock_file_removed_while_locking_is_not_held(tmp_path, monkeypatch):
    """A waiter that locked the file its holder just removed must not think it holds the lock."""
    import fcntl
    import os

    from edge_shm import runs as checkpoint

    lock = tmp_path / ".r.lock"
    real_flock, calls = fcntl.flock, []

    def flock_then_holder_ends(fd, op):
        real_flock(fd, op)
        calls.append(fd)
        if len(calls) == 1:  # the holder removes the file, a newcomer makes and locks a new one
            os.unlink(lock)
            lock.write_bytes(b"")

    monkeypatch.setattr(checkpoint.fcntl, "flock", flock_then_holder_ends)
    with checkpoint.run_lock(tmp_path / "r"):
        assert len(calls) == 2  # the first, stale file was given up
        assert os.path.samestat(os.fstat(calls[1]), os.stat(lock))
    assert not lock.exists()
