"""The user-journey scripts of examples/ run, and the sensor images are what their script makes."""

from __future__ import annotations

import json
import runpy
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "examples" / "scripts"


@pytest.mark.fast
def test_sensor_images_are_reproduced_by_their_script(tmp_path):
    make = runpy.run_path(str(SCRIPTS / "make_sensor_images.py"))["main"]
    make(tmp_path)
    shipped = ROOT / "examples" / "sensor"
    names = sorted(p.name for p in (shipped / "frames").glob("*.png"))
    assert names == sorted(p.name for p in (tmp_path / "frames").glob("*.png")) and len(names) == 8
    for n in names:
        assert (tmp_path / "frames" / n).read_bytes() == (shipped / "frames" / n).read_bytes(), n
    assert json.loads((tmp_path / "cycles.json").read_text()) == json.loads(
        (shipped / "cycles.json").read_text()
    )


@pytest.mark.parametrize("script", ["forecast_on_site.sh", "mcu_memory_budget.sh"])
def test_script_runs(script, tmp_path):
    out = tmp_path / "out"
    res = subprocess.run(
        ["bash", str(SCRIPTS / script), str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr[-2000:]
    if script == "forecast_on_site.sh":
        assert (out / "REPORT.md").is_file() and (out / "forecast.gif").is_file()
    else:
        assert (out / "profile-int8" / "profile.json").is_file()
