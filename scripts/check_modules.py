"""``make lint``: fail on any Python module of the package longer than 400 lines.

Usage: python scripts/check_modules.py [FOLDER ...] (default: the package's folders).
A long module holds more than one thing: split it along what it holds.
"""

from __future__ import annotations

import sys
from pathlib import Path

LIMIT = 400
FOLDERS = ("edge_shm", "export", "firmware_sim", "calibration", "benchmarks")


def long_modules(folders) -> list[tuple[Path, int]]:
    out = []
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.py")):
            n = len(path.read_text().splitlines())
            if n > LIMIT:
                out.append((path, n))
    return out


def main(argv: list[str]) -> int:
    offenders = long_modules(argv or FOLDERS)
    for path, n in offenders:
        print(f"{path}: {n} lines (limit {LIMIT}); split it along what it holds", file=sys.stderr)
    return 1 if offenders else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
