"""Text folding for dictionary matching, with a map back to the original offsets.

The folded form of a string is, chunk by chunk (a chunk is a character and the combining marks
that follow it): Unicode NFKC, case folding, NFKC again, every dash mapped to ``-``, every
single/double quote to ``'``/``"``, every whitespace character to a space; then runs of spaces
collapse to one. Terms and texts go through the same function, so a term matches wherever its
folded form occurs in the folded text.

Folding can change length (``ß`` -> ``ss``, ``ﬁ`` -> ``fi``, ``İ`` -> ``i̇``, collapsed spaces), so
:func:`fold_with_offsets` also returns, for each folded character, the half-open range of the
original characters it came from. Plain ASCII text without repeated whitespace, the common case,
folds with ``str.lower`` and keeps identity offsets (the maps are ``None``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d\u2e3a\u2e3b"
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u2035"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb"
_PUNCT_MAP = {
    **dict.fromkeys(_DASHES, "-"),
    **dict.fromkeys(_SINGLE_QUOTES, "'"),
    **dict.fromkeys(_DOUBLE_QUOTES, '"'),
}
_ASCII_SPACES = {ord(c): " " for c in "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"}
_RUN_OF_SPACES = re.compile(" {2,}")
_NON_ASCII_RUN = re.compile("([^\\x00-\\x7f]+)")


def _unify(s: str) -> str:
    return "".join(" " if ch.isspace() else _PUNCT_MAP.get(ch, ch) for ch in s)


@lru_cache(maxsize=65536)
def fold_chunk(chunk: str) -> str:
    """Fold one chunk (a character plus its combining marks); never returns ``""``."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", chunk).casefold())
    return _unify(folded) or chunk


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table that folds each character, filled on first use."""

    def __missing__(self, code: int) -> str:
        value = fold_chunk(chr(code))
        self[code] = value
        return value


_FOLD_TABLE = _FoldTable()


def _fold_chunks(text: str) -> tuple[str, list[int], list[int]]:
    """The general path: fold chunk by chunk, recording each output character's source range."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    combining = unicodedata.combining
    n = len(text)
    i = 0
    while i < n:
        j = i + 1
        while j < n and combining(text[j]):
            j += 1
        for ch in fold_chunk(text[i:j]):
            if ch == " " and out and out[-1] == " ":
                ends[-1] = j
                continue
            out.append(ch)
            starts.append(i)
            ends.append(j)
        i = j
    return "".join(out), starts, ends


def _fold_by_character(text: str) -> str | None:
    """Fold ``text`` character by character, or None when it has combining marks.

    Only non-ASCII runs go through the fold table; ASCII runs are lower-cased in C. A combining
    mark is always non-ASCII, so looking at the non-ASCII runs is enough to find one.
    """
    if text.isascii():
        return _fold_ascii(text)
    parts = _NON_ASCII_RUN.split(text)
    combining = unicodedata.combining
    for i in range(1, len(parts), 2):
        run = parts[i]
        if any(combining(ch) for ch in run):
            return None
        parts[i] = run.translate(_FOLD_TABLE)
    for i in range(0, len(parts), 2):
        parts[i] = _fold_ascii(parts[i])
    return "".join(parts)


def _fold_ascii_py(text: str) -> str:
    """An ASCII text folded before spaces collapse: lower-cased, control whitespace made spaces.
    The reference for the compiled ``fold_ascii`` (one pass, where ``isprintable`` alone is
    most of this function's time), and what runs without it."""
    folded = text.lower()
    return folded if folded.isprintable() else folded.translate(_ASCII_SPACES)


try:  # compiled with the matching loops (setup.py builds them where a C compiler is found)
    from dictionaries._matching import fold_ascii as _fold_ascii
except ImportError:  # pragma: no cover - a build without the extension
    _fold_ascii = _fold_ascii_py


def fold_with_offsets(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """Fold ``text``; return ``(folded, starts, ends)``.

    ``folded[i]`` comes from ``text[starts[i]:ends[i]]``. Both maps are ``None`` when folding
    kept every character in place (then folded offsets are original offsets).
    """
    folded = _fold_by_character(text)
    if folded is None or len(folded) != len(text):
        return _fold_chunks(text)
    if "  " not in folded:
        return folded, None, None
    return _collapse_spaces(folded)


def _collapse_spaces(folded: str) -> tuple[str, list[int], list[int]]:
    """What :func:`_fold_chunks` gives for a text that folds character for character into
    ``folded`` (no combining marks, no length change), found with C-level string searches:
    each run of spaces becomes one space whose range covers the whole run."""
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    kept = 0  # start of the text not yet copied
    for run in _RUN_OF_SPACES.finditer(folded):
        first, stop = run.span()
        parts.append(folded[kept : first + 1])
        starts.extend(range(kept, first + 1))
        ends.extend(range(kept + 1, first + 2))
        ends[-1] = stop
        kept = stop
    parts.append(folded[kept:])
    starts.extend(range(kept, len(folded)))
    ends.extend(range(kept + 1, len(folded) + 1))
    return "".join(parts), starts, ends


def fold(text: str) -> str:
    """The folded form of ``text`` (same result as :func:`fold_with_offsets`, no maps)."""
    folded = _fold_by_character(text)
    if folded is None:
        return _fold_chunks(text)[0]
    return _RUN_OF_SPACES.sub(" ", folded) if "  " in folded else folded


def normalize_term(term: str) -> str:
    """A dictionary key: the folded term without leading or trailing spaces."""
    return fold(term).strip(" ")


def unify_surface(text: str) -> str:
    """NFKC, dashes/quotes/whitespace unified and spaces collapsed, but case kept.

    Used for the acronym rule: a case-sensitive term matches when this form of the text's
    surface equals this form of the term.
    """
    unified = _unify(unicodedata.normalize("NFKC", text))
    return _RUN_OF_SPACES.sub(" ", unified).strip(" ")
