"""Abbreviation definitions in running text: the algorithm of Schwartz & Hearst (PSB 2003).

:func:`find_abbreviations` returns, for each definition ``long form (short form)`` or
``short form (long form)`` it finds, the character spans of both forms, half-open, into the
text it was given. Pure and deterministic; no dictionary is involved.

The rules, stated once (they follow the paper and its reference implementation):

- A candidate is a ``(`` that follows a whitespace character, with its matching ``)``
  (nesting counted). Inside, the text up to the first ``", "`` or ``"; "`` is the candidate
  short form ("(HSF; ref. 3)" gives "HSF").
- The long-form candidate is the text before the ``(``, back to the start of the sentence (the
  text after the last ``.``, ``!`` or ``?`` followed by whitespace) or to the ``(`` of a
  parenthesis the candidate sits in, whichever is nearer.
- When the parenthesis holds more than two words, or more characters than the text before it,
  the order is reversed: the word before the ``(`` is the short form (it must hold an
  upper-case letter) and the parenthesis holds the long form.
- A short form has 2 to 10 letters and digits, at most two words, a letter, and starts with a
  letter or a digit.
- The long form is the shortest end of the candidate in which every letter and digit of the
  short form is found, right to left and in order, case-insensitively, with the short form's
  first character at the start of a word; it is widened to the start of that word.
- It is kept when it is at least as long as the short form, does not contain the short form
  followed by a space nor end with it, has no more than ``min(2n, n + 5)`` words for ``n``
  letters and digits in the short form, and has balanced parentheses.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_SENTENCE_END = re.compile(r"[.!?]\s")
_MAX_SHORT_CHARS = 10  # letters and digits
# A long form has at most 15 words: neither it nor a parenthesis is looked for further than
# this many characters from the "(", so long documents cost linear time.
_MAX_REACH = 1000


class Abbreviation(NamedTuple):
    """A definition: ``text[long_start:long_end]`` is the long form, ``text[short_start:
    short_end]`` the short form (character offsets, half-open)."""

    long_start: int
    long_end: int
    short_start: int
    short_end: int


def find_abbreviations(text: str) -> list[Abbreviation]:
    """Every abbreviation definition in ``text``, sorted by the short form's position."""
    found: set[Abbreviation] = set()
    open_at = text.find("(", 1)
    while open_at != -1:
        if text[open_at - 1].isspace():
            pair = _definition_at(text, open_at)
            if pair is not None:
                found.add(pair)
        open_at = text.find("(", open_at + 1)
    return sorted(found, key=lambda a: (a.short_start, a.short_end, a.long_start, a.long_end))


def _definition_at(text: str, open_at: int) -> Abbreviation | None:
    close_at = _matching_close(text, open_at)
    if close_at is None:
        return None
    inner_start, inner_end = _strip(text, open_at + 1, _cut(text, open_at + 1, close_at))
    before_start, before_end = _strip(text, _region_start(text, open_at), open_at)
    if inner_start >= inner_end or before_start >= before_end:
        return None
    inner = text[inner_start:inner_end]
    if len(inner.split()) > 2 or inner_end - inner_start > before_end - before_start:
        # short form (long form): the short form is the word just before the parenthesis
        word_start = before_end
        while word_start > before_start and not text[word_start - 1].isspace():
            word_start -= 1
        if not any(ch.isupper() for ch in text[word_start:before_end]):
            return None
        return _pair(text, (word_start, before_end), (inner_start, inner_end))
    return _pair(text, (inner_start, inner_end), (before_start, before_end))


def _pair(text: str, short: tuple[int, int], region: tuple[int, int]) -> Abbreviation | None:
    """The definition of the short form ``text[short]`` inside ``text[region]``, if valid."""
    short_form = text[short[0] : short[1]]
    if not _is_short_form(short_form):
        return None
    long_start = _long_form_start(short_form, text, *region)
    if long_start is None:
        return None
    long_form = text[long_start : region[1]]
    letters = sum(ch.isalnum() for ch in short_form)
    if (
        len(long_form) < len(short_form)
        or short_form + " " in long_form
        or long_form.endswith(short_form)
        or len(long_form.split()) > min(2 * letters, letters + 5)
        or long_form.count("(") != long_form.count(")")
    ):
        return None
    return Abbreviation(long_start, region[1], short[0], short[1])


def _is_short_form(candidate: str) -> bool:
    return (
        len(candidate) >= 2
        and len(candidate.split()) <= 2
        and candidate[0].isalnum()
        and any(ch.isalpha() for ch in candidate)
        and sum(ch.isalnum() for ch in candidate) <= _MAX_SHORT_CHARS
    )


def _long_form_start(short_form: str, text: str, start: int, end: int) -> int | None:
    """Where the long form of ``short_form`` starts in ``text[start:end]`` (right to left)."""
    i = end - 1
    for k in range(len(short_form) - 1, -1, -1):
        ch = short_form[k].lower()
        if not ch.isalnum():
            continue
        while i >= start and (
            text[i].lower() != ch or (k == 0 and i > start and text[i - 1].isalnum())
        ):
            i -= 1
        if i < start:
            return None
        if k > 0:
            i -= 1
    while i > start and not text[i - 1].isspace():
        i -= 1
    return i


def _matching_close(text: str, open_at: int) -> int | None:
    depth = 0
    for i in range(open_at, min(len(text), open_at + _MAX_REACH)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return None


def _cut(text: str, start: int, end: int) -> int:
    """The end of the short-form candidate: before the first ", " or "; " outside nested
    parentheses, else ``end``."""
    depth = 0
    for i in range(start, end - 1):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and ch in ",;" and text[i + 1] == " ":
            return i
    return end


def _region_start(text: str, open_at: int) -> int:
    """Start of the long-form candidate before ``open_at``: the sentence start, or just after
    the ``(`` of an enclosing parenthesis, whichever is nearer."""
    sentence = max(0, open_at - _MAX_REACH)
    for m in _SENTENCE_END.finditer(text, sentence, open_at):
        sentence = m.end()
    depth = 0
    for i in range(open_at - 1, sentence - 1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            if depth == 0:
                return i + 1
            depth -= 1
    return sentence


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
