"""``make bench``: every benchmark figure the project claims, written to benchmarks/results.md.

Sections live in ``benchmarks/<name>.py`` (outside the installed package), each with
``run(ctx) -> str`` returning a Markdown section. ``ctx`` is a :class:`BenchContext` that builds
shared artefacts (the full crack library, trained runs) once. Run from the repository root:
``python -m benchmarks.run [NAME ...]``.
"""

from __future__ import annotations

import datetime
import importlib
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

SECTIONS = [
    "library",
    "train",
    "export",
    "vector",
    "profile",
    "forecast",
    "calibration",
    "firmware",
    "arm",
    "interop",
    "onsite",
    "timing",
    "turing",
    "scale",
    "parity",
]
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class BenchContext:
    work: Path
    cache: dict = field(default_factory=dict)

    def crack_library(self) -> Path:
        """The full 908-sample crack library (seed 0), built once."""
        path = self.work / "fcg-908.h5"
        if not path.exists():
            from edge_shm.data.generators import build_fcg

            build_fcg(path, 908, 0)
        return path

    def trained_run(self, model: str) -> Path:
        """The run that the ``train`` section made on the full library (``bench-out/run-MODEL``)."""
        path = self.work / f"run-{model}"
        if not (path / "weights.safetensors").is_file():
            raise SystemExit(f"bench: {path} missing; run `python -m benchmarks.run train` first")
        return path


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or SECTIONS
    work = ROOT / "bench-out"
    work.mkdir(exist_ok=True)
    ctx = BenchContext(work)
    results = ROOT / "benchmarks" / "results.md"
    parts = _read_sections(results)
    for name in names:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError:
            print(f"bench: no section {name!r}", file=sys.stderr)
            continue
        print(f"bench: running {name}", file=sys.stderr)
        text = module.run(ctx).strip() + "\n"
        (work / f"section-{name}.md").write_text(text)
        parts = _read_sections(results)  # sections another bench process wrote meanwhile
        parts[name] = text
        _write(results, parts)
    print(f"bench: results in {results}")
    return 0


def _header() -> str:
    return (
        "# Benchmarks\n\nWritten by `make bench` (`python -m benchmarks.run [SECTION ...]`); "
        "each section is replaced when it is re-run.\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}.\n"
    )


def _read_sections(path: Path) -> dict[str, str]:
    parts: dict[str, str] = {}
    if path.exists():
        name = None
        for line in path.read_text().splitlines(keepends=True):
            if line.startswith("<!-- section: "):
                name = line.split(":", 1)[1].strip(" ->\n")
                parts[name] = ""
            elif name:
                parts[name] += line
    return parts


def _write(path: Path, parts: dict[str, str]) -> None:
    from edge_shm.outputs import atomic_file

    path.parent.mkdir(exist_ok=True)
    body = _header()
    for name in SECTIONS + sorted(set(parts) - set(SECTIONS)):
        if name in parts:
            body += f"\n<!-- section: {name} -->\n{parts[name].rstrip()}\n"
    with atomic_file(path) as tmp:
        tmp.write_text(body)


def ship(run_dir: Path, dest: Path, files) -> None:
    """Copy a trained run's ``files`` (not its optimizer state) to ``dest`` under examples/,
    replacing the earlier copy only once the new one is complete."""
    import shutil

    tmp = dest.parent / f".{dest.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in files:
        shutil.copy(run_dir / name, tmp / name)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.replace(dest)


def stamp() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


if __name__ == "__main__":
    sys.exit(main())
