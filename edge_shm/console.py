"""The CLI's rich consoles (``stdout`` for results, ``stderr`` for progress and news) and its
progress bar."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

stderr = Console(stderr=True)
stdout = Console()


@contextlib.contextmanager
def progress_bar(description: str, total: int) -> Iterator:
    """Yield a callable ``advance(n=1, info=None)`` driving a rich progress bar on stderr.

    On an error or an interrupt the bar is erased, so that the one-line error stands alone.
    """
    prog = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=False,
    )
    task = prog.add_task(description, total=total, info="")

    def advance(n: int = 1, info: str | None = None) -> None:
        prog.update(task, advance=n, **({} if info is None else {"info": info}))

    prog.start()
    try:
        yield advance
    except BaseException:
        prog.live.transient = True
        raise
    finally:
        prog.stop()
