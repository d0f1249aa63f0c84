"""Images of every accepted format and mode, the channel option, the pixel-count guard before
decoding, natural name order, and the warning when a folder's frame sizes differ."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile
from skimage.color import rgb2gray

from edge_shm.cli.forecast import say  # the CLI's note: what a user sees on stderr
from edge_shm.data.frames import (
    IMAGE_FORMATS,
    MAX_IMAGE_PIXELS,
    image_files,
    image_sizes,
    load_frames,
    natural_key,
    read_image,
)
from edge_shm.errors import UserError
from edge_shm.onsite.intake import Intake
from edge_shm.onsite.sources import folder_source, watch

pytestmark = pytest.mark.fast

Y, X = np.mgrid[0:48, 0:64]
# smooth, so that JPEG's error is its quantisation, not ringing at edges
GREY = (40 + 100 * X / 63 + 60 * np.sin(Y / 8) ** 2).round().astype(np.uint8)
RGB = np.stack([GREY, 255 - GREY, (30 + 150 * Y / 47).round().astype(np.uint8)], axis=-1)


def _save(path: Path, array, **kw) -> Path:
    Image.fromarray(array).save(path, **kw)
    return path


def _no_decoding(monkeypatch):
    """Pillow decodes pixel data in ImageFile.load only: make it fail the test."""

    def load(self):
        raise AssertionError("decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


# --- formats and modes -----------------------------------------------------------------------


def test_jpeg_decodes_within_jpeg_error(tmp_path):
    """Quality 95 (Pillow's default 4:2:0 chroma subsampling): the grey levels of a smooth image
    come back within a few of 255 (DCT quantisation and 8-bit rounding; 1 measured) and its
    colour channels within 8 of 255 (chroma at half resolution and quantised more coarsely; 6
    measured). Tolerances are about twice what libjpeg-turbo gives, for other decoders."""
    grey = read_image(_save(tmp_path / "g.jpg", GREY, quality=95))
    assert grey.shape == (48, 64) and grey.dtype == np.float32
    assert np.abs(grey - GREY / 255).max() <= 4 / 255
    assert np.abs(grey - GREY / 255).mean() <= 1 / 255

    path = _save(tmp_path / "c.jpeg", RGB, quality=95)
    lum = read_image(path)
    assert lum.shape == (48, 64) and lum.dtype == np.float32
    assert np.abs(lum - rgb2gray(RGB)).max() <= 4 / 255
    for k, channel in enumerate("rgb"):
        got = read_image(path, channel=channel)
        assert got.shape == (48, 64) and np.abs(got - RGB[..., k] / 255).max() <= 8 / 255
    rgb = read_image(path, channel="rgb")
    assert rgb.shape == (48, 64, 3) and rgb.dtype == np.float32
    assert np.abs(rgb - RGB / 255).max() <= 8 / 255


@pytest.mark.parametrize("suffix", [".bmp", ".png", ".BMP"])
def test_lossless_grey_and_rgb_are_exact(tmp_path, suffix):
    grey = read_image(_save(tmp_path / f"g{suffix}", GREY))
    np.testing.assert_array_equal(grey, (GREY / 255).astype(np.float32))
    path = _save(tmp_path / f"c{suffix}", RGB)
    np.testing.assert_array_equal(read_image(path), rgb2gray(RGB).astype(np.float32))
    for k, channel in enumerate("rgb"):
        np.testing.assert_array_equal(read_image(path, channel), (RGB[..., k] / 255).astype("f4"))
    np.testing.assert_array_equal(read_image(path, "rgb"), (RGB / 255).astype(np.float32))


def test_a_grey_image_is_its_own_every_channel(tmp_path):
    path = _save(tmp_path / "g.png", GREY)
    grey = read_image(path)
    for channel in ("r", "g", "b", "luminance"):
        np.testing.assert_array_equal(read_image(path, channel), grey)
    rgb = read_image(path, "rgb")
    assert rgb.shape == (48, 64, 3) and rgb.dtype == np.float32
    assert all(np.array_equal(rgb[..., k], grey) for k in range(3))
    with pytest.raises(UserError, match="channel must be one of luminance, r, g, b, rgb"):
        read_image(path, "red")


def test_palette_png_is_its_colours(tmp_path):
    palette_image = Image.fromarray(RGB).quantize(16)
    palette_image.save(tmp_path / "p.png")
    colours = np.asarray(palette_image.convert("RGB"))
    np.testing.assert_array_equal(read_image(tmp_path / "p.png", "rgb"), colours / np.float32(255))
    np.testing.assert_array_equal(read_image(tmp_path / "p.png"), rgb2gray(colours).astype("f4"))


def test_16_bit_png_keeps_its_levels(tmp_path):
    levels = (GREY.astype(np.uint16) * 257 + 3).astype(np.uint16)
    got = read_image(_save(tmp_path / "w.png", levels))
    np.testing.assert_array_equal(got, (levels / 65535).astype(np.float32))
    assert got.min() > 0 and got.max() < 1


def test_rgba_png_is_composited_on_white(tmp_path):
    rgba = np.dstack([RGB, np.full((48, 64), 255, np.uint8)])
    rgba[:, :32, 3] = 0  # transparent left half: white
    got = read_image(_save(tmp_path / "a.png", rgba), "rgb")
    np.testing.assert_array_equal(got[:, :32], 1.0)
    np.testing.assert_array_equal(got[:, 32:], (RGB[:, 32:] / 255).astype(np.float32))
    assert read_image(tmp_path / "a.png").shape == (48, 64)


def test_one_bit_png_is_zero_or_one(tmp_path):
    mask = GREY > 100
    got = read_image(_save(tmp_path / "b.png", mask))
    assert Image.open(tmp_path / "b.png").mode == "1"
    np.testing.assert_array_equal(got, mask.astype(np.float32))


def test_gif_one_frame_and_three_frames(tmp_path):
    one = read_image(_save(tmp_path / "one.gif", GREY))
    np.testing.assert_array_equal(one, (GREY / 255).astype(np.float32))  # a grey palette

    frames = [GREY, 255 - GREY, GREY // 2]
    images = [Image.fromarray(f) for f in frames]
    images[0].save(tmp_path / "three.gif", save_all=True, append_images=images[1:])
    got = read_image(tmp_path / "three.gif")
    assert got.shape == (3, 48, 64) and got.dtype == np.float32
    for k, f in enumerate(frames):
        np.testing.assert_allclose(got[k], f / 255, atol=1e-6)
    assert read_image(tmp_path / "three.gif", "rgb").shape == (3, 48, 64, 3)
    assert image_sizes(tmp_path / "three.gif") == [(48, 64)] * 3

    colour = read_image(_save(tmp_path / "c.gif", RGB), "rgb")  # quantised to 256 colours
    assert colour.shape == (48, 64, 3) and 0 <= colour.min() and colour.max() <= 1


def test_every_suffix_is_listed_and_named(tmp_path):
    for name in ("a.png", "b.tif", "c.tiff", "d.jpg", "e.jpeg", "f.bmp", "g.gif", "H.JPG"):
        (tmp_path / name).write_bytes(b"")
    assert len(image_files(tmp_path)) == 8
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UserError, match=f"notes.txt: not a {IMAGE_FORMATS} image"):
        image_files(tmp_path)
    assert IMAGE_FORMATS == "PNG, TIFF, JPEG, BMP or GIF"


@pytest.mark.parametrize(
    "name, content",
    [
        ("cut.jpg", "truncated"),
        ("text.bmp", "text"),
        ("tiff_inside.png", "tiff"),  # Pillow parses only PNG, JPEG, BMP and GIF
    ],
)
def test_broken_images_are_one_line(tmp_path, name, content):
    path = tmp_path / name
    if content == "truncated":
        _save(tmp_path / "whole.jpg", RGB)
        path.write_bytes((tmp_path / "whole.jpg").read_bytes()[:400])
    elif content == "text":
        path.write_text("not an image\n")
    else:
        Image.fromarray(GREY).save(path, format="TIFF")
    with pytest.raises(UserError, match="not a readable image") as e:
        read_image(path)
    assert str(e.value).startswith(str(path)) and "\n" not in str(e.value)


# --- the pixel-count guard -------------------------------------------------------------------


def _gif_claiming(path: Path, width: int, height: int, frames: int = 1) -> Path:
    """A GIF of ``frames`` tiny frames whose logical screen (what Pillow decodes every frame
    to) is ``width`` x ``height`` px: a few hundred bytes."""
    images = [Image.fromarray(np.full((2, 2), 30 * k + 10, np.uint8)) for k in range(frames)]
    images[0].save(path, save_all=True, append_images=images[1:])
    data = bytearray(path.read_bytes())
    data[6:10] = struct.pack("<HH", width, height)  # the logical screen descriptor
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "width, height, frames, why",
    [
        (9000, 8000, 1, "72,000,000 pixels"),  # above edge-shm's guard, below Pillow's
        (10000, 10000, 1, "more than"),  # Pillow's DecompressionBombWarning
        (30000, 30000, 1, "more than"),  # Pillow's DecompressionBombError
        (3000, 3000, 8, "72,000,000 pixels"),  # small frames, too many of them
    ],
)
def test_a_gif_bomb_is_refused_before_decoding(tmp_path, monkeypatch, width, height, frames, why):
    path = _gif_claiming(tmp_path / "bomb.gif", width, height, frames)
    assert path.stat().st_size < 1000
    _no_decoding(monkeypatch)
    with pytest.raises(UserError) as e:
        read_image(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg and why in msg, msg
    assert f"{MAX_IMAGE_PIXELS:,}" in msg and "not decoded" in msg


def test_a_large_jpeg_is_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "black.jpg"
    Image.new("L", (9000, 8000)).save(path)  # 72 M px in under 1 MB
    _no_decoding(monkeypatch)
    start = time.perf_counter()
    with pytest.raises(UserError, match=r"black.jpg: 72,000,000 pixels in all, more than") as e:
        read_image(path)
    assert "\n" not in str(e.value) and time.perf_counter() - start < 1
    assert image_sizes(path) == [(8000, 9000)]  # the header alone is fine


def test_pillow_bomb_warning_does_not_leak(tmp_path, recwarn):
    path = _gif_claiming(tmp_path / "bomb.gif", 10000, 10000)
    with pytest.raises(UserError):
        read_image(path)
    with pytest.raises(UserError):
        image_sizes(path)
    assert not [w for w in recwarn if "DecompressionBomb" in w.category.__name__]


# --- natural order ---------------------------------------------------------------------------


def test_natural_key_orders_numbers_as_numbers():
    names = [f"{k}.jpg" for k in range(1, 13)]
    assert sorted(names[::-1], key=natural_key) == names
    assert sorted(names) != names  # 1, 10, 11, 12, 2, ... as plain strings
    assert sorted(["frame_10.png", "frame_2.png"], key=natural_key) == [
        "frame_2.png",
        "frame_10.png",
    ]
    assert sorted(["c.png", "B.png", "a.png"], key=natural_key) == ["a.png", "B.png", "c.png"]
    # equal as numbers and regardless of case: the plain name decides, every time the same
    assert sorted(["a1.png", "A1.png", "a01.png"], key=natural_key) == [
        "A1.png",
        "a01.png",
        "a1.png",
    ]
    assert sorted(["x", "x2", "x10b", "x10a"], key=natural_key) == ["x", "x2", "x10a", "x10b"]
    long = "9" * 5000  # beyond int()'s default digit limit
    assert sorted([long, "8" + long], key=natural_key) == [long, "8" + long]


def test_folders_are_read_in_natural_order(tmp_path):
    for k in range(1, 13):
        _save(
            tmp_path / f"{k}.jpg" if k % 2 else tmp_path / f"{k}.png", np.full((4, 4), 20 * k, "u1")
        )
    assert [f.stem for f in image_files(tmp_path)] == [str(k) for k in range(1, 13)]
    seq = load_frames(tmp_path)
    np.testing.assert_allclose(seq[:, 0, 0] * 255, 20 * np.arange(1, 13), atol=2)  # JPEG error


def test_a_watched_folder_is_read_in_natural_order(tmp_path):
    for k in (1, 2, 10, 11, 3):
        _save(tmp_path / f"frame_{k}.png", GREY)
    got = list(watch(tmp_path, Intake((48, 64), binarize="none"), 5, poll_s=0.01))
    assert [a.name for a in got] == [f"frame_{k}.png" for k in (1, 2, 3, 10, 11)]
    assert all(a.error is None for a in got)


# --- frames of different sizes ---------------------------------------------------------------


def _sized_folder(folder: Path, sizes, names=None) -> Path:
    folder.mkdir(parents=True)
    for k, (h, w) in enumerate(sizes):
        _save(folder / (names[k] if names else f"{k + 1}.png"), np.full((h, w), 100, np.uint8))
    return folder


def test_a_folder_of_different_sizes_warns_once(tmp_path, capsys):
    folder = _sized_folder(tmp_path / ("long_" * 10), [(10, 12), (10, 12), (11, 12), (14, 16)])
    intake = Intake((8, 8), roi="center", binarize="none")
    src = folder_source(folder, intake, note=say)
    assert [a.frame.shape for a in src] == [(8, 8)] * 4  # each cropped as without the warning
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("warning: ") and err[0].endswith("frames of different sizes")
    assert "3.png: 11 x 12 px" in err[0] and "first frame 1.png (10 x 12 px)" in err[0]
    assert "4.png" not in err[0]


def test_same_sizes_no_warning_and_a_refusal_stays_alone(tmp_path, capsys):
    same = _sized_folder(tmp_path / "same", [(10, 12)] * 3)
    folder_source(same, Intake((8, 8), roi="center", binarize="none"), note=say)
    assert capsys.readouterr().err == ""
    mixed = _sized_folder(tmp_path / "mixed", [(8, 8), (9, 9)])
    with pytest.raises(UserError, match="choose --roi"):
        folder_source(mixed, Intake((8, 8), binarize="none"), note=say)  # --roi none: 9 x 9
    assert capsys.readouterr().err == ""


def test_the_warning_shows_names_inert(tmp_path, capsys):
    names = ["1_a.png", "2_[bold]x\x1b[31m.png"]
    folder = _sized_folder(tmp_path / "f", [(10, 10), (12, 12)], names)
    folder_source(folder, Intake(None, binarize="none"), note=say)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and "2_[bold]x?[31m.png" in err, err


def test_a_watch_warns_once(tmp_path, capsys):
    _sized_folder(tmp_path / "w", [(10, 12), (12, 12), (14, 12), (10, 12)])
    intake = Intake((8, 8), roi="center", binarize="none")
    got = list(watch(tmp_path / "w", intake, 4, 0.01, note=say))
    assert [a.error for a in got] == [None] * 4
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "2.png: 12 x 12 px" in err[0] and "1.png (10 x 12 px)" in err[0]
