"""Missing output folders: made when a command checks its outputs, removed again (if still
empty) when the command fails; a file in the way or an unwritable place is one line."""

from __future__ import annotations

import numpy as np
import pytest

from edge_shm import folders
from edge_shm.cli import main


def _crack(path):
    f = np.zeros((40, 60), np.float32)
    f[20:22, :45] = 1.0
    np.save(path, f)
    return path


@pytest.mark.fast
def test_make_folder_remembers_only_what_it_made(tmp_path):
    folders.forget_created()
    (tmp_path / "a").mkdir()
    folders.make_folder(tmp_path / "a" / "b" / "c")
    assert folders.CREATED == [tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"]
    (tmp_path / "a" / "b" / "keep.txt").write_text("written meanwhile")
    folders.remove_created()
    assert not (tmp_path / "a" / "b" / "c").exists()
    assert (tmp_path / "a" / "b" / "keep.txt").is_file()  # not empty: kept
    assert folders.CREATED == []


@pytest.mark.fast
def test_a_command_writes_into_folders_it_makes(tmp_path, capsys):
    s = _crack(tmp_path / "s.npy")
    out = tmp_path / "new" / "deep" / "x.json"
    assert main(["encode", str(s), "-o", str(out)]) == 0
    assert out.is_file()
    rc = main(["encode", str(s), "-o", str(tmp_path / "new" / "y.json")])
    assert rc == 0 and (tmp_path / "new" / "deep" / "x.json").is_file()  # later run keeps it


@pytest.mark.parametrize("made_first", ["-o", "--svg"])
@pytest.mark.fast
def test_a_failed_command_leaves_no_folder_it_made(tmp_path, capsys, made_first):
    s = _crack(tmp_path / "s.npy")
    other = "--svg" if made_first == "-o" else "-o"
    new = tmp_path / "new" / "a" / ("x.json" if made_first == "-o" else "x.svg")
    bad = s / ("x.svg" if made_first == "-o" else "x.json")  # a file in the way
    args = ["encode", str(s), made_first, str(new), other, str(bad)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err == f"error: output folder cannot be made: {s} is not a folder\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npy"]


@pytest.mark.fast
def test_a_corrupt_input_read_after_the_check_leaves_no_folder(tmp_path, capsys):
    (tmp_path / "bad.npy").write_text("garbage")
    rc = main(["encode", str(tmp_path / "bad.npy"), "-o", str(tmp_path / "new" / "x.json")])
    assert rc == 2 and "no NUMPY header" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.npy"]


@pytest.mark.fast
def test_an_interrupted_command_leaves_no_folder_it_made(tmp_path, monkeypatch, capsys):
    from edge_shm import vector

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(vector, "encode_stack", interrupted)
    s = _crack(tmp_path / "s.npy")
    rc = main(["encode", str(s), "-o", str(tmp_path / "new" / "x.json")])
    assert rc == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npy"]
