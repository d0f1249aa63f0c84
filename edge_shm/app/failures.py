"""What went wrong, as one line and an exit code: the CLI's reading of an exception.

A user error is 2; an interrupt is 128 + the signal; out of memory, a full or read-only disk, a
lost torchrun peer and click's usage errors are one line and 2. Anything else is a bug and is
re-raised by the caller (None here).
"""

from __future__ import annotations

import errno
import os
import sys

from edge_shm import signals
from edge_shm.errors import UserError
from edge_shm.reports.escape import printable

OUT_OF_MEMORY = "out of memory; try fewer samples, windows or a smaller model"
FILE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO,
               errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTDIR)  # fmt: skip


def one_line(message: str) -> str:
    """The message on one printable line, prefixed with the torchrun rank when not rank 0."""
    line = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    rank = os.environ.get("RANK", "0")
    where = "" if rank in ("", "0") else f"rank {rank}: "
    return f"{where}error: {printable(line)}"  # a quoted file name may hold terminal escapes


def under_torchrun() -> bool:
    """True in the processes torchrun started for more than one process (WORLD_SIZE > 1)."""
    return os.environ.get("WORLD_SIZE", "1") not in ("", "1")


def check_launch(words: list[str]) -> None:
    """Under torchrun (WORLD_SIZE > 1) only ``train`` runs: other commands would run N times."""
    if not under_torchrun():
        return
    words = [a for a in words if not a.startswith("-")]
    if words[:1] != ["train"]:
        command = words[0] if words else "this command"
        raise UserError(
            f"only `edge-shm train` runs under torchrun (WORLD_SIZE="
            f"{os.environ['WORLD_SIZE']}); run `edge-shm {command}` in one process"
        )


def _lost_peer(e: BaseException) -> bool:
    """A torch.distributed error under torchrun: another rank died (its own error says why)."""
    dist = sys.modules.get("torch.distributed")
    error = getattr(dist, "DistError", None)
    return under_torchrun() and (
        (error is not None and isinstance(e, error))
        or (isinstance(e, RuntimeError) and "gloo" in str(e).lower())
    )


def _torch_out_of_memory(e: BaseException) -> bool:
    """torch's allocators raise RuntimeError (OutOfMemoryError on GPUs), not MemoryError."""
    oom = getattr(sys.modules.get("torch"), "OutOfMemoryError", None)
    return (oom is not None and isinstance(e, oom)) or (
        isinstance(e, RuntimeError) and "can't allocate memory" in str(e)
    )


def interrupted() -> tuple[str, int]:
    sig = signals.stop_signal()
    return signals.describe(sig), 128 + sig


def describe(e: BaseException) -> tuple[str | None, int] | None:
    """(message or None for silence, exit code) of an exception, or None for a bug."""
    if isinstance(e, UserError):
        return str(e), 2
    if isinstance(e, KeyboardInterrupt) or type(e).__name__ == "Abort":
        sig = signals.stop_signal(e)
        return signals.describe(sig), 128 + sig
    if type(e).__name__ == "Exit":
        return None, e.exit_code
    if isinstance(e, MemoryError) or _torch_out_of_memory(e):
        return OUT_OF_MEMORY, 2
    if isinstance(e, OSError):
        if e.errno not in FILE_ERRNOS:
            return None
        return (f"{e.filename}: " if e.filename else "") + str(e.strerror), 2
    if _lost_peer(e):
        return f"another process of this torchrun failed or left ({type(e).__name__})", 2
    # typer vendors click: its usage errors carry format_message() and an exit code.
    if type(e).__name__ == "NoArgsIsHelpError":
        return None, 0
    if hasattr(e, "format_message") and hasattr(e, "exit_code"):
        return e.format_message(), 2
    return None
