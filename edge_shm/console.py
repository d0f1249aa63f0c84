"""Shared rich console and progress bar."""

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

console = Console(stderr=True)
out = Console()


@contextlib.contextmanager
def progress_bar(description: str, total: int) -> Iterator:
    """Yield a callable ``advance(n=1, **fields)`` driving a rich progress bar on stderr."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as prog:
        task = prog.add_task(description, total=total, info="")

        def advance(n: int = 1, info: str | None = None) -> None:
            prog.update(task, advance=n, **({} if info is None else {"info": info}))

        yield advance
