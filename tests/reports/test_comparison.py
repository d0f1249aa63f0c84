"""The comparison report says what it can stand behind: tip error on the accuracy axis, no
energy for a deployment that cannot exist, a crossing only where there is one."""

from __future__ import annotations

import numpy as np
import pytest

from edge_shm.profile.energy import RateCurve, break_even_rate
from edge_shm.reports import plots
from edge_shm.reports.comparison import ComparisonRow, accuracy_axis, comparison_markdown
from edge_shm.reports.energy_columns import _break_even_text

pytestmark = pytest.mark.fast


def _figures(tip):
    return {
        "tip_median_mm": tip,
        "tip_p90_mm": tip,
        "tolerant_f1": 0.9,
        "mae_raw": 0.01,
        "mae_crack_map": 0.01,
    }


def _row(run, model, spiking, tip=None, mae=0.01, horizons=True, energy=None):
    per = [{"model": _figures(tip), "copy_last": _figures(1.25)}] if horizons else []
    return ComparisonRow(
        run=run,
        model=model,
        spiking=spiking,
        parameters=1000,
        weight_bytes=4000,
        loss="mse",
        one_step_mae=mae,
        one_step_crack_map_mae=None,
        one_step_f1=0.9,
        rollout_mae=0.02,
        copy_last_one_step_mae=0.003,
        energy_uj=energy or {},
        horizons=per,
    )


def _curve(base, slope):
    return RateCurve([0.0, 1.0], [base, base + slope], 0.1, base + 0.1 * slope, base, slope, None)


def test_a_crossing_at_the_end_of_the_range_is_no_crossing():
    curve = _curve(10.0, 5.0)
    assert break_even_rate(curve, 15.0) is None  # ties at rate 1: never dearer in range
    assert break_even_rate(curve, 15.0 - 1e-9) is None  # rounding at the end of the range
    assert break_even_rate(curve, 20.0) is None
    assert break_even_rate(curve, 12.5) == pytest.approx(0.5)
    assert break_even_rate(curve, 5.0) == 0.0
    text = _break_even_text(break_even_rate(curve, 15.0), "non-spiking twin", curve, 15.0)
    assert "stops paying off" not in text and "1.000" not in text
    assert text == (
        "the SNN stays cheaper than the non-spiking twin at every spike rate up to 1 "
        "spike/neuron/step (they cost the same at 1)"
    )
    text = _break_even_text(None, "lstm", curve, 1e6)
    assert text.endswith("than the lstm at every spike rate up to 1 spike/neuron/step")
    assert "above 0.500 spikes/neuron/step" in _break_even_text(0.5, "lstm", curve, 12.5)
    flat = _curve(10.0, 0.0)  # no spike-driven work
    assert break_even_rate(flat, 20.0) is None and break_even_rate(flat, 5.0) == 0.0


def test_no_non_spiking_twin_on_a_spiking_only_device():
    import torch

    from edge_shm.models import build_model
    from edge_shm.profile.devices import builtin_devices
    from edge_shm.profile.energy import energy_vs_rate
    from edge_shm.profile.profiler import profile_model

    prof = profile_model(
        build_model("snn", height=24, width=32).eval(), torch.rand(1, 2, 1, 24, 32)
    )
    devs = builtin_devices()
    for name in ("loihi2", "loihi1", "spinnaker2"):
        curve = energy_vs_rate(prof, devs[name], np.linspace(0, 1, 3))
        assert curve is not None and curve.ann_twin_pJ is None, name
    arm = energy_vs_rate(prof, devs["arm-cortex-a"], np.linspace(0, 1, 3))
    assert arm.ann_twin_pJ > 0


def test_accuracy_axis_is_tip_error_and_mae_is_secondary():
    rows = [
        _row("r/snn", "snn", True, tip=0.2, mae=0.05),
        _row("r/lstm", "lstm", False, tip=5.3, mae=0.001),
        _row("r/blank", "snn", True, tip=float("nan")),  # drew no crack
        _row("r/turing", "snn", True, horizons=False),
    ]
    axis = accuracy_axis(rows)
    assert axis.tip and axis.values == {"r/snn": 0.2, "r/lstm": 5.3}
    assert axis.reference == 1.25 and "tip error" in axis.label and "(mm" in axis.label
    assert axis.left_out == ["r/blank", "r/turing"] and "`r/turing`" in axis.note()
    md = comparison_markdown(rows)
    head = md.splitlines()[2]
    assert head.index("tip error h1 median (mm)") < head.index("one-step MAE (1, secondary)")
    assert "| 0.200 |" in md.splitlines()[4] and "| n/a |" in md.splitlines()[6]
    assert rows[0].to_dict()["tip_error_h1_median_mm"] == 0.2


def test_accuracy_axis_falls_back_to_mae_and_says_so():
    rows = [_row("r/a", "snn", True, horizons=False), _row("r/b", "lstm", False, horizons=False)]
    axis = accuracy_axis(rows)
    assert not axis.tip and axis.values == {"r/a": 0.01, "r/b": 0.01}
    assert "MAE" in axis.label and "no tip error" in axis.label
    assert axis.reference == 0.003 and "one-step MAE" in axis.note()


def _ylabel_of(monkeypatch, draw) -> tuple[str, str]:
    seen = {}

    def fake_save(fig, path):
        ax = fig.axes[0]
        seen["labels"] = (ax.get_xlabel(), ax.get_ylabel())
        plots.plt.close(fig)
        return path

    monkeypatch.setattr(plots, "save", fake_save)
    draw()
    return seen["labels"]


def test_energy_and_parameter_plots_put_tip_error_on_the_accuracy_axis(monkeypatch, tmp_path):
    energy = {"loihi2": 0.4, "arm-cortex-a": 16.0}
    rows = [
        _row("r/snn", "snn", True, tip=0.2, energy=energy),
        _row("r/lstm", "lstm", False, tip=5.3, energy={"loihi2": None, "arm-cortex-a": 2e5}),
    ]
    axis = accuracy_axis(rows)
    x, y = _ylabel_of(
        monkeypatch,
        lambda: plots.energy_vs_accuracy(rows, list(energy), axis, tmp_path / "e.png"),
    )
    assert "energy per forecast" in x and y.startswith("tip error") and "(mm" in y
    x, y = _ylabel_of(
        monkeypatch, lambda: plots.accuracy_vs_parameters(rows, axis, tmp_path / "p.png")
    )
    assert x == "parameters (count)" and y.startswith("tip error")


def test_the_energy_figure_is_named_after_its_accuracy_axis(monkeypatch, tmp_path):
    from edge_shm.reports.energy_columns import EnergyColumns

    drawn = []
    monkeypatch.setattr(plots, "energy_vs_accuracy", lambda rows, devs, axis, p: drawn.append(p))
    cols = EnergyColumns([], None)
    rows = [_row("r/snn", "snn", True, tip=0.2)]
    md = cols.section(rows, tmp_path)
    assert drawn == [tmp_path / "energy_vs_tip_error.png"] and "energy_vs_tip_error.png" in md
    md = cols.section([_row("r/t", "snn", True, horizons=False)], tmp_path)
    assert drawn[-1] == tmp_path / "energy_vs_mae.png" and "one-step MAE" in md
