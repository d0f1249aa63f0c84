"""Run code in the Lava environment (Python 3.10, no torch) from the host tests."""

import subprocess

import pytest


@pytest.fixture(scope="session")
def run_in_lava(lava_python):
    """``run_in_lava(args) -> stdout``: run ``.venv-lava/bin/python ARGS``, assert it succeeds."""

    def run(args: list[str], timeout: int = 300) -> str:
        res = subprocess.run(
            [str(lava_python), *args], capture_output=True, text=True, timeout=timeout
        )
        assert res.returncode == 0, res.stderr
        return res.stdout

    return run
