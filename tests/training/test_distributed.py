"""Training under torchrun: N processes train what one process trains, and resume either way."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from safetensors.numpy import load_file

from edge_shm.cli import main
from edge_shm.data.generators import build
from edge_shm.training.distributed import Processes, RankBatches, batch_weight, rank_part

# 19 windows in batches of 6: three full batches and one of a single window, so that rank 1 of
# two takes a window of weight 0 in the last step.
ARGS = ["--epochs", "1", "--batch-size", "6", "--max-windows", "19", "--seed", "4"]


def _torchrun(n: int, args: list[str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={n}"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(
        [*cmd, "-m", "edge_shm", "train", *args], capture_output=True, text=True, env=env
    )


def _weights(run) -> dict:
    return load_file(str(run / "weights.safetensors"))


def _max_diff(a, b) -> float:
    assert a.keys() == b.keys()
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


@pytest.mark.parametrize("size", [1, 2, 5, 6, 7, 32])
@pytest.mark.parametrize("world", [1, 2, 3])
@pytest.mark.fast
def test_ranks_split_each_global_batch_exactly(size, world):
    parts = [rank_part(size, r, world) for r in range(world)]
    assert parts[0][0] == 0 and parts[-1][1] == size
    assert all(a[1] == b[0] for a, b in zip(parts[:-1], parts[1:], strict=True))
    weights = [batch_weight(size, Processes(rank=r, world=world))[0] for r in range(world)]
    assert sum(w / world for w in weights) == pytest.approx(1.0)  # DDP averages over ranks
    order = np.random.default_rng(size).permutation(40)[:size]
    got = []
    for r in range(world):
        sampler = RankBatches(size, Processes(rank=r, world=world))
        sampler.order = order
        (batch,) = list(sampler)
        lo, hi = parts[r]
        assert batch == (order[lo:hi].tolist() if hi > lo else order[:1].tolist())
        got += batch if hi > lo else []
    assert got == order.tolist()


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    d = tmp_path_factory.mktemp("dist")
    return {
        "snn": build("fcg", d / "fcg.h5", 8, 1),
        "convlstm": build("turing", d / "tur.h5", 8, 1, size=24, n_frames=22),
    }


@pytest.mark.parametrize("model", ["snn", "convlstm"])
def test_two_gloo_processes_train_what_one_does(libs, tmp_path, model):
    lib = libs[model]
    assert main(["train", "-m", model, "-l", str(lib), "-o", str(tmp_path / "one"), *ARGS]) == 0
    two = _torchrun(2, ["-m", model, "-l", str(lib), "-o", str(tmp_path / "two"), *ARGS])
    assert two.returncode == 0, two.stderr[-2000:]
    assert _max_diff(_weights(tmp_path / "one"), _weights(tmp_path / "two")) < 1e-5
    h1 = json.loads((tmp_path / "one" / "metrics.json").read_text())["history"]
    h2 = json.loads((tmp_path / "two" / "metrics.json").read_text())["history"]
    assert h2[0]["processes"] == 2 and h1[0]["processes"] == 1
    assert h2[0]["train_loss"] == pytest.approx(h1[0]["train_loss"], rel=1e-5)
    # rank 0 alone shows progress and prints; nothing but the run is left beside it
    assert two.stderr.count(f"training {model}") == 1
    assert two.stdout.count("final train loss") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]


def test_a_checkpoint_resumes_with_another_process_count(libs, tmp_path):
    lib = str(libs["snn"])
    two_epochs = [*ARGS[2:], "--epochs", "2"]
    assert main(["train", "-l", lib, "-o", str(tmp_path / "one"), *two_epochs]) == 0
    first = _torchrun(2, ["-l", lib, "-o", str(tmp_path / "mixed"), *ARGS])
    assert first.returncode == 0, first.stderr[-2000:]
    assert main(["train", "-l", lib, "-o", str(tmp_path / "mixed"), *two_epochs]) == 0
    history = json.loads((tmp_path / "mixed" / "metrics.json").read_text())["history"]
    assert [h["processes"] for h in history] == [2, 1]
    assert _max_diff(_weights(tmp_path / "one"), _weights(tmp_path / "mixed")) < 1e-5


def test_lazy_reading_with_workers_trains_the_same_model(libs, tmp_path):
    lib = str(libs["snn"])
    assert main(["train", "-l", lib, "-o", str(tmp_path / "mem"), "--data", "memory", *ARGS]) == 0
    lazy = ["--data", "lazy", "--workers", "2"]
    assert main(["train", "-l", lib, "-o", str(tmp_path / "lazy"), *lazy, *ARGS]) == 0
    assert _max_diff(_weights(tmp_path / "mem"), _weights(tmp_path / "lazy")) == 0.0


@pytest.mark.fast
def test_only_train_runs_under_torchrun(libs, monkeypatch, capsys):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert main(["library", "info", str(libs["snn"])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rank 1: error: only `edge-shm train`"), err


@pytest.mark.parametrize(
    "extra, words", [(["--data", "disk"], "--data"), (["--workers", "-1"], "--workers")]
)
@pytest.mark.fast
def test_bad_data_options(libs, tmp_path, capsys, extra, words):
    out = tmp_path / "r"
    assert main(["train", "-l", str(libs["snn"]), "-o", str(out), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err
    assert not out.exists()


def test_split_batches_give_the_global_gradient_in_float64(libs):
    """The ranks' weighted parts, averaged as DDP averages, step STCLIF (spikes, scheduled
    sampling) as the whole batch does. In float64 they agree to rounding; in float32 the
    rounding is amplified by spikes at threshold (benchmarks/results.md, section parity)."""
    import copy

    import torch

    from edge_shm.data.library import read_library
    from edge_shm.data.window_dataset import WindowDataset
    from edge_shm.models import build_model
    from edge_shm.training.sequence import sequence_loss

    data = WindowDataset(read_library(libs["convlstm"]), "train", n_out=10)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        torch.manual_seed(0)
        whole = build_model("stclif", dict(height=24, width=24))
        split = copy.deepcopy(whole)
        opt_whole = torch.optim.Adam(whole.parameters(), 1e-3)
        opt_split = torch.optim.Adam(split.parameters(), 1e-3)
        for step in range(4):
            x, y = data.batch([(3 * step + i) % len(data) for i in range(3)])
            x, y = x.double(), y.double()
            opt_whole.zero_grad()
            gen = torch.Generator().manual_seed(step)
            sequence_loss(whole, x, y, 0.5, gen).backward()
            opt_whole.step()
            grads = []
            for rank in range(2):
                weight, lo, hi = batch_weight(3, Processes(rank=rank, world=2))
                split.zero_grad()
                gen = torch.Generator().manual_seed(step)
                loss = sequence_loss(split, x[lo:hi], y[lo:hi], 0.5, gen, (lo, 3))
                (loss * weight).backward()
                grads.append([p.grad.clone() for p in split.parameters()])
            for p, *g in zip(split.parameters(), *grads, strict=True):
                p.grad = sum(g) / 2
            opt_split.step()
    finally:
        torch.set_default_dtype(default)
    diff = max(
        float((a - b).abs().max())
        for a, b in zip(whole.parameters(), split.parameters(), strict=True)
    )
    assert diff < 1e-9


@pytest.mark.fast
def test_a_lost_peer_is_one_line_under_torchrun(monkeypatch):
    from edge_shm.app.failures import _lost_peer

    gloo = RuntimeError("[../third_party/gloo/gloo/transport/tcp/pair.cc:534] Connection closed")
    assert not _lost_peer(gloo)  # one process: an ordinary bug keeps its traceback
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert _lost_peer(gloo)
    assert not _lost_peer(ValueError("bad"))
