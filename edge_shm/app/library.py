"""Digital libraries: build, merge, import, summarise and preview (the ``library`` commands).

Each function checks its inputs and outputs before any work, writes atomically and returns
what it wrote or read; nothing here prints. Long work (simulating, merging) reports through
the ``progress`` the caller passes (:mod:`edge_shm.app.progress`), one step per sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from edge_shm.app.progress import Stages, quiet
from edge_shm.data import generators, importing
from edge_shm.data.generators import DEFAULT_SAMPLES, check_size, params_for
from edge_shm.data.lazy import LazyFrames
from edge_shm.data.library import is_library, read_library
from edge_shm.data.shards import check_shards, merge_shards, parse_shard, shard_range
from edge_shm.data.summary import json_dumps, summary
from edge_shm.errors import UserError
from edge_shm.outputs import PNG, Output, plan_outputs


class LibraryKind(str, Enum):
    """The physics a library is simulated from (:data:`edge_shm.data.generators.KINDS`)."""

    fcg = "fcg"  # fatigue crack growth
    turing = "turing"  # Gray-Scott reaction-diffusion


class FrameTiming(str, Enum):
    """When the frames of a crack are cut (``FCGParams.timing``; named here so that the
    command line need not import the simulator)."""

    slices = "slices"  # each time the tip crosses one of equal x slices (the paper's)
    cycles = "cycles"  # at equal load-cycle intervals (a camera's)
    mixed = "mixed"  # a timing, span and pauses drawn per sample
    static = "static"  # nothing grows


@dataclass(frozen=True)
class BuildRequest:
    """A library to simulate.

    Attributes
    ----------
    kind : :class:`LibraryKind` or its value: ``fcg`` (fatigue crack growth) or ``turing``.
    output : library file to write (.h5).
    samples : number of samples; None: the paper's 908 cracks or 15 Turing samples.
    seed : seed of every random choice, 0 to 2**63 - 1.
    frames : frames per sample; None: 8 (cracks, the paper's) or 68 (Turing).
    timing : cracks only, a :class:`FrameTiming` or its value; None: ``slices``.
    size : Turing only: grid side, px; None: 200.
    shard : ``"I/N"`` or (I, N): only shard I of N (I from 0), for :func:`merge_library`.
    """

    kind: LibraryKind | str
    output: Path
    samples: int | None = None
    seed: int = 0
    frames: int | None = None
    timing: FrameTiming | str | None = None
    size: int | None = None
    shard: str | tuple[int, int] | None = None


@dataclass(frozen=True)
class ImportRequest:
    """Experimental image sequences to store as a library (kind ``imported``).

    Attributes
    ----------
    source : ``.npy`` (N, T, H, W) in [0, 1], or a folder of one sub-folder of images per sample.
    output : library file to write (.h5).
    pixel_mm : pixel size, mm.
    n_test : test samples (the last ones); None: the paper's 12 %.
    camera : read image folders as the on-site loop reads a camera (crack maps, registered,
        mouth on the left); the three options below apply only then.
    mouth : side the crack grows from: left, right, top, bottom or auto.
    crack : bright or dark.
    channel : luminance, r, g, b or auto.
    """

    source: Path
    output: Path
    pixel_mm: float = 0.075
    n_test: int | None = None
    camera: bool = False
    mouth: str = "left"
    crack: str = "bright"
    channel: str = "luminance"


@dataclass(frozen=True)
class LibraryResult:
    """A library written or read.

    Attributes
    ----------
    path : the library file.
    summary : :func:`edge_shm.data.summary.summary`: numbers with their units in the keys
        (samples, frames, sizes in px and mm, intensities in [0, 1]...), in display order.
    """

    path: Path
    summary: dict

    def to_json(self) -> str:
        """The summary as indented JSON (what ``library info --json`` prints)."""
        return json_dumps(self.summary)


def library_output(path: Path, inputs: Sequence[Path] = ()) -> Path:
    """Check a library file output: replaces only an earlier edge-shm library."""
    return plan_outputs([Output(path, "library file", same_kind=is_library)], inputs)[0]


def build_library(request: BuildRequest, progress: Stages = quiet) -> LibraryResult:
    """Simulate a library from physics and write it as HDF5 (atomically).

    Options that do not apply to the kind, a seed outside 0..2**63 - 1 (stored as an HDF5
    int64), bad parameters, a bad shard, frames that would not fit in memory and an output
    that may not be written are refused before any work. ``progress`` sees one unit per sample.
    """
    r = request
    kind, timing = _value(r.kind), _value(r.timing)
    if kind == "fcg" and r.size is not None:
        raise UserError("--size applies to turing libraries only")
    if kind == "turing" and timing is not None:
        raise UserError("--timing applies to crack (fcg) libraries only")
    if not 0 <= r.seed < 2**63:
        raise UserError(f"--seed must be an integer from 0 to 2**63 - 1, got {r.seed}")
    names = ("frames", "timing") if kind == "fcg" else ("n_frames", "timing")
    given = zip(names + ("size",), (r.frames, timing, r.size), strict=True)
    overrides = {k: v for k, v in given if v is not None}
    p = params_for(kind, **overrides)
    rows, cols = (p.rows, p.cols) if kind == "fcg" else (p.size, p.size)
    n = DEFAULT_SAMPLES[kind] if r.samples is None else r.samples
    if n <= 0:
        raise UserError(f"--samples must be a positive integer, got {n}")
    part = parse_shard(r.shard) if isinstance(r.shard, str) else r.shard
    first, stop = (0, n) if part is None else shard_range(n, *part)
    check_size(stop - first, p.n_frames, rows, cols)
    library_output(r.output)
    what = f"{kind} library"
    if part is not None:
        what += f" shard {r.shard if isinstance(r.shard, str) else '/'.join(map(str, part))}"
    with progress(f"building {what}", stop - first) as advance:
        generators.build(kind, r.output, n, r.seed, progress=advance, shard=part, **overrides)
    return _summarised(r.output, lazy=True)


def merge_library(shards: Sequence[Path], output: Path, progress: Stages = quiet) -> LibraryResult:
    """Join the shard files of one library (any order) into one library file (atomically).

    Shards of other libraries, missing, repeated or duplicated samples are refused before
    anything is written. ``progress`` sees one unit per sample of the whole library.
    """
    library_output(output, shards)
    checked = check_shards(shards)
    n = checked[0].shard["library_samples"]
    with progress(f"merging {len(shards)} shards", n) as advance:
        merge_shards(checked, output, progress=advance)
    return _summarised(output, lazy=True)


def import_library(request: ImportRequest) -> LibraryResult:
    """Import experimental image sequences (N, T, H, W) as a library file (atomically)."""
    from edge_shm.onsite.camera import CameraView  # scikit-image, scipy: loaded only here

    r = request
    library_output(r.output, [r.source])
    if not r.camera and (r.mouth, r.crack, r.channel) != ("left", "bright", "luminance"):
        raise UserError("--mouth, --crack and --channel apply with --camera")
    CameraView(r.mouth, r.channel, r.crack)  # the options checked before any work
    make = (lambda: CameraView(r.mouth, r.channel, r.crack)) if r.camera else None
    importing.import_library(r.source, r.output, r.pixel_mm, r.n_test, camera=make)
    return _summarised(r.output)


def library_info(path: Path) -> LibraryResult:
    """The summary of a library file (frames read in blocks: any size in bounded memory)."""
    return _summarised(path, lazy=True)


def preview_library(path: Path, output: Path, samples: int = 4) -> Path:
    """Write a PNG grid of frames: one row per sample (``samples`` rows spread over the
    library), up to 8 frames per row. Returns the PNG's path."""
    from edge_shm.reports.plots import library_preview  # matplotlib: loaded only here

    if samples <= 0:
        raise UserError(f"--samples must be a positive integer, got {samples}")
    plan_outputs([Output(output, "PNG image", same_kind=PNG)], [path])
    lib = read_library(path, load_physics=False, lazy=True)
    try:
        return Path(library_preview(lib, output, samples))
    finally:
        _close(lib.frames)


def _summarised(path: Path, lazy: bool = False) -> LibraryResult:
    lib = read_library(path, lazy=lazy)
    try:
        return LibraryResult(path=lib.path, summary=summary(lib))
    finally:
        _close(lib.frames)


def _value(choice):
    """The string of a choice given as an enum member or as its value (None stays None)."""
    return choice.value if isinstance(choice, Enum) else choice


def _close(frames) -> None:
    if isinstance(frames, LazyFrames):
        frames.close()
