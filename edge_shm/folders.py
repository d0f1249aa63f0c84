"""Folders an output needs that do not exist yet (``-o runs/snn`` before ``runs/`` exists):
created when the command checks its outputs, and removed again, where still empty, when the
command fails or is interrupted, so a failed command leaves nothing it made behind."""

from __future__ import annotations

from pathlib import Path

CREATED: list[Path] = []  # by this command, outermost first


def existing_base(folder: Path) -> Path:
    """The nearest of ``folder`` and its parents that exists (a link counts: not followed)."""
    p = folder
    while not (p.exists() or p.is_symlink()) and p != p.parent:
        p = p.parent
    return p


def make_folder(folder: Path) -> None:
    """Create ``folder`` and every missing parent, remembering each one this call made.

    Raises
    ------
    OSError : a folder cannot be made (no permission, read-only medium, a file in the way)."""
    missing = []
    p = folder
    while not (p.exists() or p.is_symlink()) and p != p.parent:
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        try:
            p.mkdir()
        except FileExistsError:  # made meanwhile by another program: not ours
            continue
        CREATED.append(p)


def forget_created() -> None:
    """A new command starts: the folders earlier commands made are theirs to keep."""
    CREATED.clear()


def remove_created() -> None:
    """Remove the folders :func:`make_folder` made, deepest first, each only if still empty."""
    for p in reversed(CREATED):
        try:
            p.rmdir()
        except OSError:  # holds something (written since, by us or anyone): kept
            pass
    CREATED.clear()
