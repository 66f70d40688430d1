"""Long forms of the short forms in a document, for linking a short form by its long form.

Two sources, stated once: the abbreviation definitions that :func:`find_abbreviations` finds
(for every label), overridden by a span in parentheses right after a longer span of its label
("myotonic dystrophy (DM)": a definition whose letters the Schwartz-Hearst rule cannot align;
also "phenobarbital (PB: ...)", "testosterone (T, ...)"). A short form is looked up as written,
then with a plural "s" added or removed ("VSD" defined as "VSDs").

A short form that its document does not define takes the link of another span of its label in
the document whose word initials spell it (:func:`acronym_sources`: "OAB" after "overactive
bladder" was linked).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from dictionaries.abbreviations import find_abbreviations

_CLOSE = {")", ":", ",", ";"}  # what may follow a short form defined in parentheses
_OPEN = " \t\n["  # what may stand between the long form and the parenthesis
_SHORT_FORM = re.compile(r"[A-Za-z0-9][A-Za-z0-9()\-]{0,7}")
_WORD_BREAK = re.compile(r"[\s\-/]+")


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
        if start < 2 or text[start - 1] != "(" or text[end : end + 1] not in _CLOSE:
            continue
        before = len(text[: start - 1].rstrip(_OPEN))
        outer = by_end.get((before, label))
        if outer is not None and outer[1] - outer[0] > end - start:
            found.setdefault((text[start:end], label), text[outer[0] : outer[1]])
    return found


def long_form_of(long_forms: Mapping[tuple[str, str], str], surface: str, label: str) -> str | None:
    """The long form of ``surface`` (a short form, as written, then with a plural "s" added or
    removed), or None."""
    short = surface.strip()
    for key in (short, short + "s", short[:-1] if short.endswith("s") else short):
        found = long_forms.get((key, label))
        if found is not None:
            return found
    return None


def is_short_form(surface: str) -> bool:
    """One token of at most 8 characters with two capitals or more ("OAB", "PGs", "CaCl2"), or
    of at most 2 that starts with one ("Li", "T")."""
    if not _SHORT_FORM.fullmatch(surface):
        return False
    capitals = sum(c.isupper() for c in surface)
    return capitals >= 2 or (len(surface) <= 2 and surface[0].isupper())


def initials(phrase: str) -> str:
    """The lowercased first letters of the words of ``phrase`` (words split at spaces, hyphens
    and slashes)."""
    return "".join(word[0] for word in _WORD_BREAK.split(phrase.lower()) if word)


def spells(letters: str, phrase: str) -> bool:
    """Whether ``letters`` (two or more, lowercase) start ``phrase`` and follow in its order,
    as a short form's letters follow its long form's ("dvp" in "divalproex", "oab" in
    "overactive bladder")."""
    phrase = phrase.lower()
    if len(letters) < 2 or not phrase.startswith(letters[0]):
        return False
    at = 1
    for letter in letters[1:]:
        at = phrase.find(letter, at) + 1
        if at == 0:
            return False
    return True


def acronym_sources(
    text: str,
    spans: Sequence[tuple[int, int, str]],
    linked: Sequence[bool],
    named: Sequence[bool],
) -> dict[int, int]:
    """``i -> j``: span ``i`` is a short form that span ``j`` (linked, of its label, not a short
    form itself) spells: by its word initials if one does, else by letters in order
    (:func:`spells`), the latter only where span ``i`` is not itself a name (``named``: "NAD"
    is one, and "nicotinic acid" spells it); the first such ``j`` in the document wins. A
    plural "s" is dropped."""
    surfaces = [text[s:e].strip() for s, e, _ in spans]
    sources = [
        j
        for j, surface in enumerate(surfaces)
        if linked[j] and len(surface) > 2 and not is_short_form(surface)
    ]
    found: dict[int, int] = {}
    for i, (surface, (_, _, label)) in enumerate(zip(surfaces, spans, strict=True)):
        if not is_short_form(surface):
            continue
        letters = re.sub(r"[^a-z0-9]", "", surface.lower())
        if surface.endswith("s") and len(letters) > 2:
            letters = letters[:-1]
        same = [j for j in sources if spans[j][2] == label]
        by_initials = [j for j in same if initials(surfaces[j]) == letters]
        by_letters = by_initials or [
            j for j in same if not named[i] and spells(letters, surfaces[j])
        ]
        if by_letters:
            found[i] = by_letters[0]
    return found
