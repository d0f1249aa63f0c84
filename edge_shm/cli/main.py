"""The ``edge-shm`` app and its error handling.

Every user error ends in one line on stderr and exit code 2 (no traceback); an interrupt
(Ctrl-C) ends in one line and exit code 130, after the command has removed its temporary files
and stopped its child processes.
"""

from __future__ import annotations

import errno
import os
import sys

import typer

from edge_shm import signals
from edge_shm.errors import UserError
from edge_shm.outputs import note_slashed
from edge_shm.reports.escape import printable

app = typer.Typer(
    name="edge-shm",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Neuromorphic edge deployment for structural health monitoring.",
)


def _register() -> None:
    from edge_shm.cli import (
        analyze,
        calibrate,
        export,
        forecast,
        library,
        models,
        profile,
        reproduce,
        vector,
    )

    app.add_typer(library.app, name="library")
    for module in (models, export, calibrate, vector, profile, forecast, analyze, reproduce):
        module.register(app)


_register()


def _fail(message: str, code: int = 2) -> int:
    one_line = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    one_line = printable(one_line)  # a quoted file name may hold terminal escapes
    rank = os.environ.get("RANK", "0")
    where = "" if rank in ("", "0") else f"rank {rank}: "
    print(f"{where}error: {one_line}", file=sys.stderr)
    return code


def _under_torchrun() -> bool:
    """True in the processes torchrun started for more than one process (WORLD_SIZE > 1)."""
    return os.environ.get("WORLD_SIZE", "1") not in ("", "1")


def _check_launch(argv: list[str] | None) -> None:
    """Under torchrun (WORLD_SIZE > 1) only ``train`` runs: other commands would run N times."""
    if not _under_torchrun():
        return
    words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
    if words[:1] != ["train"]:
        command = words[0] if words else "this command"
        raise UserError(
            f"only `edge-shm train` runs under torchrun (WORLD_SIZE="
            f"{os.environ['WORLD_SIZE']}); run `edge-shm {command}` in one process"
        )


def _lost_peer(e: Exception) -> bool:
    """A torch.distributed error under torchrun: another rank died (its own error says why)."""
    dist = sys.modules.get("torch.distributed")
    error = getattr(dist, "DistError", None)
    return _under_torchrun() and (
        (error is not None and isinstance(e, error))
        or (isinstance(e, RuntimeError) and "gloo" in str(e).lower())
    )


def _torch_out_of_memory(e: Exception) -> bool:
    """torch's allocators raise RuntimeError (OutOfMemoryError on GPUs), not MemoryError."""
    oom = getattr(sys.modules.get("torch"), "OutOfMemoryError", None)
    return (oom is not None and isinstance(e, oom)) or (
        isinstance(e, RuntimeError) and "can't allocate memory" in str(e)
    )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; turn user errors, usage errors and interrupts into one line."""
    before = signals.install()
    try:
        return _main(argv)
    finally:
        if argv is not None:  # called in-process (tests, scripts): leave the caller's handlers
            signals.restore(before)


def _main(argv: list[str] | None) -> int:
    try:
        _check_launch(argv)
        note_slashed(sys.argv[1:] if argv is None else list(argv))
        rc = app(args=argv, standalone_mode=False)
    except UserError as e:
        return _fail(str(e))
    except (typer.Abort, KeyboardInterrupt) as e:
        sig = signals.stop_signal(e)
        return _fail(signals.describe(sig), 128 + sig)
    except typer.Exit as e:
        return e.exit_code
    except MemoryError:
        return _fail("out of memory; try fewer samples, windows or a smaller model")
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO,
                       errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTDIR):  # fmt: skip
            where = f"{e.filename}: " if e.filename else ""
            return _fail(f"{where}{e.strerror}")
        raise
    except Exception as e:
        if _torch_out_of_memory(e):
            return _fail("out of memory; try fewer samples, windows or a smaller model")
        if _lost_peer(e):
            return _fail(f"another process of this torchrun failed or left ({type(e).__name__})")
        # typer vendors click: its usage errors carry format_message() and an exit code.
        if type(e).__name__ == "NoArgsIsHelpError":
            return 0
        if hasattr(e, "format_message") and hasattr(e, "exit_code"):
            return _fail(e.format_message())
        raise
    if rc == 130:  # typer turns KeyboardInterrupt into Exit(130), returned in this mode
        sig = signals.stop_signal()
        return _fail(signals.describe(sig), 128 + sig)
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
