"""Where frames come from: a stack, an image folder, a library sample, or a watched folder.

Every source yields :class:`Arrival` items in order. A finite source refuses a bad image with
one line (the run stops before writing anything); ``watch`` reports it in the arrival and goes
on, as a device must: ``error`` says why in a person's words with the file's name ("not an image
file (notes.txt)", shown on the dashboard), ``detail`` the technical line.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.onsite.camera import FrameRefused
from edge_shm.onsite.intake import Intake, read_frame


@dataclass
class Arrival:
    name: str
    frame: np.ndarray | None  # (H, W) float32, None when the image was refused
    cycles: float | None = None  # load cycles at this frame, when known
    error: str | None = None  # why it was refused, for a person on site
    intake: dict | None = None  # what a camera intake did (mouth, shift, image size)
    detail: str | None = None  # why it was refused, the technical line (None: as ``error``)
    received: float = field(default_factory=time.time)  # when it was taken, s since the epoch


def _arrival(name: str, path: Path, intake: Intake) -> Arrival:
    frame = read_frame(path, intake)
    done = dict(intake.camera.last) if intake.camera is not None else None
    return Arrival(name, frame, intake=done)


@dataclass
class Source:
    """A finite sequence of arrivals plus what is known of its physics."""

    arrivals: list[Arrival]
    description: str
    physics: dict = field(default_factory=dict)  # stress_range_mpa, width_mm, a_offset_mm

    def __iter__(self) -> Iterator[Arrival]:
        return iter(self.arrivals)


def stack_source(frames: np.ndarray, intake: Intake, name: str) -> Source:
    """A (T, H, W) array, each frame through the intake."""
    frames = np.asarray(frames)
    if frames.ndim == 4 and frames.shape[0] == 1:
        frames = frames[0]
    if frames.ndim != 3:
        raise UserError(f"{name}: expected one sequence (T, H, W), got shape {frames.shape}")
    if len(frames) == 0:
        raise UserError(f"{name}: no frames")
    arr = [Arrival(f"{name}[{t}]", intake.frame(f, f"{name}[{t}]")) for t, f in enumerate(frames)]
    return Source(arr, f"{name} ({len(frames)} frames)")


def folder_source(folder: Path, intake: Intake, order=None, note=None) -> Source:
    """The images of ``folder`` in natural name order, each through the intake; one warning
    through ``note(line)`` when their sizes differ."""
    from edge_shm.data.frames import image_files

    sizes = FrameSizes(f"{display_name(str(folder))}/", note)
    arrivals = []
    files = image_files(folder, sidecars=True)
    for f in files if order is None else order(files):  # order: a cycles file's
        arrivals.append(_arrival(display_name(f.name), f, intake))
        sizes.check(f)
    return Source(arrivals, f"{display_name(str(folder))}/")


@dataclass
class FrameSizes:
    """Hands ``note`` one warning, the first time an image's (H, W) px differs from the first
    image's: the intake takes each image as it is (refused, cropped or resized on its own), but
    a camera whose frame size changes has probably moved or been reconfigured."""

    where: str  # the folder, as shown before the image's name
    note: Callable[[str], None] | None = None  # the caller's line of news (None: silent)
    first: tuple[str, tuple[int, int]] | None = None  # the first image's name and (H, W)
    warned: bool = False

    def check(self, path: Path) -> None:
        """Note the size of ``path``, an image the intake has just taken (from its header)."""
        from edge_shm.data.frames import image_sizes

        if self.warned or self.note is None:
            return
        try:
            size = image_sizes(path)[0]
        except UserError:  # it was read a moment ago: replaced meanwhile, not this warning's
            return
        name = display_name(path.name)
        if self.first is None:
            self.first = name, size
        elif size != self.first[1]:
            self.warned = True
            (h, w), (h0, w0) = size, self.first[1]
            self.note(
                f"warning: {self.where}{name}: {h} x {w} px, unlike the first frame "
                f"{self.first[0]} ({h0} x {w0} px); frames of different sizes"
            )


def library_source(path: Path, sample: int, intake: Intake) -> Source:
    """One sample of a library, with its load cycles per frame and its loads (fcg)."""
    from edge_shm.data.library import read_library

    lib = read_library(path)
    if not 0 <= sample < len(lib.frames):
        raise UserError(f"{path}: no sample {sample} (it holds {len(lib.frames)})")
    cycles = lib.physics.get("frame_cycles")
    src = stack_source(lib.frames[sample], intake, f"{path.name}:{sample}")
    physics = {"pixel_mm": lib.pixel_mm}
    if cycles is not None:
        for a, c in zip(src.arrivals, cycles[sample], strict=True):
            a.cycles = float(c)
        physics["cycles"] = [float(c) for c in cycles[sample]]  # the frames' schedule
    if "loads_mpa" in lib.physics and "width_mm" in lib.params:
        physics |= {
            "stress_range_mpa": float(np.mean(lib.physics["loads_mpa"][sample][:, 0])),
            "width_mm": float(lib.params["width_mm"]),
            "source": "the sample's mean tension and the plate width (library physics)",
        }
    src.physics = physics
    src.description = f"sample {sample} of {path} ({len(src.arrivals)} frames)"
    return src


def refused(name: str, reason: str, detail: str) -> Arrival:
    """A watched file skipped: ``reason`` for a person, then the file's name in brackets;
    ``detail`` the technical line (names and messages as text a terminal can take)."""
    return Arrival(
        name, None, error=display_name(f"{reason} ({name})"), detail=display_name(detail)
    )


class WatchEnded(Exception):
    """The watched folder cannot be read any more (removed, unmounted): the watch ends."""


def display_name(name: str) -> str:
    """A file name as text that JSON, Markdown and a terminal can take: bytes that are not
    UTF-8 become U+FFFD, control characters become '?'."""
    text = os.fsencode(name).decode("utf-8", "replace")
    return "".join("?" if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in text)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def watch(
    folder: Path,
    intake: Intake,
    max_frames: int | None,
    poll_s: float = 0.2,
    stop=None,
    note=None,
):
    """Arrivals from ``folder`` as images are written (natural name order; files already there
    first).

    A file is taken once its size is the same on two polls (a writer has finished). Runs until
    ``max_frames`` arrivals, or ``stop()`` returns True, or KeyboardInterrupt (the caller's).
    ``note(line)`` is told once when the images' sizes change."""
    from edge_shm.data.frames import IMAGE_FORMATS, IMAGE_SUFFIXES, natural_key

    if not folder.is_dir():
        raise UserError(f"--watch {folder}: not a folder")
    seen: set[str] = set()
    sizes: dict[str, int] = {}
    frame_sizes = FrameSizes(f"{display_name(str(folder))}/", note)
    count = 0
    while max_frames is None or count < max_frames:
        if stop is not None and stop():
            return
        ready = []
        try:
            names = sorted(folder.iterdir(), key=lambda f: natural_key(f.name))
        except OSError as e:
            raise WatchEnded(f"the watched folder {folder} is gone ({e.strerror})") from None
        for f in names:
            if f.name in seen or f.name.startswith("."):
                continue
            if f.is_symlink():  # never followed: a link could point anywhere on the machine
                seen.add(f.name)
                yield Arrival(display_name(f.name), None, error="a symbolic link, not read")
                count += 1
                continue
            if not f.is_file():
                continue
            size = _size(f)
            if size > 0 and sizes.get(f.name) == size:
                ready.append(f)
            sizes[f.name] = size
        for f in ready:
            seen.add(f.name)
            name = display_name(f.name)
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                yield refused(name, "not an image file", f"{name}: not a {IMAGE_FORMATS} image")
            else:
                try:
                    arrival = _arrival(name, f, intake)
                except MemoryError:
                    yield Arrival(name, None, error="too large for memory")
                except UserError as e:
                    reason = e.reason if isinstance(e, FrameRefused) else str(e)
                    yield refused(name, reason.replace(str(f), name), str(e))
                else:
                    frame_sizes.check(f)
                    yield arrival
            count += 1
            if max_frames is not None and count >= max_frames:
                return
        time.sleep(poll_s)
