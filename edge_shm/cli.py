"""The ``edge-shm`` command line: one app, sub-commands registered from small modules.

Every user error ends in one line on stderr and exit code 2 (no traceback).
"""

from __future__ import annotations

import sys

import typer

from edge_shm.errors import UserError

app = typer.Typer(
    name="edge-shm",
    no_args_is_help=True,
    add_completion=False,
    help="Neuromorphic edge deployment for structural health monitoring.",
)


def _register() -> None:
    from edge_shm import cli_library

    app.add_typer(cli_library.app, name="library")
    for name in ("cli_models", "cli_export", "cli_vector", "cli_profile"):
        try:
            module = __import__(f"edge_shm.{name}", fromlist=["register"])
        except ModuleNotFoundError as e:
            if e.name != f"edge_shm.{name}":
                raise
            continue
        module.register(app)


_register()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; turn user errors and usage errors into one line and exit code 2."""
    try:
        app(args=argv, standalone_mode=False)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (typer.Abort, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
        return 130
    except typer.Exit as e:
        return e.exit_code
    except Exception as e:
        # typer vendors click: its usage errors carry format_message() and an exit code.
        if type(e).__name__ == "NoArgsIsHelpError":
            return 0
        if hasattr(e, "format_message") and hasattr(e, "exit_code"):
            print(f"error: {e.format_message()}", file=sys.stderr)
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
