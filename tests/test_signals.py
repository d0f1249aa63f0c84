"""The one signal policy (edge_shm/signals.py), in-process; tests/cli/test_interrupts.py runs
the commands."""

from __future__ import annotations

import os
import signal

import pytest

from edge_shm import signals

pytestmark = pytest.mark.fast


def test_sigterm_and_sighup_raise_like_ctrl_c_and_are_told_apart():
    before = signals.install()
    try:
        cases = [(signal.SIGTERM, "stopped by SIGTERM"), (signal.SIGHUP, "stopped by SIGHUP")]
        for sig, line in cases:
            with pytest.raises(KeyboardInterrupt) as caught:
                os.kill(os.getpid(), sig)
                signal.sigtimedwait([], 0)  # the handler runs at the next bytecode boundary
            assert signals.stop_signal(caught.value) == sig
            assert signals.describe(sig) == line
        assert signals.describe(signal.SIGINT) == "interrupted"
    finally:
        signals.restore(before)
    assert signal.getsignal(signal.SIGTERM) == before[signal.SIGTERM]


def test_a_signal_after_the_outputs_are_complete_is_ignored():
    before = signals.install()
    try:
        signals.finished()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            os.kill(os.getpid(), sig)  # would raise (or end the process) if not ignored
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signals.restore(before)
    assert signal.getsignal(signal.SIGINT) == before[signal.SIGINT]


def test_a_stop_swallowed_by_a_finaliser_is_raised_again():
    """A SIGTERM that lands while a finaliser runs is swallowed there by Python; it must still
    end the command, raised again in the code the finaliser interrupted."""
    import signal
    import time

    before = signals.install()
    try:

        class Dies:
            def __del__(self):
                signal.raise_signal(signal.SIGTERM)  # its handler raises inside __del__

        with pytest.raises(signals.Terminated):
            Dies()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # the re-raise comes within milliseconds
                time.sleep(0.001)
        assert signals.received == signal.SIGTERM
    finally:
        signals.restore(before)


def test_a_stopped_command_exits_130_even_after_an_interrupt_escaped_c_code(tmp_path):
    """CPython marks a KeyboardInterrupt that escapes ``PyRun_String`` (code that extension
    modules may run while imported) as unhandled for good; a program run with ``-m`` (as
    ``python -m edge_shm``) then ends killed by SIGINT whatever its exit code. The CLI must
    still exit 130 (CI saw -2)."""
    import subprocess
    import sys

    (tmp_path / "stopped_cli.py").write_text(
        "import ctypes, sys\n"
        "import edge_shm.cli.main\n"
        "cli = sys.modules['edge_shm.cli.main']\n"
        "ctypes.pythonapi.PyRun_SimpleString(b'raise KeyboardInterrupt')\n"
        "def interrupted(**kwargs):\n"
        "    raise KeyboardInterrupt\n"
        "cli.command = lambda: interrupted\n"
        "sys.argv = ['edge-shm', 'models']\n"
        "sys.exit(cli.main())\n"
    )
    cmd = [sys.executable, "-m", "stopped_cli"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 130, res.stderr
    assert res.stderr.strip().splitlines()[-1] == "error: interrupted", res.stderr
