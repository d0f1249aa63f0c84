"""The Lava child ends with its parent, whatever ends the parent.

The host starts the child (``python -m ...lava.host`` or ``...lava.fixed``) in its own session
and ends that session on Ctrl-C, SIGTERM, SIGHUP or an error. A parent killed outright (SIGKILL,
out of memory) cannot do that: here the child asks the kernel for a SIGTERM when its parent dies
(Linux ``prctl(PR_SET_PDEATHSIG)``), watches its parent's pid as a fallback, and on SIGTERM or
SIGHUP ends its whole process group, which holds the worker processes Lava started.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PARENT_ENV = "EDGE_SHM_PARENT_PID"
PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 1.0


def _end_group(signum, frame) -> None:
    if os.getpgrp() == os.getpid():  # started as a session of its own: the group is ours
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.killpg(os.getpgrp(), signal.SIGKILL)
    os._exit(128 + signum)


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


def hold() -> None:
    """Tie this process (and its process group) to the parent named in ``EDGE_SHM_PARENT_PID``."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _end_group)
    try:
        parent = int(os.environ.get(PARENT_ENV, ""))
    except ValueError:
        return  # started by hand, not by edge-shm
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the request above
        _end_group(signal.SIGTERM, None)
    threading.Thread(target=_watch, args=(parent,), daemon=True).start()
