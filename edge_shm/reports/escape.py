"""Text from outside (file names, paths, error messages that quote them) made safe to show.

A frame's file name is chosen by whoever writes into a watched folder: it may hold Markdown or
HTML (``|``, ``<img onerror=...>``, ``[x](javascript:...)``), rich console markup (``[bold]``)
or terminal escape bytes. Every such text goes through one of these before it is shown.
"""

from __future__ import annotations

import re

from rich.markup import escape as _rich_escape

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def printable(text) -> str:
    """``text`` with control characters (terminal escapes, newlines) replaced by '?'."""
    return _CONTROL.sub("?", str(text))


def md(text) -> str:
    """``text`` as inert Markdown: one line, no table breaks, no links, images, HTML or
    emphasis (Markdown specials backslash-escaped, ``<``, ``>`` and ``&`` as HTML entities)."""
    text = printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def terminal(text) -> str:
    """``text`` for a rich console: no markup interpreted, no control characters."""
    return _rich_escape(printable(text))
