"""The layout keeps its promises: device-side code imports without torch, modules stay small."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TORCH_FREE = (
    "edge_shm.data",
    "edge_shm.neuro",
    "edge_shm.graph",
    "edge_shm.firmware_sim",
    "edge_shm.calibration",
    "edge_shm.onsite",
)
NEEDS_LAVA = {"edge_shm.firmware_sim.lava.io"}  # defines a Lava process: imports lava-nc


def test_device_side_packages_import_without_torch():
    """Every module of data, neuro, graph, firmware_sim, calibration and onsite imports with
    torch made unimportable (the host has torch; this proves nothing reaches for it)."""
    code = f"""
import importlib, pkgutil, sys
sys.modules["torch"] = None  # any "import torch" now raises ImportError
done = []
for name in {TORCH_FREE!r}:
    pkg = importlib.import_module(name)
    done.append(name)
    for info in pkgutil.walk_packages(pkg.__path__, name + "."):
        if info.name not in {sorted(NEEDS_LAVA)!r}:
            importlib.import_module(info.name)
            done.append(info.name)
heavy = ("torch", "torchvision", "norse")
leaked = sorted(m for m, v in sys.modules.items() if v is not None and m.split(".")[0] in heavy)
print(len(done), leaked)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    count, leaked = res.stdout.split(maxsplit=1)
    assert int(count) >= 25 and leaked.strip() == "[]"


@pytest.mark.fast
def test_no_module_is_over_400_lines_and_the_check_can_fail(tmp_path):
    script = ROOT / "scripts" / "check_modules.py"
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "big.py").write_text("x = 1\n" * 401)
    res = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "pkg")], capture_output=True, text=True
    )
    assert res.returncode == 1 and "big.py: 401 lines" in res.stderr
