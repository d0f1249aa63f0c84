"""``profile --firmware``: the C firmware's measured instructions and ELF sections replace the
estimates, and the report says which figures are measured."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edge_shm.cli import main
from edge_shm.jsonio import read_json

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OLD, V3 = FIXTURES / "main_c484d2b", FIXTURES / "main_c98586f"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    missing = [t for t in ("arm-none-eabi-gcc", "qemu-system-arm") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing (make setup installs them when root)")
    work = tmp_path_factory.mktemp("profile-fw")
    run, lib = work / "run-fsnn", work / "library-crops.h5"
    shutil.copytree(OLD / "run-fsnn", run)
    shutil.copy(OLD / "library-crops.h5", lib)
    fw = work / "fw"
    args = ["export", str(run), "-t", "c", "--fixed-point", str(V3 / "calib-fsnn-int8")]
    assert main([*args, "--frames", str(lib), "-o", str(fw)]) == 0
    return run, lib, fw


def test_measured_figures_replace_the_estimates(exported, tmp_path, capsys):
    run, lib, fw = exported
    out = tmp_path / "prof"
    args = ["profile", str(run), "--device", "mcu-512k", "--library", str(lib)]
    assert main([*args, "--firmware", str(fw), "--max-windows", "4", "-o", str(out)]) == 0
    report = read_json(out / "profile.json")
    m = report["run"]["measured"]
    assert m["windows"] == 4 and m["instructions_per_forecast"] > 3 * 10_000
    assert m["steps_per_forecast"] == 3
    assert m["instructions_per_forecast"] == pytest.approx(3 * m["instructions_per_step"])
    assert m["ms_per_forecast_at_clock"] == pytest.approx(
        1e3 * m["instructions_per_forecast"] / 216e6
    )
    b = m["elf_bytes"]
    budget = report["memory_budget"]
    assert budget["need_B"] == {"RAM": b["ram"], "flash": b["flash"]}
    assert all("measured" in line["line"] for line in budget["lines"])
    assert report["run"]["deployed"]["target"] == "int8"  # the firmware's own calibration
    # measured beside the account of the firmware's layout: RAM to the byte
    compared = budget["compared"]
    assert compared["account_B"] == report["run"]["deployed"]["account_B"]
    assert compared["difference_B"]["RAM"] == 0 and compared["measured_B"]["RAM"] == b["ram"]
    assert compared["difference_B"]["flash"] == b["flash"] - compared["account_B"]["flash"] > 0
    md = (out / "profile.md").read_text()
    assert "| RAM | " + f"{b['ram']:,} B | {b['ram']:,} B | +0 B |" in md
    assert "| instructions per forecast (3-frame window from a zero state) |" in md
    assert "measured (QEMU)" in md
    assert "derived: one instruction per cycle" in md
    assert "time per 3-frame forecast at 216 MHz" in capsys.readouterr().out.replace("\n", " ")


def test_a_folder_that_is_not_a_firmware_is_refused(exported, tmp_path, capsys):
    run, lib, _ = exported
    args = ["profile", str(run), "--device", "mcu-512k", "--library", str(lib)]
    assert main([*args, "--firmware", str(V3 / "calib-fsnn-int8"), "-o", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "not a C firmware folder" in err and not (tmp_path / "p").exists()


def test_a_profile_written_before_the_step_count_still_names_its_window():
    """Profiles written before ``steps_per_forecast`` was recorded: per forecast / per step."""
    from edge_shm.profile.firmware import steps_per_forecast

    old = {"instructions_per_forecast": 30_300_000.0, "instructions_per_step": 10_100_000.0}
    assert steps_per_forecast(old) == 3
    assert steps_per_forecast({**old, "steps_per_forecast": 4}) == 4
