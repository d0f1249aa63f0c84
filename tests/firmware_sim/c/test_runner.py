"""The C firmware against the integer engine: identical spikes in every layer at every step,
identical readouts and forecasts, on held-out sequences, on the host and on an emulated
Cortex-M4; what does not fit fails at link time in one line."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from edge_shm.errors import UserError
from edge_shm.firmware_sim.c import runner, toolchain
from edge_shm.firmware_sim.fixed_graph import FixedGraph
from edge_shm.firmware_sim.int_engine import IntEngine


def assert_same_as_engine(fw, frames, results, every_layer_spikes=False):
    fixed = FixedGraph.load(fw)
    for seq, got in zip(frames, results, strict=True):
        want = IntEngine(fixed).run(seq)
        assert sorted(got["spikes"]) == sorted(want["spikes"])
        for name, spikes in want["spikes"].items():
            if every_layer_spikes:
                assert spikes.mean() > 1e-3, f"{name} should spike"
            assert np.array_equal(got["spikes"][name], spikes), name
        assert np.array_equal(got["readout"], want["readout"])
        assert np.array_equal(got["prediction"], want["prediction"])
        assert got["prediction"].shape == seq.shape


def test_shipped_forecaster_on_the_host_equals_the_engine(shipped_fw, held_out):
    frames = held_out[:2]
    assert_same_as_engine(shipped_fw, frames, runner.run_host(shipped_fw, frames))


def test_base_snn_on_the_host_equals_the_engine_in_every_spiking_layer(base_fw, held_out):
    frames = held_out[:2]
    results = runner.run_host(base_fw, frames)
    assert_same_as_engine(base_fw, frames, results, every_layer_spikes=True)
    assert all(r["synaptic_ops"].min() > 0 and r["step_ns"].min() > 0 for r in results)


def test_int8_requantisation_in_64_bits_equals_the_engine(base_fw, held_out, tmp_path):
    """Where the generator cannot prove that int8's requantisation stays within int32, the
    engine computes it in 64 bits (``ESF_REQUANT32 0``): the same bits."""
    from edge_shm.firmware_sim.c import generate

    fixed = FixedGraph.load(base_fw)
    if fixed.target != "int8":
        pytest.skip("int8 only")
    assert generate.requant_fits_int32(fixed)  # the 32-bit path is the one the others test
    mp = pytest.MonkeyPatch()
    mp.setattr(generate, "requant_fits_int32", lambda fixed: False)
    try:
        generate.write_firmware(fixed, tmp_path, 512 * 1024, 2 * 1024**2, "mcu-512k")
    finally:
        mp.undo()
    for name in ("calibration.json", "tensors.npz"):
        (tmp_path / name).write_bytes((base_fw / name).read_bytes())
    assert "#define ESF_REQUANT32 0" in (tmp_path / "model.h").read_text()
    frames = held_out[:1]
    assert_same_as_engine(tmp_path, frames, runner.run_host(tmp_path, frames))


def test_shipped_forecaster_on_the_cortex_m4_equals_the_engine(shipped_fw, held_out, cross_tools):
    frames = held_out[:1]
    results = runner.run_m4(shipped_fw, frames)
    assert_same_as_engine(shipped_fw, frames, results)
    r = results[0]
    # QEMU's MPS2 SysTick counts a 25 MHz clock; -icount shift=0 is 1 ns per instruction
    assert r["instructions_per_tick"] == pytest.approx(40.0, rel=1e-3)
    # every synaptic addition is at least one instruction, every neuron update several
    assert np.all(r["instructions"] > r["synaptic_ops"])
    sizes = r["sizes"]
    assert sizes["ram"] <= 512 * 1024 and sizes["flash"] <= 2 * 1024**2
    assert sizes["ram"] == sizes["data"] + sizes["bss"] + sizes["stack"]


def test_base_snn_does_not_fit_the_cortex_m4_and_says_by_how_much(base_fw, held_out, cross_tools):
    with pytest.raises(UserError) as e:
        runner.run_m4(base_fw, held_out[:1])
    msg = str(e.value)
    assert "\n" not in msg
    assert "does not fit" in msg and "mcu-512k" in msg
    assert "section .bss overflows RAM by" in msg and msg.endswith(" B")
    over = int(msg.rsplit("by ", 1)[1].removesuffix(" B").replace(",", ""))
    assert over > 500_000  # the base SNN at full frames holds far more state than 512 KB


def test_the_device_build_has_no_floating_point(shipped_fw, cross_tools):
    _, texts, _ = runner.read_tree(shipped_fw)
    elf = toolchain.build_m4(texts, "mcu-512k")
    symbols = subprocess.run(
        ["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True
    ).stdout
    soft_float = [s for s in symbols.split() if s.startswith(("__aeabi_f", "__aeabi_d"))]
    assert soft_float == []
    assert "malloc" not in symbols


def test_builds_are_cached_by_content(shipped_fw):
    _, texts, _ = runner.read_tree(shipped_fw)
    first = toolchain.build_host(texts)
    stamp = first.stat().st_mtime_ns
    assert toolchain.build_host(texts) == first and first.stat().st_mtime_ns == stamp
    changed = dict(texts, **{"model.h": texts["model.h"] + "\n/* changed */\n"})
    assert toolchain.build_host(changed) != first


def test_an_edited_tree_is_refused(shipped_fw, tmp_path, held_out):
    import shutil

    fw = tmp_path / "fw"
    shutil.copytree(shipped_fw, fw)
    (fw / "model.c").write_text((fw / "model.c").read_text() + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"model\.c: differs from firmware\.json"):
        runner.run_host(fw, held_out[:1])
    (fw / "engine.c").unlink()
    with pytest.raises(UserError, match="missing file engine.c"):
        runner.run_host(fw, held_out[:1])


def test_frames_of_another_size_are_refused(shipped_fw):
    with pytest.raises(UserError, match="do not fit the firmware"):
        runner.run_host(shipped_fw, np.zeros((1, 2, 32, 32)))


def test_simulate_on_the_cortex_m4_says_its_count_is_per_step(
    shipped_fw, held_out, cross_tools, tmp_path, capsys
):
    """`simulate --backend cortex-m4` counts one step (frame in, forecast out); `profile
    --firmware` counts a whole window: the printed line names the step."""
    import json

    from edge_shm.cli import main

    frames = tmp_path / "frames.npy"
    np.save(frames, held_out[0, :2])
    out = tmp_path / "sim"
    args = ["simulate", str(shipped_fw), "--frames", str(frames), "--backend", "cortex-m4"]
    assert main([*args, "-o", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "instructions per step, one frame in and one forecast out" in printed
    m = json.loads((out / "simulate.json").read_text())["measured"]
    assert m["instructions_per_forecast"]["min"] > 0
    assert f"{m['ms_per_forecast_at_clock']:.2f} ms per step at 216 MHz" in printed
