"""``edge-shm profile`` and the energy columns of ``edge-shm compare`` end to end."""

from __future__ import annotations

import json
import shutil

import pytest

from edge_shm.cli import main


def _err(capsys):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_profile_snn_reports(snn_run_dir, crack_lib_path, tmp_path, capsys):
    out = tmp_path / "p"
    rc = main(
        [
            "profile",
            str(snn_run_dir),
            "--device",
            "loihi2-core",
            "--library",
            str(crack_lib_path),
            "--max-windows",
            "6",
            "--budget-ram",
            "256",
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    for name in ("profile.json", "profile.md", "energy.png", "memory.png"):
        assert (out / name).is_file()
    p = json.loads((out / "profile.json").read_text())
    e = p["energy"]
    assert e["total_pJ"] == pytest.approx(e["compute_total_pJ"] + e["memory_total_pJ"])
    assert e["per_day_J"] == pytest.approx(e["total_pJ"] * 1e-12 * 1440)
    ram = next(c for c in p["memory_budget"]["checks"] if c["memory"] == "RAM")
    assert ram["budget_B"] == 256 * 1024
    assert p["memory"]["weights"]["float32_B"] == 4 * 1477
    md = (out / "profile.md").read_text()
    assert "Effective_ACs" in md and "MembraneUpdates" in md and "uJ" in md
    assert "loihi2-core" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--device", "nope"], "unknown device 'nope'"),
        (["--device", "loihi2", "--budget-ram", "-5"], "--budget-ram must be a positive"),
        (["--device", "loihi2", "--budget-flash", "0"], "--budget-flash must be a positive"),
        (["--device", "loihi2", "--budget-ram", "abc"], "--budget-ram"),
    ],
)
def test_profile_bad_input(snn_run_dir, crack_lib_path, tmp_path, capsys, args, message):
    rc = main(
        [
            "profile",
            str(snn_run_dir),
            "--library",
            str(crack_lib_path),
            "-o",
            str(tmp_path / "p"),
            *args,
        ]
    )
    assert rc == 2
    assert message in _err(capsys)


def test_profile_malformed_device_file(snn_run_dir, crack_lib_path, tmp_path, capsys):
    bad = tmp_path / "dev.json"
    q = {"value": 1.0, "unit": "pJ"}
    bad.write_text(
        json.dumps(
            {
                "format": "edge-shm-devices",
                "version": 1,
                "devices": {
                    "mine": {
                        "kind": "asic",
                        "precision": "int8",
                        "energy": {"mac": q, "ac": q, "neuron_active": q},
                    }
                },
            }
        )
    )
    rc = main(
        [
            "profile",
            str(snn_run_dir),
            "--device",
            "mine",
            "--devices",
            str(bad),
            "--library",
            str(crack_lib_path),
            "-o",
            str(tmp_path / "p"),
        ]
    )
    assert rc == 2
    assert "missing 'source'" in _err(capsys)


def test_compare_energy_columns(
    snn_run_dir, lstm_run_dir, crack_lib, crack_lib_path, tmp_path, capsys
):
    from edge_shm.app.evaluate import evaluate_model
    from edge_shm.runs import load_run

    runs = []
    for src in (snn_run_dir, lstm_run_dir):
        dst = tmp_path / src.name
        shutil.copytree(src, dst)
        model, config = load_run(dst)
        evaluate_model(model, config, crack_lib, dst)
        runs.append(str(dst))
    out = tmp_path / "cmp"
    rc = main(
        [
            "compare",
            *runs,
            "-o",
            str(out),
            "--library",
            str(crack_lib_path),
            "--profile-windows",
            "4",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    rows = json.loads((out / "comparison.json").read_text())["runs"]
    snn, lstm = rows
    assert snn["energy_loihi2_uj"] > 0 and lstm["energy_arm-cortex-a_uj"] > 0
    assert lstm["energy_loihi2_uj"] is None  # an LSTM is not a spiking network: no Loihi figure
    assert lstm["energy_arm-cortex-a_uj"] > snn["energy_arm-cortex-a_uj"]
    assert (out / "energy_vs_mae.png").is_file()
    assert (out / "energy_vs_firing_rate.png").is_file()
    md = (out / "comparison.md").read_text()
    assert "energy per forecast, loihi2 (uJ)" in md and "lstm / snn energy ratio" in md
    assert "cannot run there" in md


@pytest.mark.fast
def test_the_devices_table_keeps_every_name_whole_at_80_columns():
    """The names are what one types after --device: an 80-column terminal must show them
    whole (rich cut them to "arm-co..." before)."""
    import os
    import subprocess
    import sys

    from edge_shm.profile.devices import load_devices

    env = {**os.environ, "COLUMNS": "80"}
    res = subprocess.run([sys.executable, "-m", "edge_shm", "devices"], capture_output=True,
                         text=True, env=env, check=True)  # fmt: skip
    lines = res.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    names = {line.split()[0] for line in lines if line.strip()}
    for name in load_devices():
        assert name in names, name


def test_the_old_device_name_loihi_says_it_means_loihi1(snn_run_dir, crack_lib_path, tmp_path,
                                                          capsys):  # fmt: skip
    out = tmp_path / "p"
    args = ["profile", str(snn_run_dir), "-d", "loihi", "-l", str(crack_lib_path)]
    assert main([*args, "--max-windows", "2", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "device 'loihi' is the deprecated name of 'loihi1'" in err
    assert json.loads((out / "profile.json").read_text())["device"]["name"] == "loihi1"
