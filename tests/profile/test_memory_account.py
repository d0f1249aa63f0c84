"""One memory account for a deployed spiking model: the profiler's RAM at int8 and Loihi
precision is the C firmware's (the buffers the generator declares, the stack reserve and the
link's alignment padding), the ELF agrees to the byte, and the README quotes that figure."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from edge_shm.firmware_sim.c import generate, layout, toolchain
from edge_shm.models import build_model
from edge_shm.profile.devices import load_devices
from edge_shm.profile.memory import memory_report
from edge_shm.profile.profiler import profile_model

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "examples" / "runs" / "forecast-snn"
DEVICES = {"int8": "mcu-512k", "loihi": "loihi2"}  # device precision int8 / loihi8
GROUPS = ("weights", "biases", "persistent state v", "spike bits", "banded scratch",
          "input frame buffer", "readout buffer", "output buffer", "stack reserve")  # fmt: skip


@pytest.fixture(scope="module")
def shipped():
    from edge_shm.runs import load_run

    model, _ = load_run(SHIPPED, "cpu")
    return model, profile_model(model, torch.rand(1, 2, 1, 96, 132))


@pytest.fixture(scope="module")
def calibrated(shipped, held_out):
    """The shipped forecasting SNN calibrated at int8 and Loihi on held-out crack frames."""
    from edge_shm.calibration.calibrate import calibrate

    graph = shipped[0].lower()
    return {t: calibrate(graph, held_out[:3], t) for t in DEVICES}


def profiled_ram(shipped, target: str) -> dict:
    rep = memory_report(shipped[1], load_devices()[DEVICES[target]])
    assert rep.layout == target
    return rep


SIZES = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "uint16_t": 2, "int32_t": 4, "uint32_t": 4,
         "int64_t": 8, "esf_layer_t": layout.LAYER_STRUCT_BYTES,
         "esf_layer_t *const": 4}  # fmt: skip
ARRAY = re.compile(r"^(static )?(const )?(\w+(?: \*const)?) (\w+)\[(\w+)\]", re.M)
SCALAR = re.compile(r"^static (?:volatile )?(\w+) (\w+);", re.M)


def declared(fixed) -> dict[str, tuple[int, str]]:
    """Every file-level buffer the C tree declares: name -> (bytes, RAM or flash), read from
    the generated model.c and the fixed sources (engine, harness, semihosting I/O)."""
    texts = generate.sources(fixed)
    defines = dict(re.findall(r"#define (\w+) (\d+)", texts["model.h"] + texts["harness.c"]))
    sizes = dict(SIZES)
    sizes["esf_acc_t"] = 8 if "typedef int64_t esf_acc_t" in texts["model.h"] else 4
    sizes["esf_v_t"] = 1 if fixed.target == "loihi" else 2
    out = {}
    for name in ("model.c", "engine.c", "harness.c", "io_semihosting.c", "startup.c"):
        for _, const, ctype, var, dim in ARRAY.findall(texts[name]):
            if var == "vectors":  # the vector table of startup.c: flash, with the code
                continue
            count = int(defines.get(dim, dim))
            out[var] = (sizes[ctype] * count, "flash" if const else "RAM")
        for ctype, var in SCALAR.findall(texts[name]):
            out[var] = (sizes[ctype], "RAM")
    return out


@pytest.mark.parametrize("target", DEVICES)
def test_the_profile_is_the_generators_buffers_plus_the_stack(shipped, calibrated, target):
    fixed = calibrated[target]
    rep = profiled_ram(shipped, target)
    decl = declared(fixed)
    bufs = layout.static_buffers(layout.geometry(fixed))
    assert {b.name: (b.bytes, b.memory) for b in bufs} == decl  # the list is the C tree
    pads = layout.alignment_padding(bufs)
    assert sum(n for _, n in pads) == 8 and len(pads) == 2  # itemised: int64 z, the stack
    ram = sum(b for b, m in decl.values() if m == "RAM")
    assert rep.account_B["RAM"] == ram + toolchain.STACK_BYTES + 8
    flash = sum(b for b, m in decl.values() if m == "flash")
    assert rep.account_B["flash"] == flash
    # mcu-512k has a flash budget: the constants go there; loihi2 has none: one memory
    placed = rep.account_B["RAM"] + (flash if target == "loihi" else 0)
    assert rep.need_B["RAM"] == placed
    # --calibration reports the same account as the plain profile at that precision
    assert layout.account_bytes(layout.geometry(fixed)) == rep.account_B
    names = " / ".join(ln.line for ln in rep.lines)
    assert all(g in names for g in GROUPS), names
    assert ("24-bit" if target == "loihi" else "int16") in names
    assert any("code: measured only with --firmware" in n for n in rep.notes)


def test_the_shipped_figures(shipped):
    """The figures the README quotes (the ELF agreed with them when they were measured)."""
    assert profiled_ram(shipped, "int8").need_B["RAM"] == 334_184
    assert profiled_ram(shipped, "loihi").account_B["RAM"] == 441_896


@pytest.mark.parametrize("target", DEVICES)
def test_the_elf_holds_exactly_the_account(shipped, calibrated, target, tmp_path, monkeypatch):
    missing = [t for t in ("arm-none-eabi-gcc", "arm-none-eabi-size") if not shutil.which(t)]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing (make setup installs them when root)")
    monkeypatch.setenv("EDGE_SHM_CACHE", str(tmp_path / "cache"))
    texts = generate.sources(calibrated[target])
    texts["cortex_m4.ld"] = toolchain.linker_script(512 * 1024, 2 * 1024**2, "mcu-512k")
    sizes = toolchain.elf_sizes(toolchain.build_m4(texts, "mcu-512k"))
    assert sizes["data"] + sizes["bss"] + sizes["stack"] == sizes["ram"]
    assert sizes["ram"] == profiled_ram(shipped, target).account_B["RAM"]
    assert sizes["stack"] == toolchain.STACK_BYTES + 4  # the 8-aligned start, itemised


def readme_mcu_ram_figures() -> list[int]:
    """Every RAM-sized figure (64 KiB or more) in bytes of README's sentences on the RAM of the
    C firmware on the MCU (flash figures are smaller; the motion SNN's sentence names neither
    the MCU nor the firmware)."""
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    sentences = re.split(r"(?<=\.)\s+(?=[A-Z`(])", text)
    mcu = [s for s in sentences if "RAM" in s and ("MCU" in s or "firmware" in s)]
    assert mcu, "no sentence on the MCU's RAM in README.md"
    found = [int(n.replace(",", "")) for s in mcu for n in re.findall(r"(\d{1,3}(?:,\d{3})+) B", s)]
    return [n for n in found if n >= 65536]


def test_the_readme_quotes_the_profilers_figures(shipped):
    int8 = profiled_ram(shipped, "int8").need_B["RAM"]
    loihi = profiled_ram(shipped, "loihi").account_B["RAM"]
    figures = readme_mcu_ram_figures()
    assert int8 in figures, figures
    assert set(figures) <= {int8, loihi}, figures  # no other estimate beside them
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert (
        f"{int8:,} B of RAM (the firmware's RAM incl. scratch, spike bits, input and readout "
        "buffers and stack" in text
    )


@pytest.mark.fast
def test_a_network_that_cannot_run_on_a_device_gets_no_memory_or_core_check():
    devs = load_devices()
    model = build_model("lstm", height=8, width=6, hidden=(2, 2), recurrent=(5, 3)).eval()
    prof = profile_model(model, torch.rand(2, 3, 1, 8, 6))
    spiking_only = [d for d in devs.values() if d.native == "spiking"]
    assert "loihi2" in {d.name for d in spiking_only}
    for dev in spiking_only:
        rep = memory_report(prof, dev)
        assert rep.cores is None and rep.checks == [] and rep.lines == [] and rep.fits is None
        assert "cannot run on" in rep.notes[0] and "no memory or core check" in rep.notes[0]
        assert "cores" not in rep.to_dict()["notes"][0].replace("core check", "")
    # where it can run: today's estimate, with the input frame and output buffers, precision
    mcu = memory_report(prof, devs["mcu-512k"])
    names = [ln.line for ln in mcu.lines]
    assert mcu.layout is None and mcu.precision == "int8" and "estimate at int8" in mcu.basis
    assert "input frame buffer, pixels (8-bit)" in names
    assert "output buffer, forecast frame (8-bit)" in names
    out = next(ln for ln in mcu.lines if ln.line.startswith("output buffer"))
    assert out.bytes == 8 * 6
    arm = memory_report(prof, devs["arm-cortex-a"])
    assert arm.precision == "float32" and "estimate at float32" in arm.basis


@pytest.mark.fast
def test_a_spiking_model_on_a_float_device_keeps_the_estimate():
    model = build_model("snn", height=8, width=10).eval()
    prof = profile_model(model, torch.rand(2, 3, 1, 8, 10))
    assert set(prof.memory.layouts) == {"int8", "loihi"}
    rep = memory_report(prof, load_devices()["arm-cortex-a"])
    assert rep.layout is None and rep.account_B is None
    stored = prof.to_dict()["memory"]
    assert (
        stored["firmware_layout"]["int8"]["RAM_B"]
        == layout.account_bytes(prof.memory.layouts["int8"])["RAM"]
    )
    assert stored["output_frame"]["float32_B"] == 4 * 80


@pytest.mark.fast
def test_profile_json_keeps_every_key_earlier_readers_use():
    """Keys are only added: what reports/demo.py, benchmarks and compare read stays."""
    model = build_model("snn", height=8, width=10).eval()
    prof = profile_model(model, torch.rand(2, 3, 1, 8, 10))
    budget = memory_report(prof, load_devices()["mcu-512k"]).to_dict()
    assert {"device", "precision", "lines", "need_B", "checks", "fits", "cores"} <= set(budget)
    assert all({"line", "bytes", "where"} == set(ln) for ln in budget["lines"])
    assert {c["memory"] for c in budget["checks"]} == {"RAM", "flash"}
    mem = prof.to_dict()["memory"]
    assert {"weights", "state", "peak_activations", "input_frame"} <= set(mem)
    assert np.isclose(mem["weights"]["int8_B"], 1477)
