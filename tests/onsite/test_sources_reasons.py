"""Why a watched file is skipped, in a person's words: the reason names the file and says what
to check (the dashboard shows it), the technical line stays in ``detail``; a finite source
still stops with the technical line (the options' names, the path)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge_shm.errors import UserError
from edge_shm.onsite.camera import CameraView, FrameRefused
from edge_shm.onsite.intake import Intake, read_frame, unreadable
from edge_shm.onsite.sources import watch

pytestmark = pytest.mark.fast

SENSOR = Path(__file__).resolve().parents[2] / "examples" / "sensor" / "frames"
FIRST = SENSOR / "frame_000.png"  # 120 x 160 px
TECHNICAL = ("Error", "iomode", "backend", "region at row")


def _skipped(folder: Path, intake: Intake, name: str, write) -> tuple[str, str]:
    """(error, detail) of ``name`` written by ``write(path)`` after a good first frame."""
    shutil.copy(FIRST, folder / "a_first.png")
    write(folder / name)
    got = {a.name: a for a in watch(folder, intake, 2, poll_s=0.01)}
    assert got["a_first.png"].error is None, got["a_first.png"].error
    bad = got[name]
    assert bad.frame is None and bad.error and bad.detail
    assert str(folder) not in bad.error and "\n" not in bad.error
    assert not any(word in bad.error for word in TECHNICAL), bad.error
    return bad.error, bad.detail


def _camera() -> Intake:
    return Intake(None, "none", "auto", "dark", camera=CameraView("left", "luminance", "dark"))


def _rolled(path: Path) -> None:  # the view moved by 60 of its 160 columns
    img = np.asarray(Image.open(FIRST))
    Image.fromarray(np.roll(img, 60, axis=1)).save(path)


def _pages(path: Path) -> None:
    page = Image.open(FIRST)
    page.save(path, save_all=True, append_images=[page])


CASES = {
    "notes.txt": (
        _camera, lambda p: p.write_text("operator's notes"),
        "not an image file (notes.txt)", "not a PNG, TIFF, JPEG, BMP or GIF image",
    ),
    "broken.png": (
        _camera, lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n broken"),
        "not a readable image: the file is damaged or not really a PNG image (broken.png)",
        "UnidentifiedImageError",
    ),
    "cut.png": (
        _camera, lambda p: p.write_bytes(FIRST.read_bytes()[:3000]),
        "the image is cut short: still being written, or damaged (cut.png)", "truncated",
    ),
    "small.png": (
        lambda: Intake((96, 132), "center", "auto", "dark"),
        lambda p: Image.new("L", (40, 30)).save(p),
        "the image (30 x 40 px) is smaller than the 96 x 132 px region the model reads: check "
        "the camera's resolution, or use --roi resize (small.png)",
        "a 96 x 132 px region at row -33, column -46 does not fit in 30 x 40 px",
    ),
    "resized.png": (
        _camera, lambda p: Image.open(FIRST).resize((200, 150)).save(p),
        "the image is 150 x 200 px, the first frame was 120 x 160 px: has the camera or its "
        "resolution changed? (resized.png)",
        "150 x 200 px, the first frame was 120 x 160 px",
    ),
    "knocked.png": (
        _camera, _rolled,
        "the view moved too far to line up with the first frame (0, -60 px): has the camera "
        "been knocked? check its mount (knocked.png)",
        "cannot be aligned to the first frame",
    ),
    "pages.tif": (
        _camera, _pages,
        "the file holds 2 pages (a multi-page TIFF or an animated GIF): write one image per "
        "frame (pages.tif)",
        "2 pages; write one image per frame",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", CASES)
def test_a_skipped_file_says_why_in_plain_words(tmp_path, name):
    intake, write, reason, detail = CASES[name]
    error, technical = _skipped(tmp_path, intake(), name, write)
    assert error == reason
    assert detail in technical


def test_a_crop_outside_the_image_points_at_the_crop(tmp_path):
    shutil.copy(FIRST, tmp_path / "a.png")
    (a,) = watch(tmp_path, Intake((96, 132), "crop:500,0", "auto", "dark"), 1, poll_s=0.01)
    assert a.error == (
        "the crack region falls outside the frame: the 96 x 132 px window at row 500, column 0 "
        "does not fit in the 120 x 160 px image; check --roi crop:ROW,COL and the notch "
        "position (a.png)"
    )
    assert a.detail == f"{tmp_path / 'a.png'}: " + (
        "a 96 x 132 px region at row 500, column 0 does not fit in 120 x 160 px"
    )


def test_a_finite_source_still_stops_with_the_technical_line(tmp_path):
    """The command-line user typed the options: the one-line error keeps the path and the
    options' terms (tests/cli/test_forecast.py checks them)."""
    path = tmp_path / "a.png"
    shutil.copy(FIRST, path)
    with pytest.raises(UserError) as e:
        read_frame(path, Intake((96, 132), "crop:500,0", "auto", "dark"))
    assert isinstance(e.value, FrameRefused)
    assert str(e.value).startswith(f"{path}: a 96 x 132 px region") and "does not fit" in str(
        e.value
    )
    assert e.value.reason.startswith("the crack region falls outside the frame")


def test_an_unknown_reader_message_loses_only_its_path():
    path = Path("/data/cam/x.png")
    assert unreadable(path, f"{path}: something new") == "something new"
    assert unreadable(path, f"{path}: cannot be read (Permission denied)") == (
        "the file cannot be opened (Permission denied)"
    )
