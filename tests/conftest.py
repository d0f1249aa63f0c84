"""Shared fixtures: small libraries built once per session, the Lava interpreter."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAVA_PYTHON = ROOT / ".venv-lava" / "bin" / "python"


@pytest.fixture(scope="session")
def crack_lib_path(tmp_path_factory) -> Path:
    from edge_shm.library import build_fcg

    path = tmp_path_factory.mktemp("lib") / "fcg-24.h5"
    build_fcg(path, 24, seed=3)
    return path


@pytest.fixture(scope="session")
def crack_lib(crack_lib_path):
    from edge_shm.library import read_library

    return read_library(crack_lib_path)


@pytest.fixture(scope="session")
def lava_python() -> Path:
    if not LAVA_PYTHON.exists():
        pytest.skip("no .venv-lava (Python 3.10 missing): Lava features are skipped")
    return LAVA_PYTHON
