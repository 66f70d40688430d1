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
from collections.abc import Callable, Container
from operator import itemgetter
from typing import NamedTuple

_SENTENCE_END = re.compile(r"[.!?]\s")
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


# (short_start, short_end, long_start, long_end): the order of the results
_BY_SHORT_FORM = itemgetter(2, 3, 0, 1)

_Finder = Callable[[str, Container[int] | None], list[tuple[int, int, int, int]] | None]
_compiled: _Finder | None
try:  # the same finder compiled (setup.py builds it where a C compiler is found)
    from dictionaries._abbreviations import find as _compiled
except ImportError:  # pragma: no cover - a build without the extension
    _compiled = None


def find_abbreviations(text: str, long_ends: Container[int] | None = None) -> list[Abbreviation]:
    """Every abbreviation definition in ``text``, sorted by the short form's position.

    With ``long_ends``, only the definitions whose long form ends at one of those offsets: the
    candidates whose long form cannot end there are left before the costly steps (finding the
    sentence start and matching the letters), so a caller that needs only the definitions of
    long forms it has labelled (spans ending there) pays for little more than finding the
    parentheses. The definitions returned are exactly those of the unfiltered call that end there.
    """
    if _compiled is not None:
        found_compiled = _compiled(text, long_ends)
        if found_compiled is not None:
            return [Abbreviation(*pair) for pair in found_compiled]
    return _find_abbreviations_py(text, long_ends)


def _find_abbreviations_py(
    text: str, long_ends: Container[int] | None = None
) -> list[Abbreviation]:
    """:func:`find_abbreviations` in Python: the reference the compiled finder is tested on,
    and what runs without it (or for a text holding U+0130 or U+03A3, whose lower-casing the
    compiled code does not reproduce)."""
    found: set[Abbreviation] = set()
    open_at = text.find("(", 1)  # a candidate follows a whitespace character
    while open_at >= 0:
        if text[open_at - 1].isspace():
            pair = _definition_at(text, open_at, long_ends)
            if pair is not None and (long_ends is None or pair.long_end in long_ends):
                found.add(pair)
        open_at = text.find("(", open_at + 1)
    return sorted(found, key=_BY_SHORT_FORM) if len(found) > 1 else list(found)


def _definition_at(
    text: str, open_at: int, long_ends: Container[int] | None = None
) -> Abbreviation | None:
    """The definition around the ``(`` at ``open_at`` (which follows a whitespace), if any,
    and (with ``long_ends``) only if one of its two possible long-form ends is one of those
    offsets (the caller checks the one it found)."""
    inner = _short_candidate(text, open_at)
    if inner is None:
        return None
    reach = open_at - _MAX_REACH if open_at > _MAX_REACH else 0  # the long form's bound
    before_end = open_at - 1  # text[open_at - 1] is whitespace
    while before_end > reach and text[before_end - 1].isspace():
        before_end -= 1
    if before_end == reach:
        return None
    # The long form ends before the "(" or, in reverse order, where the candidate ends.
    if long_ends is not None and before_end not in long_ends and inner[1] not in long_ends:
        return None
    candidate = text[inner[0] : inner[1]]
    candidate_is_short = _is_short_form(candidate)
    if not candidate_is_short and _last_word(text, reach, before_end).islower():
        return None  # neither order can give a definition: no short form, no upper-case letter
    before = (_region_start(text, open_at), before_end)
    if before[0] >= before[1]:
        return None
    # when the parenthesis holds more than two words (hence no short form) or more characters
    # than the text before it, the order is reversed
    if inner[1] - inner[0] > before[1] - before[0] or (
        not candidate_is_short and len(candidate.split()) > 2
    ):
        return _reverse_pair(text, _last_word(text, reach, before_end), before, inner)
    if not candidate_is_short:
        return None
    return _pair(text, candidate, inner, before)


def _reverse_pair(
    text: str, last_word: str, before: tuple[int, int], inner: tuple[int, int]
) -> Abbreviation | None:
    """short form (long form): the short form is the word just before the parenthesis, the
    part of ``last_word`` in ``text[before]``; it must hold an upper-case letter."""
    word_start = before[1] - len(last_word)
    if word_start < before[0]:
        word_start = before[0]
    short_form = text[word_start : before[1]]
    if not _has_upper(short_form) or not _is_short_form(short_form):
        return None
    return _pair(text, short_form, (word_start, before[1]), inner)


def _short_candidate(text: str, open_at: int) -> tuple[int, int] | None:
    """The span of the short-form candidate in the parenthesis opened at ``open_at`` (without
    the whitespace at either end), if the parenthesis is closed and that span is not empty."""
    start = open_at + 1
    close_at = text.find(")", start, open_at + _MAX_REACH)
    if close_at < 0:
        return None
    if text.find("(", start, close_at) < 0:  # no nesting (the usual case): search in C
        end = _cut_plain(text, start, close_at)
    else:
        nested_close = _matching_close(text, open_at)
        if nested_close is None:
            return None
        end = _cut_nested(text, start, nested_close)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _last_word(text: str, start: int, end: int) -> str:
    """The last word of ``text[start:end]``, which ends with a non-space."""
    return text[start:end].rsplit(None, 1)[-1]


def _pair(
    text: str, short_form: str, short: tuple[int, int], region: tuple[int, int]
) -> Abbreviation | None:
    """The definition of the short form ``short_form == text[short]`` inside ``text[region]``,
    if valid (the short form itself is checked by the caller)."""
    long_start = _long_form_start(short_form, text, *region)
    if long_start is None:
        return None
    long_form = text[long_start : region[1]]
    letters = _alnum_count(short_form)
    if (
        len(long_form) < len(short_form)
        or short_form + " " in long_form
        or long_form.endswith(short_form)
        or len(long_form.split()) > (2 * letters if letters <= 5 else letters + 5)
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
    return len(text) if text.isalnum() else len(_ALNUM.findall(text))


def _has_upper(text: str) -> bool:
    """Whether a character of ``text`` is upper-case (``str.islower`` is false then)."""
    return not text.islower() and any(ch.isupper() for ch in text)


def _long_form_start(short_form: str, text: str, start: int, end: int) -> int | None:
    """Where the long form of ``short_form`` starts in ``text[start:end]`` (right to left)."""
    region = text[start:end]
    low = region.lower()
    if len(low) != len(region):  # a character that lower-cases to two: keep it as it is
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in region)
    i = len(low)  # where the character found last is (the next one is looked for before it)
    for k in range(len(short_form) - 1, 0, -1):
        ch = short_form[k].lower()
        if ch.isalnum():
            i = low.rfind(ch, 0, i)
            if i < 0:
                return None
    ch = short_form[0].lower()
    if ch.isalnum():
        i = low.rfind(ch, 0, i)
        # the short form's first character must open a word of the long form
        while i > 0 and low[i - 1].isalnum():
            i = low.rfind(ch, 0, i)
        if i < 0:
            return None
    else:  # (a first character that lower-cases to two is not looked for)
        i -= 1
    while i > 0 and not region[i - 1].isspace():
        i -= 1
    return start + i


def _matching_close(text: str, open_at: int) -> int | None:
    """The ``)`` that closes the ``(`` at ``open_at`` (nesting counted), if it is less than
    :data:`_MAX_REACH` characters away."""
    end = open_at + _MAX_REACH
    depth, at = 1, open_at + 1
    while True:
        close_at = text.find(")", at, end)
        if close_at < 0:
            return None
        depth += text.count("(", at, close_at) - 1
        if depth == 0:
            return close_at
        at = close_at + 1


def _cut_plain(text: str, start: int, end: int) -> int:
    """The end of the short-form candidate ``text[start:end]`` (no parenthesis in it): before
    the first ", " or "; ", else ``end``."""
    comma, semicolon = text.find(", ", start, end), text.find("; ", start, end)
    if comma < 0:
        return end if semicolon < 0 else semicolon
    return comma if semicolon < 0 or comma < semicolon else semicolon


def _cut_nested(text: str, start: int, end: int) -> int:
    """The end of the short-form candidate ``text[start:end]``: before the first ", " or "; "
    outside nested parentheses, else ``end``."""
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
    """Where the long-form candidate of the ``(`` at ``open_at`` starts, without whitespace:
    the sentence start, or just after the ``(`` of an enclosing parenthesis, whichever is
    nearer, and never more than :data:`_MAX_REACH` characters back."""
    start = _sentence_start(text, open_at)
    enclosing = _enclosing_open(text, start, open_at)
    if enclosing >= 0:
        start = enclosing + 1
    while start < open_at and text[start].isspace():
        start += 1
    return start


def _sentence_start(text: str, at: int) -> int:
    """The end of the last :data:`_SENTENCE_END` before ``at`` (0 when there is none), but no
    more than :data:`_MAX_REACH` characters back."""
    reach = at - _MAX_REACH if at > _MAX_REACH else 0
    start = reach - 2 if reach > 2 else 0  # a sentence end found further back would not count
    dot = text.rfind(". ", start, at)  # the usual sentence end; any later one follows it
    if dot >= 0:
        start = dot + 2
    m = _SENTENCE_END.search(text, start, at)
    while m is not None:
        start = m.end()
        m = _SENTENCE_END.search(text, start, at)
    return start if start > reach else reach


def _enclosing_open(text: str, start: int, at: int) -> int:
    """The ``(`` in ``text[start:at]`` still open at ``at`` (the innermost), else -1."""
    depth = 0  # the ")" seen right to left whose "(" is not seen yet
    while True:
        opened = text.rfind("(", start, at)
        if opened < 0:
            return -1
        closed = text.rfind(")", opened, at)
        if closed >= 0:
            depth, at = depth + 1, closed
        elif depth == 0:
            return opened
        else:
            depth, at = depth - 1, opened
