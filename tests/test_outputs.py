"""The output guard: what may be replaced, atomic writes, permissions, a full disk."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edge_shm.cli import main
from edge_shm.errors import UserError
from edge_shm.outputs import Output, atomic_file, plan_outputs


def _err(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.mark.fast
def test_symlinks_and_devices_are_never_replaced(tmp_path, capsys):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (tmp_path / "link.h5").symlink_to(target)
    rc = main(["library", "build", "fcg", "--samples", "2", "-o", str(tmp_path / "link.h5")])
    assert rc == 2 and "symbolic link" in _err(capsys)
    assert target.read_text() == "keep me" and (tmp_path / "link.h5").is_symlink()
    if os.access("/dev", os.W_OK):  # as root the rename would replace the device node
        rc = main(["library", "build", "fcg", "--samples", "2", "-o", "/dev/full"])
        assert rc == 2 and "device or special file" in _err(capsys)
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.fast
def test_same_kind_outputs_are_replaced_others_refused(tmp_path):
    lib = tmp_path / "a.h5"
    assert main(["library", "build", "fcg", "--samples", "2", "-o", str(lib)]) == 0
    first = lib.read_bytes()
    assert main(["library", "build", "fcg", "--samples", "2", "--seed", "1", "-o", str(lib)]) == 0
    assert lib.read_bytes() != first  # an earlier library is replaced: that is what users expect
    other = tmp_path / "notes.h5"
    other.write_text("my notes")
    with pytest.raises(UserError, match="not an edge-shm library file"):
        from edge_shm.data.library import is_library

        plan_outputs([Output(other, "library file", same_kind=is_library)])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert plan_outputs([Output(empty, "export folder", folder=True)])  # an empty folder is fine


@pytest.mark.fast
def test_new_files_follow_the_umask_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "x.txt") as tmp:
            tmp.write_text("x")
        assert stat.S_IMODE((tmp_path / "x.txt").stat().st_mode) == 0o644
        assert (
            main(["library", "build", "fcg", "--samples", "2", "-o", str(tmp_path / "l.h5")]) == 0
        )
        assert stat.S_IMODE((tmp_path / "l.h5").stat().st_mode) == 0o644
    finally:
        os.umask(old)


@pytest.mark.fast
def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_file(tmp_path / "x.txt") as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture()
def tiny_disk(tmp_path):
    """A 64 KB tmpfs (needs the right to mount: root in a container; else skipped)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True
    )
    if res.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (not root)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_is_one_line_and_leaves_nothing(tiny_disk, crack_lib_path, capsys):
    out = tiny_disk / "lib.h5"
    assert main(["library", "build", "fcg", "--samples", "60", "-o", str(out)]) == 2
    assert "No space left on device" in _err(capsys)
    assert list(tiny_disk.iterdir()) == []
    # a training whose first checkpoint cannot be written leaves no run folder either
    (tiny_disk / "fill").write_bytes(b"x" * 60_000)
    args = [
        "train",
        "-l",
        str(crack_lib_path),
        "-o",
        str(tiny_disk / "run"),
        "--epochs",
        "1",
        "--max-windows",
        "8",
        "--batch-size",
        "8",
    ]
    assert main(args) == 2
    assert "No space left on device" in _err(capsys)
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["fill"]


@pytest.mark.parametrize("target", ["nir", "lava", "simulate", "merge"])
def test_a_full_disk_ends_exports_and_simulations_in_one_line(
    tiny_disk, snn_run_dir, tmp_path, capfd, target
):
    """h5py (NIR, Lava) and numpy (a short write) fail their own way on a full disk; each
    still ends in one line, no traceback printed by anything, nothing left."""
    if target == "merge":
        shards = [str(tmp_path / f"s{i}.h5") for i in range(2)]
        for i, shard in enumerate(shards):
            build = ["library", "build", "fcg", "--samples", "4", "--shard", f"{i}/2"]
            assert main([*build, "-o", shard]) == 0
        args = ["library", "merge", *shards]
        st = os.statvfs(tiny_disk)  # leave 8 kB: less than the shards' total
        (tiny_disk / "fill").write_bytes(b"x" * (st.f_bavail * st.f_frsize - 8192))
    elif target == "simulate":
        assert main(["export", str(snn_run_dir), "-t", "onnx", "-o", str(tmp_path / "e"),
                     "--no-verify"]) == 0  # fmt: skip
        np.save(tmp_path / "f.npy", np.zeros((1, 40, 96, 132), np.float32))
        args = ["simulate", str(tmp_path / "e"), "--frames", str(tmp_path / "f.npy")]
    else:
        args = ["export", str(snn_run_dir), "-t", target, "--no-verify"]
    capfd.readouterr()
    assert main([*args, "-o", str(tiny_disk / "out")]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "written" in err[0], err
    assert [p.name for p in tiny_disk.iterdir() if p.name != "fill"] == []


@pytest.mark.fast
def test_json_outputs_never_hold_nan(tmp_path):
    import json

    from edge_shm.jsonio import write_json

    write_json(
        tmp_path / "x.json", {"a": float("nan"), "b": [1.0, float("inf")], "c": np.float32("nan")}
    )
    text = (tmp_path / "x.json").read_text()
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c}")) == {
        "a": None,
        "b": [1.0, None],
        "c": None,
    }


def test_library_path_is_stored_resolved(crack_lib_path, tmp_path, monkeypatch):
    import shutil

    from edge_shm.jsonio import read_json

    shutil.copy(crack_lib_path, tmp_path / "lib.h5")
    monkeypatch.chdir(tmp_path)
    args = [
        "train",
        "-l",
        "lib.h5",
        "-o",
        "run",
        "--epochs",
        "1",
        "--max-windows",
        "8",
        "--batch-size",
        "8",
    ]
    assert main(args) == 0
    cfg = read_json(Path("run") / "config.json")
    assert cfg["library"] == str((tmp_path / "lib.h5").resolve())
    assert len(cfg["library_fingerprint"]) == 16


def test_a_new_run_folder_follows_the_umask(crack_lib_path, tmp_path):
    old = os.umask(0o022)
    try:
        args = ["train", "-l", str(crack_lib_path), "-o", str(tmp_path / "run")]
        assert main([*args, "--epochs", "1", "--max-windows", "8", "--batch-size", "8"]) == 0
        assert stat.S_IMODE((tmp_path / "run").stat().st_mode) == 0o755
    finally:
        os.umask(old)


@pytest.mark.fast
def test_a_folder_written_meanwhile_is_not_replaced(tmp_path):
    """Between the check and the rename another program may write the output: a user's folder
    there is kept, an earlier output of the same kind is replaced, and the loser says so."""
    from edge_shm.outputs import atomic_dir

    out = tmp_path / "deploy"
    with pytest.raises(UserError, match="written by another program while this command ran"):
        with atomic_dir(out, "export folder") as tmp:
            (tmp / "export.json").write_text("{}")
            out.mkdir()
            (out / "thesis.tex").write_text("mine")
    assert sorted(p.name for p in out.iterdir()) == ["thesis.tex"]
    assert not list(tmp_path.glob(".deploy.*"))
    (out / "thesis.tex").unlink()
    out.rmdir()
    with atomic_dir(out, "export folder") as tmp:
        (tmp / "export.json").write_text("{}")
        with atomic_dir(out, "export folder") as other:  # a second export finishes first
            (other / "export.json").write_text("{}")
    assert sorted(p.name for p in out.iterdir()) == [".edge-shm-output.json", "export.json"]
    assert not list(tmp_path.glob(".deploy.*"))
