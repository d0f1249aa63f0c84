"""Training in several processes with torch.distributed (``torchrun ... -m edge_shm train``).

Each global batch is the batch one process would take (same shuffled order, same size); it is
cut into contiguous parts, one per rank, and each rank's mean loss is weighted by its share so
that DistributedDataParallel's gradient average is the gradient of the global batch's mean loss.
A rank whose part of a short last batch is empty takes one window with weight 0 (every rank
must join each gradient all-reduce). So 1 and N processes train the same model (to float
rounding), and a checkpoint resumes with any process count.

torch's DistributedSampler is not used on purpose: it strides the windows over the ranks per
epoch and pads the last batch with repeated windows, which changes the gradient of the last
batch with the process count.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from edge_shm.errors import UserError


@dataclass
class Processes:
    """This process's place: ``rank`` of ``world`` processes, its device and backend."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")
    backend: str | None = None

    @property
    def main(self) -> bool:
        """Rank 0: the only process that writes the run folder and shows progress."""
        return self.rank == 0


def resolve_device(name: str | None) -> torch.device:
    """``cpu``, ``cuda`` (refused when absent), or None/``auto``: CUDA when present."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is available here")
    if name not in ("cpu", "cuda"):
        raise UserError(f"unknown device {name!r}; choose cpu, cuda or auto")
    return torch.device(name)


def launched_world() -> int:
    """The process count torchrun set (WORLD_SIZE), 1 outside torchrun."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        raise UserError(f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} is not a number") from None


def is_main_process() -> bool:
    """False in the processes torchrun started with RANK > 0."""
    return os.environ.get("RANK", "0") in ("", "0")


def setup(device: str | None = None) -> Processes:
    """Join the process group torchrun started (gloo on CPU, nccl on CUDA); one process
    outside torchrun."""
    where = resolve_device(device)
    if launched_world() == 1:
        return Processes(device=where)
    if not dist.is_available():
        raise UserError("this torch build has no torch.distributed")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    backend = "gloo"
    if where.type == "cuda":
        if local >= torch.cuda.device_count():
            raise UserError(
                f"local rank {local} has no GPU (this node has {torch.cuda.device_count()}); "
                "start at most one process per GPU"
            )
        where, backend = torch.device("cuda", local), "nccl"
        torch.cuda.set_device(where)
    if not dist.is_initialized():
        dist.init_process_group(backend)
    return Processes(dist.get_rank(), dist.get_world_size(), where, backend)


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def rank_part(size: int, rank: int, world: int) -> tuple[int, int]:
    """(lo, hi): rank's contiguous part of a global batch of ``size`` windows."""
    base, extra = divmod(size, world)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (rank < extra)


class RankBatches(torch.utils.data.Sampler):
    """Batch sampler: this rank's windows of each global batch of ``order`` (set per epoch).

    Yields index lists; a rank whose part is empty gets the batch's first window, to be
    weighted 0 (see :func:`batch_weight`).
    """

    def __init__(self, batch_size: int, procs: Processes):
        self.batch_size, self.procs = batch_size, procs
        self.order = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)

    def __iter__(self):
        for b in range(0, len(self.order), self.batch_size):
            batch = self.order[b : b + self.batch_size]
            lo, hi = rank_part(len(batch), self.procs.rank, self.procs.world)
            yield (batch[lo:hi] if hi > lo else batch[:1]).tolist()


def batch_weight(size: int, procs: Processes) -> tuple[float, int, int]:
    """(weight of this rank's mean loss, lo, hi) for a global batch of ``size`` windows."""
    lo, hi = rank_part(size, procs.rank, procs.world)
    return (hi - lo) * procs.world / size, lo, hi


def wrap(module: torch.nn.Module, procs: Processes) -> torch.nn.Module:
    """DistributedDataParallel around ``module`` when there are several processes."""
    if procs.world == 1:
        return module
    from torch.nn.parallel import DistributedDataParallel

    ids = [procs.device.index] if procs.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)


def all_sum(value: float, procs: Processes) -> float:
    """The sum of ``value`` over all processes."""
    if procs.world == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=procs.device)
    dist.all_reduce(t)
    return float(t.item())


def text_from_main(compute, procs: Processes, size: int = 256) -> str:
    """``compute()`` (a short ASCII text) on rank 0, sent to every rank as bytes (no pickle)."""
    if procs.world == 1:
        return compute()
    buf = torch.zeros(size, dtype=torch.uint8, device=procs.device)
    if procs.main:
        raw = compute().encode("ascii")[:size]
        buf[: len(raw)] = torch.tensor(list(raw), dtype=torch.uint8)
    dist.broadcast(buf, src=0)
    return bytes(buf.cpu().tolist()).rstrip(b"\0").decode("ascii")


def barrier(procs: Processes) -> None:
    if procs.world > 1:
        dist.barrier()
