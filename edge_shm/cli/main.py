"""The ``edge-shm`` app and its error handling.

Every user error ends in one line on stderr and exit code 2 (no traceback); an interrupt
(Ctrl-C) ends in one line and exit code 130, after the command has removed its temporary files
and stopped its child processes (:mod:`edge_shm.app.failures` reads the exception).
"""

from __future__ import annotations

import sys

import typer

from edge_shm import folders, signals
from edge_shm.app import failures
from edge_shm.outputs import note_slashed

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


def command():
    """The click command tree of :data:`app` (as ``app()`` runs it), its flags shown without a
    value type: typer prints ``<bool>`` for options that take no value."""

    def no_value_type(cmd) -> None:
        for param in cmd.get_params(cmd.context_class(cmd)):  # --help too (click caches it)
            if getattr(param, "is_flag", False) and not getattr(param, "count", False):
                param.metavar = ""
        for sub in getattr(cmd, "commands", {}).values():
            no_value_type(sub)

    cmd = typer.main.get_command(app)
    no_value_type(cmd)
    return cmd


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; turn user errors, usage errors and interrupts into one line."""
    before: dict = {}
    folders.forget_created()
    code = 1
    try:
        code = _main(argv, before)
    finally:
        if code != 0:  # failed, interrupted or a bug: the folders it made go if still empty
            folders.remove_created()
        if argv is not None:  # called in-process (tests, scripts): leave the caller's handlers
            signals.restore(before)
    if argv is None and code in signals.STOP_CODES:
        signals.exit_stopped(code)
    return code


def _main(argv: list[str] | None, before: dict) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    try:
        before.update(signals.install())  # inside the try: a Ctrl-C may land while it runs
        failures.check_launch(words)
        note_slashed(words)
        rc = command()(args=argv, standalone_mode=False)
    except Exception as e:  # noqa: BLE001  (bugs are re-raised below)
        return _end(e)
    except KeyboardInterrupt as e:
        return _end(e)
    if rc == 130:  # typer turns KeyboardInterrupt into Exit(130), returned in this mode
        return _say(*failures.interrupted())
    return rc if isinstance(rc, int) else 0


def _end(e: BaseException) -> int:
    found = failures.describe(e)
    if found is None:
        raise e
    return _say(*found)


def _say(message: str | None, code: int) -> int:
    if message is not None:
        print(failures.one_line(message), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
