"""Every file and folder a command writes goes through here: checked first, written atomically.

The rules (one place, so that every command follows them):

- **Checked before any work.** :func:`plan_outputs` looks at every output of a command at once:
  its folder must accept a new file (probed by creating one: permission bits do not tell for
  root, read-only mounts or /proc; a missing folder is made, see :mod:`edge_shm.folders`); an
  output may not be one of the command's inputs, lie above an input (replacing ``.`` would
  delete the run inside it), be a symbolic link, a device or another special file, or be named
  twice by the same command.
- **Replacing is for outputs of the same kind only.** An existing output is replaced only when it
  is what the command itself writes (an edge-shm library for ``library build``, an export folder
  for ``export``...): each output names a ``same_kind`` test. Anything else is refused. A folder
  is replaced only when it holds nothing but what edge-shm wrote there: every folder output
  carries a record of its kind and files (:data:`RECORD`, written by :func:`atomic_dir`,
  extended by :func:`report_dir` and :func:`record_written`); :func:`owned` checks it. A folder
  without a record (a user's, or one written by edge-shm 0.2 or older) is never replaced.
- **Atomic.** :func:`atomic_file` and :func:`atomic_dir` write into a temporary sibling and rename
  it into place on success; on any failure or interrupt the temporary is removed, so a failed
  command leaves no half-written output. New files get the usual permissions (``0666`` and
  ``0777`` less the umask), not the ``0600`` of :mod:`tempfile`.
- **A full disk is one line.** ``ENOSPC`` and similar errors while writing become a
  :class:`~edge_shm.errors.UserError` naming the output.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from edge_shm import folders
from edge_shm.errors import UserError

WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG, errno.EACCES,
                errno.ENAMETOOLONG}  # fmt: skip
RECORD = ".edge-shm-output.json"
RECORD_FORMAT = "edge-shm-output"
MAX_RECORD_BYTES = 4 * 1024**2


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@dataclass(frozen=True)
class Output:
    """One output of a command.

    Attributes
    ----------
    path : where it goes.
    what : a few words naming it in messages ("library file", "export folder").
    folder : True for a folder output.
    same_kind : ``same_kind(existing_path) -> bool``: may an existing path be replaced? None
        means "never replace an existing path" (folders: an empty folder is always fine).
    """

    path: Path
    what: str
    folder: bool = False
    same_kind: Callable[[Path], bool] | None = None


def _probe_writable(parent: Path) -> None:
    if not parent.is_dir():
        base = folders.existing_base(parent)
        if not base.is_dir():
            raise UserError(f"output folder cannot be made: {base} is not a folder")
        try:
            folders.make_folder(parent)
        except OSError as e:
            raise UserError(f"output folder cannot be made: {parent} ({e.strerror})") from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".edge-shm-probe.", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UserError(f"output folder is not writable: {parent} ({e.strerror})") from None


SLASHED: set[Path] = set()  # outputs given with a trailing '/' (a Path object drops it)


def note_slashed(args: list[str]) -> None:
    """Remember the ``-o``/``--output`` values that end in '/': the user meant a folder."""
    SLASHED.clear()
    args = [str(a) for a in args]
    for flag, value in zip(args, args[1:], strict=False):
        if flag in ("-o", "--output") and value.endswith("/"):
            SLASHED.add(Path(os.path.abspath(value)))
    for arg in args:
        if arg.startswith("--output=") and arg.endswith("/"):
            SLASHED.add(Path(os.path.abspath(arg.split("=", 1)[1])))


NAME_MAX = 255  # bytes in one file name (Linux, macOS)
PATH_MAX = 4096  # bytes in a whole path (Linux)
TEMP_EXTRA = 16  # the temporary sibling's name adds ".", ".XXXXXXXX" and ".tmp"


def _check_name_length(raw: Path, path: Path) -> None:
    """Refuse, before any work, a name whose temporary sibling could not be created."""
    limit = NAME_MAX - TEMP_EXTRA
    try:
        limit = min(limit, os.pathconf(path.parent, "PC_NAME_MAX") - TEMP_EXTRA)
    except (OSError, ValueError):
        pass
    size = len(os.fsencode(raw.name))
    if size > limit:
        raise UserError(
            f"{raw.name[:40]}...: a name of {size} bytes is too long (at most {limit} here)"
        )
    if len(os.fsencode(str(path))) + TEMP_EXTRA > PATH_MAX:
        raise UserError(f"{str(raw)[:40]}...: the path is too long (at most {PATH_MAX} bytes)")


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check_output(out: Output, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Check one output (see the module text); returns its absolute path."""
    raw = Path(out.path)
    if str(out.path) == "-":
        raise UserError(f"-: the {out.what} is written to a file or folder, not to standard output")
    path = Path(os.path.abspath(raw))
    if not out.folder and (str(out.path).endswith("/") or path in SLASHED):
        raise UserError(f"{out.path}/: names a folder; name a file for the {out.what}")
    if raw.name in ("", ".", "..") or path == Path(path.anchor):
        raise UserError(f"{raw}: name a new {out.what}, not the current or parent folder")
    _check_name_length(raw, path)
    _probe_writable(path.parent)
    resolved = path.resolve()
    for src in inputs:
        s = Path(os.path.abspath(src))
        if not (s.exists() or s.is_symlink()):
            continue
        s_res = s.resolve()
        if resolved == s_res or path == s:
            raise UserError(f"{raw}: is also an input of this command; choose another output")
        if _inside(s_res, resolved) or _inside(s, path):
            raise UserError(f"{raw}: holds the input {src}; choose another output")
    if path.is_symlink():
        raise UserError(f"{raw}: is a symbolic link; refusing to replace it with a {out.what}")
    if path.exists():
        mode = path.stat().st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise UserError(f"{raw}: is a device or special file; refusing to write there")
        if out.folder and not path.is_dir():
            raise UserError(f"{raw}: exists and is a file, not a folder")
        if not out.folder and path.is_dir():
            raise UserError(f"{raw}: is a folder; name a file for the {out.what}")
        empty_dir = path.is_dir() and not any(path.iterdir())
        if not empty_dir and not (out.same_kind is not None and out.same_kind(path)):
            if out.folder:
                raise UserError(
                    f"{raw}: exists and holds files edge-shm did not write there as a "
                    f"{out.what} (or it was written before edge-shm 0.3); refusing to replace "
                    "it: choose a new folder"
                )
            raise UserError(
                f"{raw}: exists and is not an edge-shm {out.what}; refusing to replace it"
            )
    return path


def plan_outputs(outputs: Iterable[Output], inputs: Iterable[str | os.PathLike] = ()):
    """Check all outputs of one command before it starts; returns their absolute paths."""
    outputs, inputs = list(outputs), list(inputs)
    seen: dict[Path, Output] = {}
    paths = []
    for out in outputs:
        path = check_output(out, inputs)
        key = path.resolve()
        if key in seen:
            raise UserError(f"{out.path}: named for both the {seen[key].what} and the {out.what}")
        seen[key] = out
        paths.append(path)
    return paths


def fix_mode(path: Path, folder: bool) -> None:
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


@contextlib.contextmanager
def write_errors(what: Path) -> Iterator[None]:
    """Turn a full disk (and other write failures of the medium) into one line."""
    try:
        yield
    except OSError as e:
        if e.errno in WRITE_ERRNOS:
            raise UserError(f"{what}: could not be written ({e.strerror})") from None
        if e.errno is None and "written" in str(e):  # numpy's short write on a full disk
            raise UserError(
                f"{what}: could not be written (short write: {e}; disk full?)"
            ) from None
        raise


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` when the block succeeds."""
    path = Path(path)
    parent = path.resolve().parent
    _probe_writable(parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        with write_errors(path):
            yield tmp
            fix_mode(tmp, folder=False)
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _entries(folder: Path) -> list[str]:
    """Every file and folder below ``folder`` (relative, '/'-separated), the record excluded."""
    out = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if rel != RECORD:
            out.append(rel + ("/" if p.is_dir() and not p.is_symlink() else ""))
    return out


def read_record(folder: Path) -> dict | None:
    """The record of what edge-shm wrote into ``folder`` (None without a valid one)."""
    import json

    path = Path(folder) / RECORD
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_RECORD_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return None
    ok = (
        isinstance(data, dict)
        and data.get("format") == RECORD_FORMAT
        and isinstance(data.get("kind"), str)
        and isinstance(data.get("files"), list)
        and all(isinstance(f, str) for f in data["files"])
    )
    return data if ok else None


def record_written(folder: Path, names: Iterable[str] | None = None, kind: str | None = None):
    """Add ``names`` (default: everything now in ``folder``) to its record, creating the record
    of ``kind`` when there is none. Called by whatever writes into an edge-shm folder."""
    import json

    folder = Path(folder)
    rec = read_record(folder) or {"format": RECORD_FORMAT, "format_version": 1, "kind": kind}
    if rec["kind"] is None:
        return
    listed = set(rec["files"] if "files" in rec else [])
    for name in _entries(folder) if names is None else names:
        listed.add(name)
        listed.update(f"{up.as_posix()}/" for up in Path(name).parents if str(up) != ".")
    rec["files"] = sorted(listed)
    tmp = folder / f"{RECORD}.tmp"
    tmp.write_text(json.dumps(rec, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, folder / RECORD)


def owned(kind: str) -> Callable[[Path], bool]:
    """``same_kind`` for folders: its record says ``kind`` and lists everything in it."""

    def test(p: Path) -> bool:
        rec = read_record(p) if p.is_dir() else None
        return rec is not None and rec["kind"] == kind and set(_entries(p)) <= set(rec["files"])

    return test


_CHANGED = "was written by another program while this command ran; nothing replaced (run it again)"


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, kind: str | None = None) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; it replaces ``path`` on success, with a
    record of ``kind`` and of every file in it (see the module text).

    Check the output with :func:`plan_outputs` first: this only swaps folders.
    """
    path = Path(path)
    parent = path.resolve().parent
    _probe_writable(parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent))
    old = None
    try:
        with write_errors(path):
            yield tmp
            if kind is not None:
                record_written(tmp, kind=kind)
            fix_mode(tmp, folder=True)
            if path.exists() or path.is_symlink():
                # checked before the work began, but another program may have written it since
                if kind is not None and not owned(kind)(path):
                    raise UserError(f"{path}: {_CHANGED}")
                old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=parent))
                os.replace(path, old / "x")
            try:
                os.replace(tmp, path)
            except BaseException as e:
                if old is not None:  # put the earlier output back
                    try:
                        os.replace(old / "x", path)
                    except OSError:
                        old = None  # keep it where it is rather than lose it
                if isinstance(e, OSError) and e.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    raise UserError(f"{path}: {_CHANGED}") from None
                raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def report_dir(path: str | os.PathLike, kind: str | None = None) -> Iterator[Path]:
    """Yield a temporary folder; on success its files move into ``path`` (created, a folder of
    ``kind``, if needed).

    For report folders that may hold other things (``evaluate --into-run`` writes into the run
    folder): files of the same names are replaced one by one and added to the folder's record,
    nothing else is touched, and a failure before the end writes nothing.
    """
    path = Path(path)
    if path.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix=".report.", suffix=".tmp", dir=path))
        try:
            with write_errors(path):
                yield tmp
                names = [f.name for f in sorted(tmp.iterdir())]
                for name in names:
                    fix_mode(tmp / name, folder=(tmp / name).is_dir())
                    os.replace(tmp / name, path / name)
                record_written(path, names)  # extends a record, never creates one here
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    else:
        with atomic_dir(path, kind) as tmp:
            yield tmp


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write a text file atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(text)
    return Path(path)


# --- same-kind tests for outputs ---------------------------------------------------------------


def has_file(*names: str) -> Callable[[Path], bool]:
    """``same_kind`` for folders: an earlier output of the same command holds ``names``."""
    return lambda p: p.is_dir() and all((p / n).is_file() for n in names)


def has_suffix(*suffixes: str) -> Callable[[Path], bool]:
    """``same_kind`` for plain outputs such as PNG or SVG files: judged by the file name."""
    return lambda p: p.is_file() and p.suffix.lower() in suffixes


def starts_with(magic: bytes) -> Callable[[Path], bool]:
    """``same_kind`` for files recognised by their first bytes."""

    def test(p: Path) -> bool:
        try:
            with open(p, "rb") as f:
                return f.read(len(magic)) == magic
        except OSError:
            return False

    return test


PNG = starts_with(b"\x89PNG\r\n\x1a\n")
