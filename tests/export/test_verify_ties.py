"""Threshold ties: a spike flipped by float rounding is explained, anything else is not."""

import numpy as np
import pytest

from edge_shm.export.verify import merge, spike_report
from edge_shm.graph import SequenceTrace

pytestmark = pytest.mark.fast

VTH = {"lif1": 1.0, "lif2": 1.0}


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
    ref = SequenceTrace(pred, spikes, {"lif1": v1, "lif2": v2})
    return ref, got, got_pred


def test_tie_at_first_disagreement_is_explained():
    v1 = np.full((3, 4), 0.5)
    v1[1, 0] = 1.0  # exactly at the threshold: float rounding may break it either way
    v2 = np.full((3, 4), 0.2)
    rep = spike_report(*_seq(v1, v2, "lif1"), VTH)
    assert rep["tie"] and rep["unexplained"] == 0


def test_flip_far_from_threshold_is_unexplained():
    v1 = np.full((3, 4), 0.5)
    v2 = np.full((3, 4), 0.2)
    rep = spike_report(*_seq(v1, v2, "lif1"), VTH)
    assert not rep["tie"] and rep["unexplained"] > 0
    assert not merge([rep], np.zeros((1, 3, 2, 2)))["ok"]


def test_identical_sequences_agree():
    v1 = np.full((3, 4), 0.5)
    rep = spike_report(*_seq(v1, v1), VTH)
    assert not rep["tie"] and rep["unexplained"] == 0 and rep["max_abs_frame_diff"] == 0.0
    assert merge([rep], np.zeros((1, 3, 2, 2)))["ok"]


def test_nan_frames_never_pass():
    v1 = np.full((3, 4), 0.5)
    ref, got, got_pred = _seq(v1, v1)
    rep = spike_report(ref, got, got_pred * np.nan, VTH)
    assert not merge([rep], np.zeros((1, 3, 2, 2)))["ok"]
