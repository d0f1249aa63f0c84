"""One signal policy: SIGINT, SIGTERM and SIGHUP end every command the same way.

:func:`install` makes SIGTERM and SIGHUP raise :class:`Terminated`, a ``KeyboardInterrupt``,
wherever the program is: every cleanup that Ctrl-C runs (temporaries removed, locks released,
child process groups ended, a streaming command's outputs written) runs for them too. The CLI
then prints one line and exits with 128 + the signal's number (130, 143, 129).
"""

from __future__ import annotations

import _thread
import atexit
import os
import signal
import sys
import threading

NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP"}
STOP_CODES = frozenset(128 + sig for sig in NAMES)  # the exit codes of a stopped command
received: int | None = None  # the last signal that stopped the program
_hook_before = None  # sys.unraisablehook before install()


class Terminated(KeyboardInterrupt):
    """A SIGTERM or SIGHUP, raised as Ctrl-C is."""

    def __init__(self, signum: int):
        super().__init__(NAMES.get(signum, str(signum)))
        self.signum = signum


def _raise(signum, frame) -> None:
    global received
    received = signum
    raise Terminated(signum)


def _swallowed(unraisable) -> None:
    """A stop raised while a finaliser or a weakref callback runs is swallowed there ("Exception
    ignored in ..."): raise it again a moment later, in the code the finaliser interrupted, so
    that the command still ends. Other unraisable exceptions go to the hook before."""
    exc = unraisable.exc_value
    if isinstance(exc, KeyboardInterrupt):
        signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
        # interrupt_main only marks the signal; the timer lets the finaliser return first
        timer = threading.Timer(0.01, _thread.interrupt_main, (signum,))
        timer.daemon = True
        timer.start()
        return
    (_hook_before or sys.__unraisablehook__)(unraisable)


def install() -> dict:
    """SIGTERM and SIGHUP raise :class:`Terminated`, SIGINT ``KeyboardInterrupt`` (main thread
    only; a no-op elsewhere). Returns the handlers before, for :func:`restore`."""
    global received
    received = None
    if threading.current_thread() is not threading.main_thread():
        return {}
    global _hook_before
    before = {sig: signal.getsignal(sig) for sig in NAMES}
    if sys.unraisablehook is not _swallowed:
        _hook_before = sys.unraisablehook
        sys.unraisablehook = _swallowed
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise)
    return before


def restore(before: dict) -> None:
    """Put back the handlers :func:`install` replaced (the CLI called in-process, in tests)."""
    for sig, handler in before.items():
        signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
    if before and sys.unraisablehook is _swallowed:
        sys.unraisablehook = _hook_before or sys.__unraisablehook__


def finished() -> None:
    """The command's outputs are complete: a signal now would only misreport them as lost, so
    the few lines still to print are not interrupted."""
    if threading.current_thread() is threading.main_thread():
        for sig in NAMES:
            signal.signal(sig, signal.SIG_IGN)


def stop_signal(error: BaseException | None = None) -> int:
    """The signal behind an interrupt (SIGINT unless a SIGTERM or SIGHUP was received)."""
    seen = error
    while seen is not None:
        if isinstance(seen, Terminated):
            return seen.signum
        seen = seen.__cause__ or seen.__context__
    return received or signal.SIGINT


def describe(signum: int) -> str:
    """The one line of an interrupted command (without ``error: ``)."""
    if signum == signal.SIGINT:
        return "interrupted"
    return f"stopped by {NAMES.get(signum, signum)}"


def exit_stopped(code: int) -> None:
    """End the process with ``code`` (128 + the signal) once a stop has been reported.

    CPython remembers a KeyboardInterrupt that once escaped code run through ``PyRun_String``
    (extension modules may run code that way while imported) and ends a ``python -m`` program
    killed by SIGINT at exit, whatever its exit code: a Ctrl-C landing there would end the
    command with -2 instead of 130. The exit handlers (temporary folders) still run."""
    finished()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
