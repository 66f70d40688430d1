"""Helpers shared by the gold converters: reading lines, naming documents, building gold spans."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from binder_core.contract.errors import InputError
from binder_core.contract.schema import Origin, make_span

_KNOWN_SUFFIXES = {".txt", ".tsv", ".conll", ".iob", ".iob1", ".iob2", ".bio", ".json", ".jsonl"}


def file_stem(path: str | Path) -> str:
    """Name used in generated doc ids: ``test.tsv`` -> ``test``, ``eng.testa`` stays whole.

    Only well-known data suffixes (and ``.gz``) are stripped, so ``eng.train`` and ``eng.testa``
    do not both become ``eng``.
    """
    p = Path(path)
    name = p.name
    if name.endswith(".gz"):
        name = name[: -len(".gz")]
    suffix = Path(name).suffix
    if suffix.lower() in _KNOWN_SUFFIXES:
        name = name[: -len(suffix)]
    return name


def read_text(path: str | Path) -> str:
    """The whole file as text (UTF-8, ``.gz`` transparently); a decoding error names the line."""
    p = Path(path)
    if not p.is_file():
        raise InputError("no such file; check the path", path=str(p))
    if p.name.endswith(".gz"):
        with gzip.open(p) as f:
            raw = f.read()
    else:
        raw = p.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not valid UTF-8 (byte {exc.start}); convert the file to UTF-8", path=str(p), line=line
        ) from None


def iter_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line_number, line)`` with 1-based numbers and the line ending removed."""
    for number, line in enumerate(io.StringIO(text, newline=None), start=1):
        yield number, line.rstrip("\r\n")


def gold_span(start: int, end: int, label: str, concept_id: str = "") -> dict[str, Any]:
    """A contract span with ``origin = gold``, ``score = 1.0``, ``uncertain = False``."""
    return make_span(start, end, label, origin=Origin.GOLD, concept_id=concept_id)


def join_tokens(tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Tokens joined by single spaces, and each token's ``[start, end)`` in that text."""
    offsets: list[tuple[int, int]] = []
    pos = 0
    for token in tokens:
        offsets.append((pos, pos + len(token)))
        pos += len(token) + 1
    return " ".join(tokens), offsets
