"""Plain term lists: one surface string per line, every line of one type (gazetteers)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from binder_core.contract.errors import ConfigError
from dictionaries.loaders._io import iter_lines
from dictionaries.records import Entry


def load_terms(
    path: str | os.PathLike[str], *, label: str | None = None, source: str = "terms"
) -> Iterator[Entry]:
    """Entries of a term list (blank lines skipped; the term is the stripped line).

    The label is the source's own (``--source 'terms[label=PER]=person.txt'``); the file has
    none.
    """
    if not label:
        raise ConfigError(
            f"{path}: a terms list has no type column; give one with "
            "--source 'terms[label=TYPE]=PATH'"
        )
    for _, line in iter_lines(path):
        term = line.strip()
        if term:
            yield Entry(term, label, "", source)
