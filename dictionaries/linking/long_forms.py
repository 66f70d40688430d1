"""Long forms of the short forms in a document, for linking a short form by its long form.

Two sources, stated once: the abbreviation definitions that :func:`find_abbreviations` finds
(for every label), overridden by a span in parentheses right after a longer span of its label
("myotonic dystrophy (DM)": a definition whose letters the Schwartz-Hearst rule cannot align).
"""

from __future__ import annotations

from collections.abc import Sequence

from dictionaries.abbreviations import find_abbreviations


def defined_long_forms(text: str) -> dict[str, str]:
    """Short form -> long form of every abbreviation defined in ``text`` (the first definition
    of a short form wins)."""
    found: dict[str, str] = {}
    for a in find_abbreviations(text):
        found.setdefault(text[a.short_start : a.short_end], text[a.long_start : a.long_end])
    return found


def document_long_forms(
    text: str, spans: Sequence[tuple[int, int, str]]
) -> dict[tuple[str, str], str]:
    """``(short form, label) -> long form`` for the spans of a document: the definitions that
    :func:`find_abbreviations` finds, for every label, overridden by :func:`span_long_forms`."""
    labels = {label for _, _, label in spans}
    found = {(short, label): long for short, long in defined_long_forms(text).items()
             for label in labels}  # fmt: skip
    found.update(span_long_forms(text, spans))
    return found


def span_long_forms(text: str, spans: Sequence[tuple[int, int, str]]) -> dict[tuple[str, str], str]:
    """``(short form, label) -> long form`` where a span sits in parentheses right after a
    longer span of its label ("myotonic dystrophy (DM)"): a definition whose letters need
    not follow the long form's, which :func:`find_abbreviations` requires. First one wins."""
    by_end = {(end, label): (start, end) for start, end, label in sorted(spans, reverse=True)}
    found: dict[tuple[str, str], str] = {}
    for start, end, label in sorted(spans):
        if start < 2 or text[start - 1] != "(" or text[end : end + 1] != ")":
            continue
        before = len(text[: start - 1].rstrip())
        outer = by_end.get((before, label))
        if outer is not None and outer[1] - outer[0] > end - start:
            found.setdefault((text[start:end], label), text[outer[0] : outer[1]])
    return found
