"""The pure matching function: text + compiled dictionary -> sorted, de-duplicated spans.

Hot path (one call per document): fold the text, scan it with the automaton, keep hits on token
boundaries, pick leftmost-longest hits and turn them into :class:`Match` records.

A :class:`Matcher` owns what matching derives from a compiled dictionary: each key's record
tails (label, concept ids, matched term, ...), built on the key's first hit, so a later hit
costs a dict look-up and one tuple, and the fuzzy index. The compiled dictionary itself stays
read-only. :func:`match` keeps one matcher per dictionary (a weak-keyed registry of this
module), so calling it stays a pure function of its arguments.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Iterable

from binder_core.contract.schema import Origin, dictionary_link_score
from dictionaries.compiled import CASE_BIT, KEY_SHIFT, CompiledDictionary
from dictionaries.config import MatchOptions
from dictionaries.fuzzy import FuzzyIndex, build_index, fuzzy_hits
from dictionaries.normalize import fold_with_offsets, unify_surface
from dictionaries.records import Match

try:  # the per-hit loops compiled (setup.py builds them where a C compiler is found)
    from dictionaries import _matching
except ImportError:  # pragma: no cover - a build without the extension
    _matching = None  # type: ignore[assignment]

_EXACT = Origin.DICT_EXACT.value
_FUZZY = Origin.DICT_FUZZY.value
_DEFAULT_OPTIONS = MatchOptions()

Hit = tuple[int, int, int]
"""``(start, end, value)`` in folded offsets; ``value`` is the automaton value of the key."""

Tail = tuple[str, tuple[str, str, str, float, str, bool, float]]
"""``(accepted case forms or "", (label, concept_id, matched_term, score, origin, uncertain,
link_score))``: one payload of a key, everything of its exact :class:`Match` except the
offsets."""

_new_match = tuple.__new__

# bytes.translate table: 1 for ASCII alphanumerics, 0 for every other byte.
_ASCII_ALNUM = bytes(int(chr(i).isalnum()) for i in range(128)) + bytes(128)


class _AlnumTable(dict[int, str]):
    """A ``str.translate`` table: ``"\\x01"`` for alphanumeric characters, else ``"\\x00"``."""

    def __missing__(self, code: int) -> str:
        value = "\x01" if chr(code).isalnum() else "\x00"
        self[code] = value
        return value


_ALNUM_TABLE = _AlnumTable()


def inner_positions(folded: str) -> bytes:
    """``len(folded) + 1`` bytes; byte ``i`` is 1 where ``i`` lies between two alphanumerics.

    Those are the only positions that are not token boundaries. Computed with C-level string
    and integer operations, so checking a hit costs two byte look-ups.
    """
    n = len(folded)
    if folded.isascii():
        mask = folded.encode("ascii").translate(_ASCII_ALNUM)
    else:
        mask = folded.translate(_ALNUM_TABLE).encode("latin-1")
    bits = int.from_bytes(mask, "little")
    return (bits & (bits << 8)).to_bytes(n + 1, "little")


def exact_hits(
    folded: str,
    compiled: CompiledDictionary,
    text: str | None = None,
    starts: list[int] | None = None,
    ends: list[int] | None = None,
    *,
    longest: bool = False,
) -> list[Hit]:
    """Every occurrence of a key in ``folded`` that starts and ends on a token boundary.

    A boundary is anywhere except between two alphanumeric characters, so ``"ace"`` is found in
    ``"ace-inhibitor"`` but not in ``"surface"``. With the original ``text`` (and the offset maps
    of its folding), hits of case-sensitive keys are kept only where the original surface has
    an accepted case. Hits come ordered by end offset.

    ``longest=True`` gives :func:`leftmost_longest` of those hits in the same pass: hits arrive
    by end, so a new hit only competes with the chosen hits it overlaps, which sit at the top
    of the stack; the one that starts first (or, from the same start, the new, longer one) wins.
    """
    raw = compiled.automaton.find_all(folded)
    if _matching is None:
        return _boundary_hits_py(folded, raw, compiled, text, starts, ends, longest)
    case_ok = None if text is None else _case_check(compiled, text, starts, ends)
    return _matching.boundary_hits(folded, raw, compiled.values, CASE_BIT, longest, case_ok)


def _case_check(
    compiled: CompiledDictionary, text: str, starts: list[int] | None, ends: list[int] | None
) -> Callable[[int, int, int, int], bool]:
    """Whether the raw hit ``(k, start, end)`` of a case-sensitive key (``value``) has an
    accepted case in ``text``: the test :func:`exact_hits` puts such hits to."""
    mixed = compiled.mixed_case

    def case_ok(k: int, start: int, end: int, value: int) -> bool:
        if starts is None or ends is None:
            surface = text[start:end]
        else:
            surface = text[starts[start] : ends[end - 1]]
        # Most case-sensitive keys are acronyms, whose accepted forms are all upper-case: most
        # of their hits stop at the first test.
        if not surface.isupper() and k not in mixed:
            return False
        return _any_case_ok(surface, value, compiled)

    return case_ok


def _boundary_hits_py(
    folded: str,
    raw: Iterable[tuple[int, int, int]],
    compiled: CompiledDictionary,
    text: str | None,
    starts: list[int] | None,
    ends: list[int] | None,
    longest: bool,
) -> list[Hit]:
    """The loop of :func:`exact_hits` in Python: the reference the compiled loop
    (``dictionaries/_matching.c``) is tested on, and what runs without it."""
    inner = inner_positions(folded)
    hits: list[Hit] = []
    append = hits.append
    values = compiled.values
    case_bit = CASE_BIT  # locals: this loop runs once per raw hit
    case_ok = None if text is None else _case_check(compiled, text, starts, ends)
    for start, end, k in raw:
        if inner[start] or inner[end]:
            continue
        value = values[k]
        if value & case_bit and case_ok is not None and not case_ok(k, start, end, value):
            continue
        if longest and hits and start < hits[-1][1]:
            i = len(hits) - 1
            while i and hits[i - 1][1] > start:
                i -= 1
            if hits[i][0] < start:
                continue
            del hits[i:]
        append((start, end, value))
    return hits


def leftmost_longest(hits: Iterable[Hit]) -> list[Hit]:
    """Non-overlapping hits: scanning left to right, the longest hit at each free start wins."""
    chosen: list[Hit] = []
    last_end = -1
    for start, neg_end, value in sorted([(h[0], -h[1], h[2]) for h in hits]):
        if start >= last_end:
            last_end = -neg_end
            chosen.append((start, last_end, value))
    return chosen


def _case_ok(surface: str, accepted: str) -> bool:
    if surface == accepted:
        return True
    return unify_surface(surface) in accepted.split("\x00")


def _any_case_ok(surface: str, value: int, compiled: CompiledDictionary) -> bool:
    k = value >> KEY_SHIFT
    cases = compiled.payload_case
    return any(
        not cases[p] or _case_ok(surface, cases[p])
        for p in range(compiled.payload_start[k], compiled.payload_start[k + 1])
    )


def _tails(compiled: CompiledDictionary, k: int, score: float, origin: str) -> tuple[Tail, ...]:
    """The payloads of key ``k`` as match tails, in payload (= label) order."""
    labels = compiled.labels
    return tuple(
        (
            compiled.payload_case[p],
            (
                labels[compiled.payload_label[p]],
                compiled.payload_concept[p],
                compiled.payload_term[p],
                score,
                origin,
                compiled.payload_uncertain[p] == 1,
                dictionary_link_score(compiled.payload_concept[p]),
            ),
        )
        for p in range(compiled.payload_start[k], compiled.payload_start[k + 1])
    )


class Matcher:
    """Matching with one compiled dictionary, and the memo that matching derives from it.

    ``compiled`` is never changed. The memo (each key's exact-match tails, the fuzzy index) is
    this object's own state, filled on first use; results never depend on it. Build one per
    dictionary and worker (``MatchSpansFn.setup``), or let :func:`match` keep one.
    """

    __slots__ = ("_fuzzy", "_tails", "compiled")

    def __init__(self, compiled: CompiledDictionary) -> None:
        self.compiled = compiled
        self._tails: dict[int, tuple[Tail, ...]] = {}
        self._fuzzy: FuzzyIndex | None = None

    def fuzzy_index(self, min_length: int) -> FuzzyIndex:
        """The fuzzy index of keys of at least ``min_length`` characters (built once)."""
        if self._fuzzy is None or self._fuzzy.min_length != min_length:
            self._fuzzy = build_index(self.compiled, min_length)
        return self._fuzzy

    def match(self, text: str, options: MatchOptions = _DEFAULT_OPTIONS) -> list[Match]:
        """All dictionary spans of ``text``: see :func:`match`."""
        compiled = self.compiled
        if not text or not compiled.keys:
            return []
        folded, starts, ends = fold_with_offsets(text)
        longest = options.overlap == "longest"
        hits = exact_hits(folded, compiled, text, starts, ends, longest=longest)
        matches = self._emit_exact(text, hits, starts, ends)
        if options.fuzzy:
            taken = [(h[0], h[1]) for h in hits]
            index = self.fuzzy_index(options.fuzzy_min_length)
            for s, e, value, score in fuzzy_hits(folded, compiled, index, options, taken):
                matches.extend(
                    _emit(
                        text,
                        [(s, e, value)],
                        starts,
                        ends,
                        compiled,
                        score,
                        _FUZZY,
                        options.fuzzy_uncertain,
                    )
                )
        elif longest and starts is None:
            # Non-overlapping hits at unchanged offsets, each key's payloads in label order:
            # the matches are already sorted and unique.
            return matches
        return _dedupe(matches)

    def _emit_exact(
        self, text: str, hits: list[Hit], starts: list[int] | None, ends: list[int] | None
    ) -> list[Match]:
        """Exact matches of ``hits``, offsets mapped back to ``text``; tails from the memo."""
        if _matching is None:
            return self._emit_exact_py(text, hits, starts, ends)

        def case_ok(start: int, end: int, case: str) -> bool:
            return _case_ok(text[start:end], case)

        return _matching.emit(hits, self._tails, starts, ends, self._tails_of, case_ok, Match)

    def _tails_of(self, value: int) -> tuple[Tail, ...]:
        """The memo's tails of the key of automaton ``value`` (computed on its first hit)."""
        tails = self._tails.get(value)
        if tails is None:
            tails = self._tails[value] = _tails(self.compiled, value >> KEY_SHIFT, 1.0, _EXACT)
        return tails

    def _emit_exact_py(
        self, text: str, hits: list[Hit], starts: list[int] | None, ends: list[int] | None
    ) -> list[Match]:
        """:meth:`_emit_exact` in Python: the compiled loop's reference."""
        out: list[Match] = []
        append = out.append
        for start, end, value in hits:
            tails = self._tails_of(value)
            if starts is not None and ends is not None:
                start, end = starts[start], ends[end - 1]
            for case, tail in tails:
                if case and not _case_ok(text[start:end], case):
                    continue
                append(_new_match(Match, (start, end, *tail)))
        return out


_MATCHERS: weakref.WeakKeyDictionary[CompiledDictionary, Matcher] = weakref.WeakKeyDictionary()


def matcher_for(compiled: CompiledDictionary) -> Matcher:
    """The registry's matcher of ``compiled`` (created on first use, dropped with it)."""
    found = _MATCHERS.get(compiled)
    if found is None:
        found = _MATCHERS[compiled] = Matcher(compiled)
    return found


def match(
    text: str, compiled: CompiledDictionary, options: MatchOptions = _DEFAULT_OPTIONS
) -> list[Match]:
    """All dictionary spans of ``text``, sorted by ``(start, end, label, concept_id)``.

    Offsets point into the original ``text`` (``text[m.start:m.end]`` is the surface), whatever
    folding did to its length. Exact matches score 1.0; fuzzy ones (``options.fuzzy``) score
    their rapidfuzz ratio / 100. One span per (start, end, label, concept_id).
    """
    return matcher_for(compiled).match(text, options)


def _emit(
    text: str,
    hits: list[Hit],
    starts: list[int] | None,
    ends: list[int] | None,
    compiled: CompiledDictionary,
    score: float,
    origin: str,
    force_uncertain: bool,
) -> list[Match]:
    out: list[Match] = []
    for start, end, value in hits:
        if starts is not None and ends is not None:
            start, end = starts[start], ends[end - 1]
        for case, (label, concept, term, _, _, uncertain, link) in _tails(
            compiled, value >> KEY_SHIFT, score, origin
        ):
            if case and not _case_ok(text[start:end], case):
                continue
            unsure = force_uncertain or uncertain
            out.append(
                _new_match(Match, (start, end, label, concept, term, score, origin, unsure, link))
            )
    return out


def _dedupe(matches: list[Match]) -> list[Match]:
    """Sort, and keep the best-scoring match per (start, end, label, concept_id)."""
    if len(matches) < 2:
        return matches
    if all(a[:4] < b[:4] for a, b in itertools.pairwise(matches)):
        return matches
    matches.sort(key=lambda m: (m.start, m.end, m.label, m.concept_id, -m.score, m.matched_term))
    out = [matches[0]]
    for m in matches[1:]:
        prev = out[-1]
        if (m.start, m.end, m.label, m.concept_id) != (
            prev.start,
            prev.end,
            prev.label,
            prev.concept_id,
        ):
            out.append(m)
    return out
