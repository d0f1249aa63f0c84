"""C firmware trees of calibrated networks, compiled into a cache private to the session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edge_shm.cli import main

SHIPPED = Path(__file__).resolve().parents[3] / "examples" / "runs" / "forecast-snn"
CROSS_TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm")


@pytest.fixture(scope="session", autouse=True)
def private_build_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("EDGE_SHM_CACHE", str(tmp_path_factory.mktemp("edge-shm-cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def cross_tools():
    missing = [t for t in CROSS_TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing (make setup installs them when root)")


def export_c(run: Path, lib: Path, target: str, out: Path) -> Path:
    """Calibrate ``run`` for ``target`` on ``lib`` and export it as a C tree into ``out``."""
    calib, fw = out / f"calib-{target}", out / f"fw-{target}"
    assert main(["calibrate", str(run), "-l", str(lib), "-t", target, "-o", str(calib)]) == 0
    args = ["export", str(run), "-t", "c", "--fixed-point", str(calib), "--frames", str(lib)]
    assert main([*args, "-o", str(fw)]) == 0
    return fw


@pytest.fixture(scope="session", params=["loihi", "int8"])
def shipped_fw(request, crack_lib_path, tmp_path_factory) -> Path:
    """The shipped forecasting SNN as C (96 x 132 frames)."""
    return export_c(SHIPPED, crack_lib_path, request.param, tmp_path_factory.mktemp("fsnn"))


@pytest.fixture(scope="session", params=["loihi", "int8"])
def base_fw(request, spiking_snn_run, crack_lib_path, tmp_path_factory) -> Path:
    """The base SNN with gains that make every layer spike, as C (96 x 132 frames)."""
    return export_c(spiking_snn_run, crack_lib_path, request.param, tmp_path_factory.mktemp("snn"))
