"""Cycles files: one count per frame, or frames named with their counts (which then order the
images); every refusal is one line that names the file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from edge_shm.data.frames import image_files
from edge_shm.errors import UserError
from edge_shm.onsite.cycles import MAX_ENTRIES, CyclesFile, read_cycles_file


def _write(tmp_path: Path, data, name: str = "cycles.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _images(folder: Path, names) -> list[Path]:
    folder.mkdir(exist_ok=True)
    for n in names:
        (folder / n).write_bytes(b"")  # ordering reads names only
    return image_files(folder)


@pytest.mark.fast
def test_counts_one_per_frame(tmp_path):
    path = _write(tmp_path, {"cycles": [0, 1500, 1500, 3000.5]})
    cf = read_cycles_file(path)
    assert cf == CyclesFile(path, None, (0.0, 1500.0, 1500.0, 3000.5))
    files = _images(tmp_path / "f", ["2.png", "10.png", "1.png", "3.png"])
    assert cf.order(files) == files  # the folder's own (natural) order
    assert cf.cycles_for(["1.png", "2.png", "3.png"]) == [0.0, 1500.0, 1500.0]
    with pytest.raises(UserError, match="4 cycle counts for 5 frames; give one per frame"):
        cf.cycles_for(["a", "b", "c", "d", "e"])


@pytest.mark.fast
def test_named_frames_order_the_images(tmp_path):
    listed = ["img_b.jpg", "img_a.jpg", "img_c.jpg"]  # taken in this order, whatever the names
    path = _write(
        tmp_path,
        {
            "frames": [
                {"name": n, "cycles": c} for n, c in zip(listed, [0, 1500, 1500], strict=True)
            ]
        },
    )
    cf = read_cycles_file(path)
    assert cf.names == tuple(listed) and cf.cycles == (0.0, 1500.0, 1500.0)
    files = _images(tmp_path / "f", ["img_a.jpg", "img_b.jpg", "img_c.jpg"])
    ordered = cf.order(files)
    assert [f.name for f in ordered] == listed and ordered[0] == tmp_path / "f" / "img_b.jpg"
    assert cf.cycles_for(["img_c.jpg", "img_b.jpg"]) == [1500.0, 0.0]
    with pytest.raises(UserError, match=r"does not list the frame 'img_z.jpg'"):
        cf.cycles_for(["img_z.jpg"])


@pytest.mark.fast
def test_order_refuses_a_missing_or_an_unlisted_image(tmp_path):
    path = _write(
        tmp_path, {"frames": [{"name": "1.jpg", "cycles": 0}, {"name": "2.jpg", "cycles": 5}]}
    )
    cf = read_cycles_file(path)
    folder = tmp_path / "f"
    with pytest.raises(UserError, match=r"lists the frame '2.jpg', no such image in .*f$") as e:
        cf.order(_images(folder, ["1.jpg"]))
    assert str(e.value).startswith(str(path))
    files = _images(folder, ["2.jpg", "10.jpg", "3.jpg"])  # 3.jpg comes first of the unlisted
    with pytest.raises(UserError, match="does not list") as e:
        cf.order(files)
    assert str(e.value).startswith(f"{folder / '3.jpg'}: an image the cycles file {path}")


BAD_FILES = [
    ({"cycles": []}, 'expected {"cycles": [non-negative numbers, one per frame]}'),
    ({"cycles": 5}, 'expected {"cycles": [non-negative'),
    ({"cycle": [0, 1]}, 'expected {"cycles": [non-negative'),
    ({"cycles": [0, -1]}, "entry 1 is not a non-negative number"),
    ({"cycles": [0, "100"]}, "entry 1 is not a non-negative number"),
    ({"cycles": [True]}, "entry 0 is not a non-negative number"),
    ({"cycles": [0, None]}, "entry 1 is not a non-negative number"),
    ('{"cycles": [0, NaN]}', "entry 1 is not a non-negative number"),
    ('{"cycles": [0, Infinity]}', "entry 1 is not a non-negative number"),
    ('{"cycles": [0, 1e400]}', "entry 1 is not a non-negative number"),
    ('{"cycles": [0, 1' + "0" * 400 + "]}", "entry 1 is not a non-negative number"),
    ('{"cycles": [0, 1' + "0" * 5000 + "]}", "unreadable cycles file"),
    ({"cycles": [0, 100, 99]}, "the cycle counter decreases (99 at entry 2, after 100)"),
    ({"frames": []}, 'expected {"frames": [{"name": "<image file name>", "cycles": <non-negative'),
    ({"frames": [0, 1]}, "entry 0 is not an object"),
    ({"frames": [{"name": "a.png"}]}, "entry 0 is not a non-negative number"),
    ({"frames": [{"cycles": 0}]}, 'entry 0 has no "name" (a non-empty string)'),
    ({"frames": [{"name": "", "cycles": 0}]}, 'entry 0 has no "name"'),
    ({"frames": [{"name": 7, "cycles": 0}]}, 'entry 0 has no "name"'),
    (
        {"frames": [{"name": "a.png", "cycles": 0}, {"name": "a.png", "cycles": 1}]},
        "lists the frame 'a.png' twice",
    ),
    (
        {"frames": [{"name": "a.png", "cycles": 10}, {"name": "b.png", "cycles": 5}]},
        "the cycle counter decreases (5 at 'b.png', after 10)",
    ),
    ({"cycles": [0], "frames": [{"name": "a", "cycles": 0}]}, 'both "cycles" and "frames"'),
    ([0, 1, 2], "must hold a JSON object"),
    ("{not json", "unreadable cycles file"),
    ('{"cycles": ' + "[" * 40 + "]" * 40 + "}", "nested more than"),
]


@pytest.mark.parametrize("data, words", BAD_FILES)
@pytest.mark.fast
def test_refusals_are_one_line_naming_the_file(tmp_path, data, words):
    path = _write(tmp_path, data)
    with pytest.raises(UserError) as e:
        read_cycles_file(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: ") and words in msg and "\n" not in msg, msg


def test_too_many_entries(tmp_path):
    path = _write(tmp_path, '{"cycles": [' + ",".join(["0"] * (MAX_ENTRIES + 1)) + "]}")
    with pytest.raises(UserError, match="1,000,001 frames, more than 1,000,000"):
        read_cycles_file(path)
    assert (
        len(read_cycles_file(_write(tmp_path, {"cycles": [0] * MAX_ENTRIES})).cycles) == MAX_ENTRIES
    )


@pytest.mark.fast
def test_a_long_name_is_cut_short_in_messages(tmp_path):
    frames = [{"name": "x" * 10_000, "cycles": 1}, {"name": "y", "cycles": 0}]
    with pytest.raises(UserError, match="decreases") as e:
        read_cycles_file(_write(tmp_path, {"frames": frames}))
    assert len(str(e.value)) < 300


@pytest.mark.parametrize("what", ["missing", "folder", "fifo"])
@pytest.mark.fast
def test_what_is_not_a_regular_file(tmp_path, what):
    path = tmp_path / "c.json"
    if what == "folder":
        path.mkdir()
    elif what == "fifo":
        os.mkfifo(path)  # reading it would block forever
    with pytest.raises(UserError, match=str(path)):
        read_cycles_file(path)
