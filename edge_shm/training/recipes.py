"""Training recipes of the Turing sequence models (stclif, convlstm, predrnnpp, simvp).

``paper`` (the default) is this package's protocol: Adam at a constant learning rate (or
``--schedule cosine``), batch 32, scheduled sampling falling linearly from 1 to 0 over the first
half of the epochs (:func:`edge_shm.training.sequence.sampling_eta`).

``reference`` follows the code the STCLIF authors trained with: github.com/wangtianyi1874/stclif
at 96fa142 (built on OpenSTL, github.com/chengtan9907/OpenSTL, before its Lightning rewrite),
configuration ``configs/kth/STCLIF.py``:

- Adam (betas 0.9 / 0.999, no weight decay: ``openstl/utils/parser.py`` l. 92) at peak lr 1e-3
  (``default_parser`` l. 184; the README's command passes ``--lr 1e-3``), batch 16;
- timm's ``CosineLRScheduler`` set once per epoch (:func:`reference_lr`): 10 warm-up epochs
  from 1e-5, then a cosine from the peak to the minimum 1e-5 at the last epoch;
- scheduled sampling falling per update (:func:`reference_eta`): 1 - 2e-5 k at the k-th update,
  0 from update 50,000 on (``reverse_scheduled_sampling = 0``);
- STCLIF with ``gradient_detach = 1``: no gradient through the previous spikes that drive its
  autaptic gates (:mod:`edge_shm.models.stclif`); SimVP with OpenSTL's initialisation
  (``init = "openstl"``, :mod:`edge_shm.models.simvp`).

Departures: the reference drops a short last batch (``drop_last=True``) and restarts eta at 1 on
resume (``openstl/api/train.py`` l. 305); here every window is used and eta follows the closed
form of the update count, so a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import math

RECIPES = ("paper", "reference")

WARMUP_EPOCHS = 10
"""``warmup_epoch`` of configs/kth/STCLIF.py l. 25 (a key tools/train.py l. 37-39 never lets the
command line override)."""
WARMUP_LR = 1e-5
"""``--warmup_lr`` default, openstl/utils/parser.py l. 108 (no config sets it)."""
MIN_LR = 1e-5
"""``min_lr`` of configs/kth/STCLIF.py l. 22 and of the README's ``--min_lr 1e-5`` (without that
option parser.py l. 110's 1e-4 would win over the config: main_utils.py ``update_config``)."""
BATCH_SIZE = 16
"""``batch_size`` of configs/kth/STCLIF.py l. 23."""
SAMPLING_STOP_ITER = 50_000
SAMPLING_CHANGING_RATE = 2e-5
"""``sampling_stop_iter`` and ``sampling_changing_rate`` of configs/kth/STCLIF.py l. 9, 11 (the
same in every OpenSTL PredRNN-family config); its ``sampling_start_value = 1.0`` is unused, the
start 1.0 is written in openstl/api/train.py l. 305."""

CRACK_DEFAULTS = {
    "snn": {"loss": "weighted", "batch_size": 16},
    "lstm": {"loss": "mse", "batch_size": 16},
}
"""What ``train`` gives the crack models when --loss / --batch-size are not given: the settings
of the runs ``make bench`` scores in its forecast table (benchmarks/train.py: base SNN weighted,
base LSTM mse, batch 16). Under the weighted loss the LSTM of the 120-sample demo drew blobs no
encoder reads as a crack (issue 27: tip error 5.3 mm one frame ahead, copy-last 1.24 mm); the
SNN's crack map is better under it than under MSE (benchmarks/results.md). ``--loss mse
--batch-size 32`` restores the paper's protocol for the SNN."""

MODEL_OPTIONS = {"stclif": {"gradient_detach": True}, "simvp": {"init": "openstl"}}
"""Model options the reference sets, per model (STCLIF: configs/kth/STCLIF.py l. 26)."""


def reference_lr(
    epoch: int,
    lr: float,
    epochs: int,
    warmup_epochs: int = WARMUP_EPOCHS,
    warmup_lr: float = WARMUP_LR,
    min_lr: float = MIN_LR,
) -> float:
    """The learning rate of ``epoch`` (0-based) of ``epochs``, peak ``lr``.

    timm ``CosineLRScheduler._get_lr(t)`` (huggingface/pytorch-image-models,
    timm/scheduler/cosine_lr.py l. 81-109 at aa4b585) with OpenSTL's arguments (stclif
    openstl/core/optim_scheduler.py l. 137-145: ``t_initial = epochs``, ``lr_min = min_lr``,
    ``warmup_lr_init = warmup_lr``, ``warmup_t = warmup_epochs``, ``t_in_epochs=True``,
    ``k_decay = 1``; defaults ``warmup_prefix=False``, ``cycle_mul = cycle_decay = 1``,
    ``cycle_limit = 1``, no noise)::

        t < warmup_t:  warmup_lr + t (lr - warmup_lr) / warmup_t              (l. 82-83)
        t < t_initial: min_lr + (lr - min_lr) (1 + cos(pi t / t_initial)) / 2 (l. 93-105)
        otherwise:     min_lr                                                 (l. 106-107)

    ``t`` counts epochs from 0 and the cosine is not shifted by the warm-up. OpenSTL sets it
    once per epoch, before the epoch's first update: ``self.scheduler.step(epoch)`` in
    ``train_one_epoch`` (openstl/methods/convlif.py l. 485, class STCLIF), ``by_epoch`` being
    True for the cosine schedule (optim_scheduler.py l. 129).
    """
    if epoch < warmup_epochs:
        return warmup_lr + epoch * (lr - warmup_lr) / warmup_epochs
    if epoch >= epochs:
        return min_lr
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * epoch / epochs))


def reference_eta(
    update: int, stop: int = SAMPLING_STOP_ITER, rate: float = SAMPLING_CHANGING_RATE
) -> float:
    """The probability of feeding the true frame in the output phase of the update that
    follows ``update`` earlier ones (0-based, OpenSTL's ``num_updates``).

    OpenSTL's ``schedule_sampling(eta, itr, ...)`` (stclif openstl/utils/predrnn_utils.py
    l. 61-77) is called before each update's forward pass with ``itr = num_updates``
    (openstl/methods/convlif.py l. 505; ``num_updates += 1`` after the step, l. 527) and first
    lowers the eta it carries from 1.0 (openstl/api/train.py l. 305)::

        if itr < sampling_stop_iter: eta -= sampling_changing_rate
        else: eta = 0.0

    so the k-th update (``update = k - 1``) draws with eta = 1 - rate k while k <= stop, then
    0. This is that closed form (OpenSTL's running subtraction differs by float rounding only),
    floored at 0: ``random < eta`` is never true for eta <= 0 either.
    """
    if update >= stop:
        return 0.0
    return max(0.0, 1.0 - rate * (update + 1))
