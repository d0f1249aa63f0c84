"""Threshold ties: a spike flipped by float rounding is explained, anything else is not."""

import numpy as np

from edge_shm.export.verify import spike_report, spikes_ok


def _seq(v1, v2, flip_layer=None, t=1):
    """Two layers, 3 steps, 4 neurons; ``got`` flips one spike of ``flip_layer`` at step t."""
    spikes = {"lif1": v1 > 1.0, "lif2": v2 > 1.0}
    got = {k: s.copy() for k, s in spikes.items()}
    pred = np.zeros((3, 2, 2))
    got_pred = pred.copy()
    if flip_layer:
        got[flip_layer][t, 0] ^= True
        got["lif2"][t + 1, 3] ^= True  # a consequence one step later, far from the threshold
        got_pred[t:] += 0.3
    ref = {"spikes": spikes, "v": {"lif1": v1, "lif2": v2}, "prediction": pred}
    return ref, {"spikes": got, "prediction": got_pred}


def test_tie_at_first_disagreement_is_explained():
    v1 = np.full((3, 4), 0.5)
    v1[1, 0] = 1.0  # exactly at the threshold: float rounding may break it either way
    v2 = np.full((3, 4), 0.2)
    rep = spike_report(*_seq(v1, v2, "lif1"), vth=1.0)
    assert rep["tie"] and rep["unexplained"] == 0


def test_flip_far_from_threshold_is_unexplained():
    v1 = np.full((3, 4), 0.5)
    v2 = np.full((3, 4), 0.2)
    rep = spike_report(*_seq(v1, v2, "lif1"), vth=1.0)
    assert not rep["tie"] and rep["unexplained"] > 0
    merged = {
        "agreement": 1.0,
        "unexplained": rep["unexplained"],
        "max_abs_frame_diff": 0.0,
        "max_abs_frame_diff_tie_free": 0.0,
    }
    assert not spikes_ok(merged)


def test_identical_sequences_agree():
    v1 = np.full((3, 4), 0.5)
    rep = spike_report(*_seq(v1, v1), vth=1.0)
    assert not rep["tie"] and rep["unexplained"] == 0 and rep["max_abs_frame_diff"] == 0.0
