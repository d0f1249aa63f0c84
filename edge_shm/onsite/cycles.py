"""The load cycles at each frame, from a cycles file (``forecast --cycles-file``).

Two forms of JSON object:

- ``{"cycles": [c0, c1, ...]}``: one count per frame, in the frames' order;
- ``{"frames": [{"name": "1.jpg", "cycles": 0}, {"name": "2.jpg", "cycles": 1500}, ...]}``: the
  frames named, in the order they were taken (which then orders the images, whatever their
  names).

Counts are finite, non-negative and never decrease in the order listed; names are unique,
non-empty strings; at most ``MAX_ENTRIES`` entries.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from edge_shm.errors import UserError

MAX_ENTRIES = 1_000_000
COUNTS = '{"cycles": [non-negative numbers, one per frame]}'
NAMED = '{"frames": [{"name": "<image file name>", "cycles": <non-negative number>}, ...]}'


@dataclass(frozen=True)
class CyclesFile:
    """The load cycles at each frame: ``cycles[i]`` at the i-th frame, which is the image named
    ``names[i]`` when the file names its frames (``names`` None: the frames in their order)."""

    path: Path  # the file, as named in messages
    names: tuple[str, ...] | None
    cycles: tuple[float, ...]

    def order(self, files: list[Path]) -> list[Path]:
        """``files`` (the images of one folder) in the order of the cycles file: as given when
        it does not name its frames.

        Raises
        ------
        UserError : a listed name that is none of ``files``, or one of ``files`` not listed.
        """
        if self.names is None:
            return list(files)
        by_name = {f.name: f for f in files}
        missing = next((n for n in self.names if n not in by_name), None)
        if missing is not None:
            where = f"in {files[0].parent}" if files else "among the images"
            raise UserError(f"{self.path}: lists the frame {_show(missing)}, no such image {where}")
        listed = set(self.names)
        extra = next((f for f in files if f.name not in listed), None)
        if extra is not None:
            raise UserError(f"{extra}: an image the cycles file {self.path} does not list")
        return [by_name[n] for n in self.names]

    def cycles_for(self, names: Iterable[str]) -> list[float]:
        """The load cycles at the frames ``names`` (image file names): by name when the file
        names its frames, else by position (the i-th name, the i-th count).

        Raises
        ------
        UserError : a name the file does not list; more names than counts.
        """
        names = list(names)
        if self.names is None:
            if len(names) > len(self.cycles):
                raise UserError(
                    f"{self.path}: {len(self.cycles)} cycle counts for {len(names)} frames; "
                    "give one per frame"
                )
            return list(self.cycles[: len(names)])
        at = dict(zip(self.names, self.cycles, strict=True))
        unknown = next((n for n in names if n not in at), None)
        if unknown is not None:
            raise UserError(f"{self.path}: does not list the frame {_show(unknown)}")
        return [at[n] for n in names]


def read_cycles_file(path: str | os.PathLike) -> CyclesFile:
    """Read and check a cycles file (either form, module docstring).

    Raises
    ------
    UserError : unreadable, not a JSON object (``edge_shm.jsonio.read_json``), neither or both
        forms, empty, more than ``MAX_ENTRIES`` entries, a count that is not a finite
        non-negative number, a counter that decreases, a name missing, empty or repeated.
    """
    from edge_shm.jsonio import read_json

    path = Path(path)
    try:
        data = read_json(path, "cycles file")
    except ValueError as e:  # json's int-digits limit (4,300) escapes read_json as ValueError
        raise UserError(f"{path}: unreadable cycles file ({str(e)[:80]})") from None
    if "cycles" in data and "frames" in data:
        raise UserError(f'{path}: holds both "cycles" and "frames"; give one of them')
    named = "frames" in data
    entries = data.get("frames" if named else "cycles")
    form = NAMED if named else COUNTS
    if not isinstance(entries, list) or not entries:
        raise UserError(f"{path}: expected {form}")
    if len(entries) > MAX_ENTRIES:
        raise UserError(f"{path}: {len(entries):,} frames, more than {MAX_ENTRIES:,}")
    names = None
    if named:
        if not all(isinstance(e, dict) for e in entries):
            i = next(i for i, e in enumerate(entries) if not isinstance(e, dict))
            raise UserError(f"{path}: expected {form}; entry {i} is not an object")
        names = tuple(_name(path, i, e.get("name")) for i, e in enumerate(entries))
        entries = [e.get("cycles") for e in entries]
        if len(set(names)) < len(names):
            twice = next(n for n, k in Counter(names).items() if k > 1)
            raise UserError(f"{path}: lists the frame {_show(twice)} twice")
    cycles = tuple(_count(path, form, i, c) for i, c in enumerate(entries))
    down = next((i for i in range(1, len(cycles)) if cycles[i] < cycles[i - 1]), None)
    if down is not None:
        at = _show(names[down]) if names else f"entry {down}"
        raise UserError(
            f"{path}: the cycle counter decreases ({cycles[down]:g} at {at}, "
            f"after {cycles[down - 1]:g})"
        )
    return CyclesFile(path, names, cycles)


def _count(path: Path, form: str, i: int, value) -> float:
    """A JSON number that is finite and non-negative (booleans and strings are not counts)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    try:
        c = float(value) if ok else math.nan
    except OverflowError:  # an integer beyond float's range
        c = math.inf
    if not (math.isfinite(c) and c >= 0):
        raise UserError(f"{path}: expected {form}; entry {i} is not a non-negative number")
    return c


def _name(path: Path, i: int, value) -> str:
    if not isinstance(value, str) or not value:
        raise UserError(f'{path}: expected {NAMED}; entry {i} has no "name" (a non-empty string)')
    return value


def _show(name: str) -> str:
    """A name from the file, quoted and cut short for a one-line message."""
    return repr(name if len(name) <= 80 else name[:77] + "...")
