"""``make lint``: the import contracts of ``.importlinter``, checked by import-linter.

The package is installed from four folders (``edge_shm/`` plus the top-level ``export/``,
``firmware_sim/`` and ``calibration/``, mapped in ``pyproject.toml``). import-linter reads a
package from one folder, so this script copies the sources into a temporary tree laid out as
installed (``edge_shm/export/`` ...) and runs ``lint-imports`` on that tree.

Usage: python scripts/check_imports.py [lint-imports options, e.g. --verbose]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def package_dirs() -> dict[str, Path]:
    """Installed package name -> source folder, from pyproject's ``package-dir``."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mapping = config["tool"]["setuptools"]["package-dir"]
    return {name: ROOT / folder for name, folder in mapping.items()}


def installed_tree(dest: Path) -> None:
    for name, folder in sorted(package_dirs().items(), key=lambda kv: kv[0].count(".")):
        target = dest.joinpath(*name.split("."))
        for src in folder.rglob("*.py"):
            rel = src.relative_to(folder)
            if rel.parts[0] in {"export", "firmware_sim", "calibration"} and name == "edge_shm":
                continue
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, out)


def main(argv: list[str]) -> int:
    lint = Path(sys.executable).with_name("lint-imports")
    with tempfile.TemporaryDirectory(prefix="edge-shm-imports-") as tmp:
        installed_tree(Path(tmp))
        env = dict(os.environ, PYTHONPATH=tmp)
        cmd = [str(lint), str(ROOT / ".importlinter"), "--no-cache", *argv]
        return subprocess.run(cmd, cwd=tmp, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
