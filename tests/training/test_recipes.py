"""The training recipes: ``paper`` (what ran before recipes existed) and ``reference`` (the STCLIF
authors' OpenSTL code): timm's warm-up cosine per epoch, OpenSTL's scheduled sampling per update
(carried over a resume), batch 16 and STCLIF's ``gradient_detach``, and old runs unchanged."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from edge_shm.cli import main
from edge_shm.data.generators import build
from edge_shm.data.library import read_library
from edge_shm.data.window_dataset import WindowDataset
from edge_shm.errors import UserError
from edge_shm.models import build_model
from edge_shm.models.windows import rollout_window
from edge_shm.runs import load_run
from edge_shm.training import TrainConfig, loop, train
from edge_shm.training.recipes import reference_eta, reference_lr
from edge_shm.training.sequence import sampling_eta


def timm_cosine(t, base_lr, t_initial, lr_min, warmup_t, warmup_lr_init, k=1.0, cycle_limit=1):
    """timm's CosineLRScheduler._get_lr as OpenSTL configures it, written out again here:
    linear warm-up steps, then the first cycle of a cosine over t_initial (not shifted by the
    warm-up, warmup_prefix=False), then lr_min."""
    if t < warmup_t:
        return warmup_lr_init + t * ((base_lr - warmup_lr_init) / warmup_t)
    cycle = t // t_initial
    t_curr = t - t_initial * cycle
    if cycle >= cycle_limit:
        return lr_min
    return lr_min + 0.5 * (base_lr - lr_min) * (1 + math.cos(math.pi * t_curr**k / t_initial**k))


def expected_lr(epoch, epochs, lr=1e-3):
    """configs/kth/STCLIF.py: warmup_epoch 10, min_lr 1e-5; parser.py: warmup_lr 1e-5."""
    return timm_cosine(epoch, lr, epochs, 1e-5, 10, 1e-5)


@pytest.mark.fast
@pytest.mark.parametrize(
    ("epoch", "value"),
    [
        (0, 1e-5),  # warm-up starts at warmup_lr
        (5, 1e-5 + 5 * (1e-3 - 1e-5) / 10),
        (9, 1e-5 + 9 * (1e-3 - 1e-5) / 10),  # last warm-up epoch: one step short of the peak
        (10, 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + math.cos(math.pi * 10 / 50))),  # end of warm-up
        (25, (1e-3 + 1e-5) / 2),  # middle: cos(pi / 2) = 0
        (49, 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + math.cos(math.pi * 49 / 50))),  # last epoch
        (50, 1e-5),  # past the only cycle
    ],
)
def test_reference_lr_is_timm_cosine_with_warmup(epoch, value):
    assert expected_lr(epoch, 50) == pytest.approx(value, rel=1e-12)
    assert reference_lr(epoch, 1e-3, 50) == pytest.approx(value, rel=1e-12)
    if epoch < 50:
        cfg = TrainConfig(model="stclif", recipe="reference", epochs=50)
        assert cfg.schedule == "warmup-cosine"
        assert cfg.lr_at(epoch) == pytest.approx(value, rel=1e-12)


@pytest.mark.fast
def test_reference_eta_falls_by_2e_5_per_update_until_50000():
    for k in (1, 2, 1000, 25_000, 49_999):  # the k-th update follows k - 1 earlier ones
        assert reference_eta(k - 1) == pytest.approx(1 - 2e-5 * k, abs=1e-12)
    assert reference_eta(49_999) == pytest.approx(0.0, abs=1e-12)  # k = 50,000: 1 - 1
    assert reference_eta(50_000) == 0.0 and reference_eta(10**6) == 0.0
    eta = 1.0  # OpenSTL's running form: schedule_sampling(eta, itr) before each update
    for itr in range(60_000):
        eta = eta - 2e-5 if itr < 50_000 else 0.0
        if itr % 997 == 0 or itr in (49_999, 50_000):
            assert reference_eta(itr) == pytest.approx(max(eta, 0.0), abs=1e-9)


@pytest.mark.fast
def test_recipes_fill_what_was_not_given_and_record_it():
    paper = TrainConfig(model="stclif")
    assert (paper.recipe, paper.batch_size, paper.schedule, paper.model_options) == (
        "paper",
        32,
        "constant",
        {},
    )
    assert paper.eta_at(3, 12_345) == sampling_eta(3, paper.epochs)
    ref = TrainConfig.from_options("stclif", paper_size=True, recipe="reference", epochs=20)
    assert (ref.batch_size, ref.schedule, ref.lr) == (16, "warmup-cosine", 1e-3)
    assert ref.model_options["gradient_detach"] is True and ref.model_options["size"] == "paper"
    assert ref.eta_at(3, 99) == reference_eta(99)
    assert ref.to_dict()["recipe"] == "reference"
    mine = TrainConfig.from_options(
        "stclif", recipe="reference", batch_size=8, schedule="cosine", lr=5e-4
    )
    assert (mine.batch_size, mine.schedule, mine.lr) == (8, "cosine", 5e-4)
    off = TrainConfig(model="stclif", recipe="reference", model_options={"gradient_detach": False})
    assert off.model_options == {"gradient_detach": False}
    assert TrainConfig(model="convlstm", recipe="reference").model_options == {}
    assert TrainConfig(model="simvp", recipe="reference").model_options == {"init": "openstl"}
    assert TrainConfig(**ref.to_dict()) == ref  # a stored reference config rebuilds itself


@pytest.mark.fast
@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"model": "snn", "recipe": "reference"}, "'snn' is not a Turing sequence model"),
        ({"recipe": "openstl"}, "unknown recipe 'openstl'"),
        ({"schedule": "step"}, "unknown schedule 'step'"),
    ],
)
def test_bad_recipes_are_refused_in_one_line(fields, words):
    with pytest.raises(UserError, match=words) as e:
        TrainConfig(**fields).check()
    assert "\n" not in str(e.value)


@pytest.mark.fast
def test_a_config_written_before_recipes_is_the_same_paper_run():
    old = TrainConfig().to_dict()
    for key in ("recipe", "amp", "schedule"):  # keys older runs lack
        old.pop(key)
    assert TrainConfig().same_run(old)
    assert TrainConfig(amp=True).same_run(old)  # amp is not part of a run's identity
    assert not TrainConfig(model="stclif", recipe="reference").same_run({**old, "model": "stclif"})


@pytest.fixture(scope="module")
def turing(tmp_path_factory):
    """6 Turing samples of 22 frames at 24 x 24 px: 8 training windows of 10 -> 10."""
    path = build("turing", tmp_path_factory.mktemp("recipes") / "t.h5", 6, 1, size=24, n_frames=22)
    return read_library(path)


def _spy_eta(monkeypatch) -> list[float]:
    """The eta of every update, as the loop hands it to the sequence loss."""
    etas: list[float] = []
    real = loop.sequence_loss

    def spy(model, x, y, eta, gen, part=None):
        etas.append(eta)
        return real(model, x, y, eta, gen, part)

    monkeypatch.setattr(loop, "sequence_loss", spy)
    return etas


def test_a_reference_run_sets_the_formulas_and_resumes_its_update_count(
    turing, tmp_path, monkeypatch
):
    etas = _spy_eta(monkeypatch)
    cfg = TrainConfig(
        model="stclif", recipe="reference", epochs=12, batch_size=2, max_train_windows=4
    )
    metrics = train(turing, tmp_path / "full", cfg, resume=False)
    per_epoch = 2  # 4 windows in batches of 2
    assert etas == [reference_eta(u) for u in range(12 * per_epoch)]
    lrs = [h["lr"] for h in metrics["history"]]
    assert lrs == pytest.approx([expected_lr(e, 12) for e in range(12)], rel=1e-12)
    assert lrs[0] == pytest.approx(1e-5) and lrs[10] < lrs[9]  # warm-up, then the cosine
    config = json.loads((tmp_path / "full" / "config.json").read_text())
    assert config["train"]["recipe"] == "reference"
    assert config["train"]["schedule"] == "warmup-cosine"
    assert config["train"]["model_options"] == {"gradient_detach": True}
    assert config["model_config"]["gradient_detach"] is True
    assert {h["precision"] for h in metrics["history"]} == {"fp32"}

    # stopped after 5 epochs, resumed to 12: the updates count on from 10
    train(turing, tmp_path / "part", TrainConfig(**{**cfg.to_dict(), "epochs": 5}))
    etas.clear()
    resumed = train(turing, tmp_path / "part", cfg)
    assert etas == [reference_eta(u) for u in range(5 * per_epoch, 12 * per_epoch)]
    assert [h["lr"] for h in resumed["history"][5:]] == pytest.approx(lrs[5:], rel=1e-12)


def test_the_cli_recipe_takes_explicit_values_over_its_own(turing, tmp_path):
    lib = str(turing.path)
    common = ["-m", "convlstm", "-l", lib, "--epochs", "1", "--max-windows", "2"]
    assert main(["train", *common, "-o", str(tmp_path / "a"), "--recipe", "reference"]) == 0
    a = json.loads((tmp_path / "a" / "config.json").read_text())["train"]
    assert (a["recipe"], a["batch_size"], a["schedule"]) == ("reference", 16, "warmup-cosine")
    mine = ["--recipe", "reference", "--batch-size", "2", "--schedule", "constant"]
    assert main(["train", *common, "-o", str(tmp_path / "b"), *mine]) == 0
    b = json.loads((tmp_path / "b" / "config.json").read_text())["train"]
    assert (b["recipe"], b["batch_size"], b["schedule"]) == ("reference", 2, "constant")
    assert main(["train", *common, "-o", str(tmp_path / "c")]) == 0
    c = json.loads((tmp_path / "c" / "config.json").read_text())["train"]
    assert (c["recipe"], c["batch_size"], c["schedule"]) == ("paper", 32, "constant")


def test_an_old_stclif_run_loads_evaluates_and_resumes_as_before(turing, tmp_path):
    run = tmp_path / "old"
    cfg = TrainConfig(model="stclif", epochs=1, batch_size=4, max_train_windows=4)
    before = train(turing, run, cfg)
    x, _ = WindowDataset(turing, "test").batch(np.arange(2))
    model, _ = load_run(run)
    with torch.no_grad():
        expected = rollout_window(model, x, 10)
    config = json.loads((run / "config.json").read_text())
    for key in ("recipe", "amp"):  # as written before recipes and --amp existed
        del config["train"][key]
    del config["model_config"]["gradient_detach"]
    (run / "config.json").write_text(json.dumps(config))
    model, _ = load_run(run)
    assert model.cfg.gradient_detach is False
    with torch.no_grad():
        assert torch.equal(rollout_window(model, x, 10), expected)
    assert train(turing, run, cfg)["history"] == before["history"]  # accepted as the same run


def test_gradient_detach_only_cuts_the_gates_path_to_the_previous_spikes():
    torch.manual_seed(0)
    tiny = {"height": 8, "width": 8, "hidden": (16,), "patch": 2}
    plain = build_model("stclif", tiny)
    cut = build_model("stclif", {**tiny, "gradient_detach": True})
    cut.load_state_dict(plain.state_dict())
    frames = torch.rand(2, 4, 1, 8, 8) * 4
    grads = []
    for m in (plain, cut):
        m.zero_grad()
        out = m(frames)
        out.sum().backward()
        grads.append({k: p.grad.clone() for k, p in m.named_parameters()})
        with torch.no_grad():
            assert torch.equal(out, plain(frames))  # the same forward
    assert any(not torch.equal(grads[0][k], grads[1][k]) for k in grads[0])
