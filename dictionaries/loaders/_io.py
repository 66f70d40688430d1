"""Streaming line readers shared by the loaders: plain or ``.gz`` files, UTF-8, 1-based lines."""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from binder_core.contract.errors import InputError


def open_text(path: str | os.PathLike[str]) -> TextIO:
    """Open a UTF-8 text file (``.gz`` transparently); a missing file is an :class:`InputError`."""
    p = Path(path)
    if not p.is_file():
        raise InputError("no such file; check the path given to --source", path=str(p))
    if p.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8", newline="")
    return open(p, encoding="utf-8", newline="")


def iter_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
    """``(line number, line without its line ending)`` for every line of ``path``."""
    line_no = 0
    try:
        with open_text(path) as f:
            for line_no, line in enumerate(f, start=1):
                yield line_no, line.rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not valid UTF-8 ({exc.reason}); re-encode the file as UTF-8",
            path=str(path),
            line=line_no + 1,
        ) from None
    except (OSError, EOFError) as exc:
        raise InputError(
            f"cannot read the file ({exc})", path=str(path), line=line_no + 1
        ) from None
