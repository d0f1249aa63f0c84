"""Evaluation of a sequence model (n_in -> n_out windows, the Turing protocol: 10 -> 10).

Every test window: the n_in true frames in, then n_out forecasts, each fed back (state
carried), scored against the true frames; copy-last (the last input frame repeated) and all
zeros beside. The result is an :class:`~edge_shm.evaluation.evaluate.Evaluation` whose rollout
steps are the n_out predicted steps (MAE per step, averaged over the test windows), so the
report, ``compare`` and the plots read it as any other; ``rollout.mean_mae`` is the mean MAE
over the predicted steps and ``cumulative_mae`` in :func:`cumulative` the running sum.
"""

from __future__ import annotations

import numpy as np

from edge_shm.data.window_dataset import WindowDataset
from edge_shm.evaluation.metrics import scores
from edge_shm.evaluation.results import Evaluation, EvaluationArrays, OneStep, Rollout, RolloutStep
from edge_shm.models.windows import rollout_window

KEEP_WINDOWS = 8  # windows kept for the prediction picture


def evaluate_sequence(model, lib, batch: int = 8):
    from edge_shm.evaluation.metrics import crack_thickness_px

    data = WindowDataset(lib, "test", n_out=lib.window_out)
    n_in, n_out = data.n_in, data.n_out
    preds, truths, lasts = [], [], []
    for b in range(0, len(data), batch):
        x, y = data.batch(np.arange(b, min(b + batch, len(data))), model.device)
        preds.append(rollout_window(model, x, n_out)[:, :, 0].cpu().numpy())
        truths.append(y[:, :, 0].cpu().numpy())
        lasts.append(x[:, -1, 0].cpu().numpy())
    pred, truth, last = (np.concatenate(v) for v in (preds, truths, lasts))
    steps = []
    for k in range(n_out):
        steps.append(
            RolloutStep(
                step=k + 1,
                frame=n_in + k,
                model=scores(pred[:, k], truth[:, k]),
                zeros=scores(np.zeros_like(truth[:, k]), truth[:, k]),
                copy_last=scores(last, truth[:, k]),
            )
        )
    mean = {
        m: float(np.mean([getattr(s, m).mae for s in steps]))
        for m in ("model", "zeros", "copy_last")
    }
    one = OneStep(
        windows=len(data),
        binary_library=lib.binary,
        model=steps[0].model,
        model_thickness_px=crack_thickness_px(pred[:, 0]),
        zeros=steps[0].zeros,
        copy_last=steps[0].copy_last,
        truth_thickness_px=crack_thickness_px(truth[:, 0]),
    )
    keep = slice(0, KEEP_WINDOWS)
    x0 = np.stack(
        [data.batch([i])[0][0, :, 0].numpy() for i in range(min(KEEP_WINDOWS, len(data)))]
    )
    return Evaluation(
        one_step=one,
        rollout=Rollout(len(data), steps, mean),
        arrays=EvaluationArrays(pred[keep, 0], pred[keep], truth[keep], x0),
    )


def cumulative(steps: list[float]) -> list[float]:
    """Running sum of the MAE per predicted step (the paper's cumulative error)."""
    return [float(v) for v in np.cumsum(steps)]
