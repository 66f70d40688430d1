"""AutoNER dictionaries: one ``Type<TAB>term`` line per entry, terms tokenized with spaces."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from binder_core.contract.errors import InputError
from binder_core.contract.options import default_of
from dictionaries.loaders._io import iter_lines
from dictionaries.loaders.options import AutonerOptions
from dictionaries.records import Entry

_SPACE_BEFORE = re.compile(r" (?=[)\]},;:%'])")
_SPACE_AFTER = re.compile(r"(?<=[(\[{]) ")
_SPACED_JOINER = re.compile(r" ?([-/+]) ?")


def detokenize(term: str) -> str:
    """Undo tokenizer spacing: ``"( R)-alpha - x"`` -> ``"(R)-alpha-x"``."""
    term = _SPACED_JOINER.sub(r"\1", term)
    term = _SPACE_AFTER.sub("", term)
    return _SPACE_BEFORE.sub("", term)


def load_autoner(
    path: str | os.PathLike[str],
    *,
    detokenized: bool = default_of(AutonerOptions, "detokenized"),
    source: str = "autoner",
) -> Iterator[Entry]:
    """Entries of an AutoNER ``dict_core``-style file (blank lines are skipped).

    With ``detokenized``, a term written with tokenizer spacing also yields its detokenized form,
    which is how it appears in running text.
    """
    for line_no, line in iter_lines(path):
        if not line.strip():
            continue
        label, sep, term = line.partition("\t")
        label, term = label.strip(), term.strip()
        if not sep or not label or not term:
            raise InputError(
                "expected `Type<TAB>term`; fix or remove this line", path=str(path), line=line_no
            )
        yield Entry(term, label, "", source)
        if detokenized:
            joined = detokenize(term)
            if joined != term:
                yield Entry(joined, label, "", source)
