"""Streaming line readers shared by the loaders: :mod:`binder_core.contract.input_files`'s rules
(plain or compressed, a compressed file that ends early is an error, UTF-8 with or without a
byte-order mark, CRLF or LF), 1-based lines."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TextIO

from binder_core.contract.input_files import iter_local_lines, open_text_stream

_WHAT = "file"


def open_text(path: str | os.PathLike[str]) -> TextIO:
    """Open a UTF-8 text file (decompressed, without a byte-order mark); a missing file or a
    folder is an :class:`InputError`."""
    return open_text_stream(path, _WHAT)  # type: ignore[return-value]


def iter_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
    """``(line number, line without its line ending)`` for every line of ``path``."""
    return iter_local_lines(path, _WHAT)
