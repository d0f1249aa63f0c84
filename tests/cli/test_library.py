"""The library commands end-to-end, including the one-line errors with exit code 2."""

import json

import numpy as np
import pytest

from edge_shm.cli import main


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_build_info_preview(tmp_path, capsys):
    lib = tmp_path / "l.h5"
    assert main(["library", "build", "fcg", "--samples", "5", "-o", str(lib)]) == 0
    assert lib.exists()
    assert main(["library", "info", str(lib)]) == 0
    assert "pixel_size_mm" in capsys.readouterr().out
    assert main(["library", "info", str(lib), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 5
    assert main(["library", "preview", str(lib), "-o", str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("samples", ["0", "-3"])
@pytest.mark.fast
def test_bad_sample_count(tmp_path, capsys, samples):
    out = tmp_path / "x.h5"
    assert main(["library", "build", "fcg", "--samples", samples, "-o", str(out)]) == 2
    assert "samples" in _one_line_error(capsys)
    assert not out.exists()


@pytest.mark.fast
def test_unknown_kind_and_unwritable_output(tmp_path, capsys):
    assert main(["library", "build", "granite", "-o", str(tmp_path / "x.h5")]) == 2
    assert "granite" in _one_line_error(capsys)
    # a missing folder is made, except where nothing may be made
    assert main(["library", "build", "fcg", "--samples", "2", "-o", "/proc/nope/x.h5"]) == 2
    assert "output folder cannot be made: /proc/nope" in _one_line_error(capsys)
    out = tmp_path / "new" / "x.h5"
    assert main(["library", "build", "fcg", "--samples", "2", "-o", str(out)]) == 0
    assert out.is_file()
    capsys.readouterr()
    # /proc refuses new files even to root; permission bits alone would not stop root.
    assert main(["library", "build", "fcg", "--samples", "2", "-o", "/proc/x.h5"]) == 2
    assert "not writable" in _one_line_error(capsys)


@pytest.mark.fast
def test_info_on_foreign_files(tmp_path, capsys):
    import h5py

    (tmp_path / "a.txt").write_text("x")
    assert main(["library", "info", str(tmp_path / "a.txt")]) == 2
    assert "not an HDF5" in _one_line_error(capsys)
    with h5py.File(tmp_path / "f.h5", "w") as f:
        f["x"] = np.zeros(2)
    assert main(["library", "info", str(tmp_path / "f.h5")]) == 2
    assert "not an edge-shm library" in _one_line_error(capsys)


@pytest.mark.fast
def test_import_errors_leave_nothing_behind(tmp_path, capsys):
    from PIL import Image

    src = tmp_path / "src" / "s0"
    src.mkdir(parents=True)
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(src / "0.png")
    Image.fromarray(np.zeros((5, 4), np.uint8)).save(src / "1.png")
    out = tmp_path / "x.h5"
    assert main(["library", "import", str(tmp_path / "src"), "-o", str(out)]) == 2
    assert "mixed image sizes" in _one_line_error(capsys)
    (src / "1.png").unlink()
    (src / "readme.md").write_text("hi")
    assert main(["library", "import", str(tmp_path / "src"), "-o", str(out)]) == 2
    assert "not a PNG, TIFF, JPEG, BMP or GIF" in _one_line_error(capsys)
    assert not out.exists() and not list(tmp_path.glob(".x.h5*"))


@pytest.mark.fast
def test_merge_refusals_are_one_line(tmp_path, capsys):
    lib = tmp_path / "l.h5"
    assert main(["library", "build", "fcg", "--samples", "2", "-o", str(lib)]) == 0
    capsys.readouterr()
    out = tmp_path / "m.h5"
    assert main(["library", "merge", str(lib), "-o", str(out)]) == 2
    assert "not a shard file" in _one_line_error(capsys)
    assert main(["library", "merge", str(lib), "-o", str(lib)]) == 2
    assert "also an input" in _one_line_error(capsys)
    assert not out.exists()
