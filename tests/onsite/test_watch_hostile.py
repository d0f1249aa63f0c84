"""Hostile files dropped into a watched folder: each is skipped with its reason, none ends the
watch, nothing outside the folder is opened; a folder that disappears ends the watch cleanly."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge_shm.onsite.intake import Intake
from edge_shm.onsite.sources import WatchEnded, watch

pytestmark = pytest.mark.fast

SENSOR = Path(__file__).resolve().parents[2] / "examples" / "sensor" / "frames"


def _arrivals(folder: Path, n: int) -> list:
    intake = Intake((96, 132), "center", "auto", "dark")
    return list(watch(folder, intake, n, poll_s=0.01))


def test_hostile_files_are_skipped_with_their_reason(tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"top secret")
    (folder / "a_link.png").symlink_to(secret)
    # a TIFF of 72 M pixels that compresses to a few hundred kB: refused before decoding
    Image.new("L", (9000, 8000)).save(folder / "b_bomb.tif", compression="tiff_deflate")
    shutil.copy(SENSOR / "frame_000.png", os.path.join(os.fsencode(folder), b"c_\xff\xfe.png"))
    (folder / "d_text.png").write_text("not an image")
    shutil.copy(SENSOR / "frame_001.png", folder / "e_good.png")
    got = _arrivals(folder, 5)
    by_name = {a.name: a for a in got}
    assert sorted(by_name) == ["a_link.png", "b_bomb.tif", "c_\ufffd\ufffd.png", "d_text.png",
                               "e_good.png"]  # fmt: skip
    assert by_name["a_link.png"].error == "a symbolic link, not read"
    assert str(secret) not in by_name["a_link.png"].error
    assert "pixels" in by_name["b_bomb.tif"].error, by_name["b_bomb.tif"].error
    assert by_name["c_\ufffd\ufffd.png"].error is None
    assert by_name["d_text.png"].error and "\n" not in by_name["d_text.png"].error
    assert by_name["e_good.png"].error is None and by_name["e_good.png"].frame is not None


def test_a_watched_folder_that_disappears_ends_the_watch(tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    shutil.copy(SENSOR / "frame_000.png", folder / "a.png")
    intake = Intake((96, 132), "center", "auto", "dark")
    arrivals = watch(folder, intake, None, poll_s=0.01)
    first = next(arrivals)
    assert first.name == "a.png" and first.error is None
    shutil.rmtree(folder)
    with pytest.raises(WatchEnded, match="is gone"):
        next(arrivals)


def test_an_image_too_large_for_memory_is_skipped(tmp_path, monkeypatch):
    """Out of memory while decoding one frame skips that frame; the watch goes on."""
    from edge_shm.onsite import sources

    folder = tmp_path / "w"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        shutil.copy(SENSOR / "frame_000.png", folder / name)
    real = sources.read_frame

    def read_frame(path, intake):
        if path.name == "a.png":
            raise MemoryError
        return real(path, intake)

    monkeypatch.setattr(sources, "read_frame", read_frame)
    got = _arrivals(folder, 2)
    assert [a.error for a in got] == ["too large for memory", None]
    assert isinstance(got[1].frame, np.ndarray)
