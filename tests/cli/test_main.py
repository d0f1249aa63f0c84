"""The CLI's last line of defence (edge_shm/cli/main.py): failures that are not a UserError but
have a plain meaning still end in one line."""

from __future__ import annotations

import errno

import pytest

from edge_shm.cli import main

pytestmark = pytest.mark.fast


def _one_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.mark.parametrize(
    "error, words",
    [
        (MemoryError(), "out of memory"),
        (
            RuntimeError(
                "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate "
                "memory: you tried to allocate 10 bytes"
            ),
            "out of memory",
        ),  # fmt: skip
        (OSError(errno.ENAMETOOLONG, "File name too long", "x" * 300), "File name too long"),
        (OSError(errno.ENOSPC, "No space left on device", "/full"), "No space left"),
    ],
)
def test_plain_failures_end_in_one_line(monkeypatch, tmp_path, capsys, error, words):
    from edge_shm.data import generators

    def fail(*args, **kwargs):
        raise error

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(generators, "build", fail)
    assert main(["library", "build", "fcg", "--samples", "2", "-o", "x.h5"]) == 2
    assert words in _one_line(capsys)


def test_a_message_cannot_write_terminal_escapes(monkeypatch, tmp_path, capsys):
    from edge_shm.data import generators
    from edge_shm.errors import UserError

    def fail(*args, **kwargs):
        raise UserError("frame \x1b[2J\x1b[31mred.png: unreadable")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(generators, "build", fail)
    assert main(["library", "build", "fcg", "--samples", "2", "-o", "x.h5"]) == 2
    assert "\x1b" not in _one_line(capsys)


def _command_paths(cmd, path=()):
    yield path
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            yield from _command_paths(sub, (*path, name))


def test_no_help_shows_a_value_type_for_a_flag(capsys):
    """Every command's --help: flags (options that take no value) show no type, options that
    take one still do."""
    from edge_shm.cli.main import command

    paths = list(_command_paths(command()))
    assert len(paths) > 15 and ("library", "build") in paths
    typed = 0
    for path in paths:
        assert main([*path, "--help"]) == 0, path
        text = capsys.readouterr().out
        assert "--help" in text, path
        assert "<bool>" not in text and "BOOLEAN" not in text, (path, text)
        typed += "<path>" in text or "<int>" in text or "<str>" in text
    assert typed > 10
