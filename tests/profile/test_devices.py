"""Device profiles: every number has a unit and a source; bad files are rejected."""

from __future__ import annotations

import json

import pytest

from edge_shm.errors import UserError
from edge_shm.profile.devices import builtin_devices, get_device, load_devices, read_device_file

pytestmark = pytest.mark.fast


def _file(tmp_path, devices):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps({"format": "edge-shm-devices", "version": 1, "devices": devices}))
    return path


def _good():
    q = {"value": 1.0, "unit": "pJ", "source": "my measurement"}
    return {"kind": "asic", "precision": "int8", "energy": {"mac": q, "ac": q, "neuron_active": q}}


def test_builtin_profiles_have_sources_and_required_devices():
    devs = builtin_devices()
    for name in (
        "asic-45nm-fp32",
        "asic-45nm-int8",
        "loihi1",
        "loihi2",
        "loihi2-core",
        "spinnaker2",
        "arm-cortex-a",
        "mcu-256k",
        "mcu-512k",
    ):
        assert name in devs
    for d in devs.values():
        for sec in (d.energy, d.memory_access, d.budget):
            for q in sec.values():
                assert q.source and q.unit
    assert devs["loihi1"].energy["ac"].base == pytest.approx(23.6)
    assert devs["loihi1"].op_energy_pj()["neuron_inactive"] == pytest.approx(52.0)
    assert devs["arm-cortex-a"].energy["mac"].base == pytest.approx(900.0)  # 0.9 nJ in pJ
    assert devs["mcu-256k"].budget_bytes("ram") == 256 * 1024
    assert devs["mcu-512k"].budget_bytes("flash") == 2 * 1024**2


def test_user_device_file_added(tmp_path):
    devs = load_devices([_file(tmp_path, {"mine": _good()})])
    assert "mine" in devs and "loihi2" in devs
    assert get_device("mine", [_file(tmp_path, {"mine": _good()})]).precision == "int8"


@pytest.mark.parametrize("drop", ["source", "unit", "value"])
def test_missing_field_rejected(tmp_path, drop):
    dev = _good()
    del dev["energy"]["mac"][drop]
    with pytest.raises(UserError, match=f"energy.mac: missing '{drop}'"):
        read_device_file(_file(tmp_path, {"bad": dev}))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["energy"]["mac"].update(unit="kg"), "unit 'kg'"),
        (lambda d: d["energy"]["mac"].update(value=-1), "negative"),
        (lambda d: d["energy"]["mac"].update(source=" "), "empty source"),
        (lambda d: d["energy"].pop("ac"), "missing ac"),
        (lambda d: d.update(precision="fp64"), "precision"),
        (lambda d: d.update(budget={"ram": {"value": 1, "unit": "pJ", "source": "x"}}), "unit"),
    ],
)
def test_malformed_device_rejected(tmp_path, mutate, message):
    dev = _good()
    mutate(dev)
    with pytest.raises(UserError, match=message):
        read_device_file(_file(tmp_path, {"bad": dev}))


def test_not_json_and_unknown_device(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="unreadable device file"):
        read_device_file(bad)
    with pytest.raises(UserError, match="unknown device 'nope'"):
        get_device("nope")


def test_loihi_1_is_named_loihi1_and_its_old_name_resolves_with_a_note(tmp_path):
    """``loihi`` was Loihi 1 beside ``loihi2``: renamed; the old name still works, and says so
    in one line (the precision named ``loihi`` is another thing and keeps its name)."""
    devs = builtin_devices()
    assert "loihi" not in devs and "Loihi 1" in devs["loihi1"].description
    said: list[str] = []
    dev = get_device("loihi", note=said.append)
    assert dev.name == "loihi1" and dev.to_dict() == devs["loihi1"].to_dict()
    (line,) = said
    assert "deprecated" in line and "'loihi1'" in line and "loihi2" in line and "\n" not in line
    assert get_device("loihi").name == "loihi1"  # no listener: quiet (old folders load)
    assert get_device("loihi2", note=said.append).name == "loihi2" and len(said) == 1
    mine = _file(tmp_path, {"loihi": _good()})  # a user file that defines the old name keeps it
    assert get_device("loihi", [mine], note=said.append).precision == "int8" and len(said) == 1


def test_arm_cortex_a_carries_a_sourced_ram_budget_and_no_flash():
    """No --budget-ram needed for the ARM profile: its RAM is the board's, with its source;
    it has no flash (weights load from a microSD card into RAM)."""
    arm = builtin_devices()["arm-cortex-a"]
    ram = arm.budget["ram"]
    assert arm.budget_bytes("ram") == 1024**3 and ram.unit == "GB"
    assert "Raspberry Pi 3 Model B" in ram.source and "LPDDR2" in ram.source
    assert arm.budget_bytes("flash") is None
    # the same board as the L2 figure that decides on-chip traffic
    assert "Raspberry Pi 3" in arm.memory_access["onchip_capacity"].source


def test_arm_cortex_a_memory_check_uses_the_device_budget():
    import torch

    from edge_shm.models import build_model
    from edge_shm.profile.memory import memory_report
    from edge_shm.profile.profiler import profile_model

    prof = profile_model(
        build_model("snn", height=24, width=32).eval(), torch.rand(1, 2, 1, 24, 32)
    )
    rep = memory_report(prof, builtin_devices()["arm-cortex-a"])  # no budget flags
    (ram,) = rep.checks
    assert (ram.memory, ram.budget_B, ram.fits) == ("RAM", 1024**3, True)
    assert "flash" not in {ln.where for ln in rep.lines}  # no flash: the weights are in RAM
