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

import bisect
import re
from typing import NamedTuple

_SENTENCE_END = re.compile(r"[.!?]\s")
_PARENTHESIS = re.compile(r"[()]")
_ALNUM = re.compile(r"[^\W_]")
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
    if "(" not in text:
        return []
    found: set[Abbreviation] = set()
    starts = _region_starts(text)
    for open_at, region_start in starts.items():
        if open_at > 0 and text[open_at - 1].isspace():
            pair = _definition_at(text, open_at, region_start)
            if pair is not None:
                found.add(pair)
    return sorted(found, key=lambda a: (a.short_start, a.short_end, a.long_start, a.long_end))


def _definition_at(text: str, open_at: int, region_start: int) -> Abbreviation | None:
    close_at = _matching_close(text, open_at)
    if close_at is None:
        return None
    inner_start, inner_end = _strip(text, open_at + 1, _cut(text, open_at + 1, close_at))
    before_start, before_end = _strip(text, region_start, open_at)
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
    letters = _alnum_count(short_form)
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
    # Cheapest tests first; a candidate of at most 10 characters has at most 10 alnums.
    return (
        len(candidate) >= 2
        and candidate[0].isalnum()
        and len(candidate.split()) <= 2
        and (len(candidate) <= _MAX_SHORT_CHARS or _alnum_count(candidate) <= _MAX_SHORT_CHARS)
        and (candidate[0].isalpha() or any(ch.isalpha() for ch in candidate))
    )


def _alnum_count(text: str) -> int:
    """How many characters of ``text`` are alphanumeric (``str.isalnum``, which is what
    ``[^\\W_]`` matches in ``re``)."""
    return len(_ALNUM.findall(text))


def _long_form_start(short_form: str, text: str, start: int, end: int) -> int | None:
    """Where the long form of ``short_form`` starts in ``text[start:end]`` (right to left)."""
    region = text[start:end]
    low = region.lower()
    if len(low) != len(region):  # a character that lower-cases to two: keep it as it is
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in region)
    i = len(low) - 1
    for k in range(len(short_form) - 1, -1, -1):
        ch = short_form[k].lower()
        if not ch.isalnum():
            continue
        i = low.rfind(ch, 0, i + 1)
        # the short form's first character must open a word of the long form
        while k == 0 and i > 0 and low[i - 1].isalnum():
            i = low.rfind(ch, 0, i)
        if i < 0:
            return None
        if k > 0:
            i -= 1
    while i > 0 and not region[i - 1].isspace():
        i -= 1
    return start + i


def _matching_close(text: str, open_at: int) -> int | None:
    depth = 0
    for m in _PARENTHESIS.finditer(text, open_at, open_at + _MAX_REACH):
        depth += 1 if text[m.start()] == "(" else -1
        if depth == 0:
            return m.start()
    return None


def _cut(text: str, start: int, end: int) -> int:
    """The end of the short-form candidate: before the first ", " or "; " outside nested
    parentheses, else ``end``."""
    if "(" not in text[start:end] and ")" not in text[start:end]:  # no nesting: search in C
        found = [i for i in (text.find(", ", start, end), text.find("; ", start, end)) if i >= 0]
        return min(found, default=end)
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


def _region_starts(text: str) -> dict[int, int]:
    """For each ``(`` of ``text``, where its long-form candidate starts: the sentence start, or
    just after the ``(`` of an enclosing parenthesis, whichever is nearer (and never more than
    :data:`_MAX_REACH` characters back). One pass over the parentheses of the text."""
    sentence_starts = [m.end() for m in _SENTENCE_END.finditer(text)]
    out: dict[int, int] = {}
    stack: list[int] = []
    for m in _PARENTHESIS.finditer(text):
        at = m.start()
        if text[at] == ")":
            if stack:
                stack.pop()
            continue
        k = bisect.bisect_right(sentence_starts, at) - 1
        sentence = sentence_starts[k] if k >= 0 else 0
        start = max(sentence, at - _MAX_REACH)
        if stack and stack[-1] + 1 > start:
            start = stack[-1] + 1
        out[at] = start
        stack.append(at)
    return out


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` without the whitespace (``str.isspace``) at either end."""
    part = text[start:end]
    kept = part.strip()
    if not kept:
        return end, end
    left = len(part) - len(part.lstrip())
    return start + left, start + left + len(kept)
