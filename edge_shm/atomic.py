"""Atomic outputs: write to a temporary sibling, rename on success, remove on failure."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from edge_shm.errors import UserError


def check_output(path: str | os.PathLike) -> Path:
    """Fail early (before long work) when ``path`` cannot be written; returns its folder.

    Probes the folder by creating and removing a temporary file: permission bits alone do not
    tell (root, read-only mounts, /proc).
    """
    path = Path(path)
    parent = path.resolve().parent
    if not parent.is_dir():
        raise UserError(f"output folder does not exist: {parent}")
    try:
        fd, probe = tempfile.mkstemp(prefix=".edge-shm-probe.", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UserError(f"output folder is not writable: {parent} ({e.strerror})") from None
    return parent


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` when the block succeeds."""
    path = Path(path)
    parent = check_output(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; it replaces ``path`` when the block succeeds."""
    path = Path(path)
    parent = check_output(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"output exists and is not a folder: {path}")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent))
    try:
        yield tmp
        if path.exists():
            if not overwrite:
                raise UserError(f"output folder already exists: {path}")
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=parent))
            os.replace(path, old / "x")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
