"""The profiler counts the gate arithmetic of the convolutional recurrent models by hand."""

from __future__ import annotations

import pytest
import torch

from edge_shm.models import build_model
from edge_shm.profile.counts import count_windows


def _totals(model, steps: int) -> dict:
    x = torch.rand(1, steps, 1, 16, 24)
    tot: dict = {}
    for (_layer, _step), ops in count_windows(model, x).ops.items():
        for k, v in ops.items():
            tot[k] = tot.get(k, 0) + v
    return tot


@pytest.mark.fast
def test_convlstm_gate_arithmetic_equals_a_hand_count():
    """Two layers of h = 8 on a 4 x 6 patch map (16 x 24 px, patch 4), three steps: per layer
    and step 5 h n nonlinear (3 sigmoid, 2 tanh), 3 h n products, 5 h n sums."""
    m = build_model("convlstm", {"height": 16, "width": 24, "hidden": [8, 8], "patch": 4})
    n, h, layers, steps = 4 * 6, 8, 2, 3
    tot = _totals(m, steps)
    assert tot["nonlinear"] == 5 * h * n * layers * steps
    assert tot["mult"] == 3 * h * n * layers * steps
    assert tot["add"] == 5 * h * n * layers * steps


@pytest.mark.fast
def test_stclif_gate_arithmetic_equals_a_hand_count():
    """Per layer and step: 2 tanh gates, 3 GroupNorms (a mult and an add each), the products
    v g_t and x g_s, the gate offsets 1 + tanh (2 adds), v' = . + . and v - s, and the
    threshold difference v - v_th: nonlinear 2 hn, mult 5 hn, add 8 hn."""
    m = build_model("stclif", {"height": 16, "width": 24, "hidden": [16], "patch": 4})
    n, h, steps = 4 * 6, 16, 2
    tot = _totals(m, steps)
    assert tot["nonlinear"] == 2 * h * n * steps
    assert tot["mult"] == 5 * h * n * steps
    assert tot["add"] == 8 * h * n * steps


@pytest.mark.fast
def test_next_frame_models_are_counted_as_before():
    m = build_model("snn", {"height": 16, "width": 24})
    assert not getattr(m, "gate_arithmetic", False)
    assert "mult" not in _totals(m, 2)
