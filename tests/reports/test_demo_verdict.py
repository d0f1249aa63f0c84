"""The demo report's verdict lines say what its table says: the test reads REPORT.md back,
re-derives the winner of every horizon and the best model against the best baseline from the
table's numbers, and compares them with the sentences."""

import json
import re
import shutil

import pytest

from edge_shm.evaluation.baselines import LABELS
from edge_shm.reports.demo import build_report
from edge_shm.reports.demo_verdict import BASELINES

# Median tip errors (mm) per horizon. The motion SNN loses at h1 and ties at h2, the pixel
# forecaster wins further ahead, the LSTM draws nothing at h4 (None).
TABLE = {
    "model": {
        "run-motion-snn": [0.159, 0.309, 0.437, 0.530],
        "run-forecast-snn": [0.168, 0.400, 0.270, 0.219],
        "run-lstm": [1.31, 2.09, 2.753, None],
    },
    "copy_last": [1.241, 2.452, 3.678, 4.888],
    "constant_velocity": [0.150, 0.309, 0.528, 0.559],
    "constant_acceleration": [0.212, 0.556, 1.208, 1.013],
    "paris": [1.043, 2.085, 2.634, 2.362],
}


def _method(median):
    tip = {"median": median, "mean": median, "p90": median, "missing": 0, "count": 4}
    return {"tip_error_mm": tip, "tolerant_f1": 0.9, "mae_raw": 0.01, "mae_crack_map": 0.01}


def _write_runs(out, table):
    for run, model in table["model"].items():
        horizons = [
            {
                "horizon": k + 1,
                "forecasts": 70 - 14 * k,
                "methods": {
                    "model": _method(model[k]),
                    "zeros": _method(None),
                    **{b: _method(table[b][k]) for b in BASELINES},
                },
            }
            for k in range(4)
        ]
        (out / run).mkdir(parents=True)
        (out / run / "evaluation.json").write_text(json.dumps({"forecast": {"horizons": horizons}}))


def read_verdict(text: str):
    """(rows: name -> (kind, [median or None]), horizon lines, model lines) of a report."""
    section = text.split("## Verdict", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("|") and cells[1] in ("model", "baseline"):
            rows[cells[0]] = (cells[1], [None if c == "n/a" else float(c) for c in cells[2:]])
    horizons = re.findall(r"^- \*\*h(\d)\*\* \(\d+ forecasts\): (.*)$", section, re.M)
    models = re.findall(r"^- ([^*].*?): (beats copy-last .*|draws no crack.*)$", section, re.M)
    return rows, horizons, models


def check_verdicts(text: str) -> int:
    """Every verdict line against the table; the number of horizons checked."""
    rows, horizons, models = read_verdict(text)
    assert rows and horizons
    for h, sentence in horizons:
        k = int(h) - 1
        col = {n: v[k] for n, (_, v) in rows.items() if v[k] is not None}
        best = min(col.values())
        winners = sorted(n for n, v in col.items() if v - best < 0.0005)
        assert sentence.startswith(" and ".join(winners)), (h, sentence, winners)
        assert f"({best:.3f} mm)" in sentence.split(";")[0]
        model = min((n for n in col if rows[n][0] == "model"), key=col.get)
        base = min((n for n in col if rows[n][0] == "baseline"), key=col.get)
        m, b = col[model], col[base]
        if abs(m - b) < 0.0005:
            assert f"{model}, ties the best baseline, {base}" in sentence
        else:
            word = "beats" if m < b else "LOSES to"
            assert f"{model} ({m:.3f} mm), {word} the best baseline, {base} ({b:.3f} mm)" in (
                sentence
            )
            assert f"by {abs(m - b):.3f} mm ({100 * abs(m - b) / b:.0f} %)" in sentence
    for name, sentence in models:
        kind, vals = rows[name]
        assert kind == "model"
        copy = rows[LABELS["copy_last"]][1]
        beats = [
            f"h{k + 1}"
            for k, v in enumerate(vals)
            if v is not None and copy[k] is not None and copy[k] - v >= 0.0005
        ]
        said = re.match(r"beats copy-last at (.*?);", sentence).group(1)
        expect = "no horizon" if not beats else ("every horizon" if len(beats) == len(vals)
                                                 else ", ".join(beats) + " only")  # fmt: skip
        assert said == expect, (name, said, expect)
    return len(horizons)


@pytest.fixture
def demo_out(tmp_path, crack_lib_path):
    shutil.copy(crack_lib_path, tmp_path / "cracks.h5")
    _write_runs(tmp_path, TABLE)
    return tmp_path


def test_verdicts_match_the_table(demo_out):
    text = build_report(demo_out).read_text()
    assert check_verdicts(text) == 4
    assert "constant-velocity tip wins (0.150 mm)" in text  # h1: the motion SNN loses
    assert "LOSES to the best baseline, constant-velocity tip (0.150 mm), by 0.009 mm" in text
    assert "motion SNN, ties the best baseline, constant-velocity tip (0.309 mm)" in text
    assert "| base LSTM | model | 1.310 | 2.090 | 2.753 | n/a |" in text
    assert (demo_out / "skill.png").stat().st_size > 1000
    assert "`skill.png`" in text and "tip_error_per_horizon.png" in text


def test_the_checker_catches_a_verdict_that_contradicts_the_table(demo_out):
    text = build_report(demo_out).read_text()
    wrong = text.replace("| motion SNN | model | 0.159 |", "| motion SNN | model | 0.140 |")
    with pytest.raises(AssertionError):
        check_verdicts(wrong)
