"""JSON files: strict on reading (one-line errors), standard on writing (NaN and inf as null)."""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.outputs import atomic_file


def finite(x):
    """A copy of ``x`` with NaN and infinities replaced by None: JSON has no NaN."""
    if isinstance(x, dict):
        return {str(k): finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [finite(v) for v in x]
    if isinstance(x, np.ndarray):
        return finite(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def dumps(data, indent: int | None = 2) -> str:
    """Standard JSON (``allow_nan=False``): NaN and infinities are written as null."""
    return json.dumps(finite(data), indent=indent, allow_nan=False)


def write_json(path: str | os.PathLike, data) -> Path:
    """Write ``data`` as JSON atomically."""
    text = dumps(data) + "\n"
    with atomic_file(path) as tmp:
        tmp.write_text(text)
    return Path(path)


MAX_JSON_BYTES = 64 << 20  # the largest JSON file edge-shm writes is a few MB
MAX_JSON_DEPTH = 32  # edge-shm's own files nest at most 7 levels


def depth(data) -> int:
    """How deeply ``data`` nests lists and objects (a scalar is 0), without recursion."""
    if not isinstance(data, dict | list):
        return 0
    deepest, todo = 0, [(data, 1)]
    while todo:
        item, level = todo.pop()
        children = item.values() if isinstance(item, dict) else item
        deepest = max(deepest, level)
        todo.extend((c, level + 1) for c in children if isinstance(c, dict | list))
    return deepest


def read_json(path: str | os.PathLike, what: str = "JSON file") -> dict:
    """Read a JSON object; a missing, unreadable, oversized, too deeply nested or non-object
    file is a one-line error. Only regular files are read (a FIFO or a device would block or
    never end)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a folder, not a {what}")
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UserError(f"{path}: no such {what}") from None
    except OSError as e:
        raise UserError(f"{path}: unreadable {what} ({e.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{path}: not a regular file, cannot be a {what}")
    if info.st_size > MAX_JSON_BYTES:
        raise UserError(
            f"{path}: {info.st_size:,} B is too large for a {what} (at most {MAX_JSON_BYTES:,} B)"
        )
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: no such {what}") from None
    except (OSError, ValueError, RecursionError) as e:  # ValueError: bad UTF-8, JSON, huge ints
        raise UserError(f"{path}: unreadable {what} ({type(e).__name__}: {e})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: a {what} must hold a JSON object, not {type(data).__name__}")
    if depth(data) > MAX_JSON_DEPTH:
        raise UserError(f"{path}: a {what} nested more than {MAX_JSON_DEPTH} levels deep")
    return data
