"""Helpers shared by the gold converters: reading lines, naming documents, building gold spans."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from binder_core.contract.input_files import compression_suffix, read_local_text
from binder_core.contract.schema import Origin, make_span

_KNOWN_SUFFIXES = {".txt", ".tsv", ".conll", ".iob", ".iob1", ".iob2", ".bio", ".json", ".jsonl"}


def file_stem(path: str | Path) -> str:
    """Name used in generated doc ids: ``test.tsv`` -> ``test``, ``eng.testa`` stays whole.

    Only well-known data suffixes (and a compression suffix) are stripped, so ``eng.train`` and
    ``eng.testa`` do not both become ``eng``.
    """
    p = Path(path)
    name = p.name
    suffix = compression_suffix(name)
    if suffix is not None:
        name = name[: -len(suffix)]
    suffix = Path(name).suffix
    if suffix.lower() in _KNOWN_SUFFIXES:
        name = name[: -len(suffix)]
    return name


def read_text(path: str | Path) -> str:
    """The whole file as text: decompressed (a file that ends early is an error), UTF-8 with or
    without a byte-order mark; a decoding error names the line."""
    return read_local_text(path, "gold file")


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
