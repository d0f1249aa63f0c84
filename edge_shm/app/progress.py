"""How a use case reports long work and news without printing.

``progress(description, total)`` opens one stage of work (reading, training, calibrating...) of
``total`` steps and returns a context manager yielding ``advance(n=1, info=None)``:
:func:`edge_shm.console.progress_bar` (the CLI's rich bar) is one; :func:`quiet`, the default,
shows nothing. ``note(line)`` hands the caller one line of news (the CLI prints it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

Advance = Callable[..., None]
Stages = Callable[[str, int], AbstractContextManager[Advance]]
Note = Callable[[str], None]


def _ignore(*args, **kwargs) -> None:
    return None


@contextlib.contextmanager
def quiet(description: str, total: int) -> Iterator[Advance]:
    """A stage nobody watches."""
    yield _ignore


def no_note(line: str) -> None:
    """News nobody reads."""
