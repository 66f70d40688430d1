"""The pure matching function: text + compiled dictionary -> sorted, de-duplicated spans."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from binder_core.schema import Origin
from dictionaries.compiled import CASE_BIT, KEY_SHIFT, CompiledDictionary
from dictionaries.config import MatchOptions
from dictionaries.fuzzy import fuzzy_hits
from dictionaries.normalize import fold_with_offsets, unify_surface
from dictionaries.records import Match

_LEN_MASK = CASE_BIT - 1
_EXACT = Origin.DICT_EXACT.value
_FUZZY = Origin.DICT_FUZZY.value
_DEFAULT_OPTIONS = MatchOptions()

Hit = tuple[int, int, int]
"""``(start, end, value)`` in folded offsets; ``value`` is the automaton value of the key."""

_new_match = tuple.__new__


def exact_hits(
    folded: str,
    compiled: CompiledDictionary,
    text: str | None = None,
    starts: list[int] | None = None,
    ends: list[int] | None = None,
) -> list[Hit]:
    """Every occurrence of a key in ``folded`` that starts and ends on a token boundary.

    A boundary is anywhere except between two alphanumeric characters, so ``"ace"`` is found in
    ``"ace-inhibitor"`` but not in ``"surface"``. With the original ``text`` (and the offset maps
    of its folding), hits of case-sensitive keys are kept only where the original surface has
    an accepted case. Hits come ordered by end offset.
    """
    n = len(folded)
    hits: list[Hit] = []
    append = hits.append
    for last, value in compiled.automaton.iter(folded):
        end = last + 1
        start = end - (value & _LEN_MASK)
        if start and folded[start - 1].isalnum() and folded[start].isalnum():
            continue
        if end < n and folded[end].isalnum() and folded[last].isalnum():
            continue
        if value & CASE_BIT and text is not None:
            o_start, o_end = (
                (start, end)
                if starts is None or ends is None
                else (
                    starts[start],
                    ends[last],
                )
            )
            if not _any_case_ok(text[o_start:o_end], value, compiled):
                continue
        append((start, end, value))
    return hits


def leftmost_longest(hits: Iterable[Hit]) -> list[Hit]:
    """Non-overlapping hits: scanning left to right, the longest hit at each free start wins."""
    chosen: list[Hit] = []
    last_end = -1
    for start, neg_end, value in sorted((h[0], -h[1], h[2]) for h in hits):
        if start >= last_end:
            last_end = -neg_end
            chosen.append((start, last_end, value))
    return chosen


def _case_ok(surface: str, accepted: str) -> bool:
    if surface == accepted:
        return True
    if not surface.isupper():  # accepted forms have upper-case and no lower-case letters
        return False
    return unify_surface(surface) in accepted.split("\x00")


def _any_case_ok(surface: str, value: int, compiled: CompiledDictionary) -> bool:
    k = value >> KEY_SHIFT
    cases = compiled.payload_case
    return any(
        not cases[p] or _case_ok(surface, cases[p])
        for p in range(compiled.payload_start[k], compiled.payload_start[k + 1])
    )


def match(
    text: str, compiled: CompiledDictionary, options: MatchOptions = _DEFAULT_OPTIONS
) -> list[Match]:
    """All dictionary spans of ``text``, sorted by ``(start, end, label, concept_id)``.

    Offsets point into the original ``text`` (``text[m.start:m.end]`` is the surface), whatever
    folding did to its length. Exact matches score 1.0; fuzzy ones (``options.fuzzy``) score
    their rapidfuzz ratio / 100. One span per (start, end, label, concept_id).
    """
    if not text or not compiled.keys:
        return []
    folded, starts, ends = fold_with_offsets(text)
    hits = exact_hits(folded, compiled, text, starts, ends)
    if options.overlap == "longest":
        hits = leftmost_longest(hits)
    matches = _emit(text, hits, starts, ends, compiled, 1.0, _EXACT, False)
    if options.fuzzy:
        taken = [(h[0], h[1]) for h in hits]
        for s, e, value, score in fuzzy_hits(folded, compiled, options, taken):
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
    return _dedupe(matches)


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
    labels = compiled.labels
    p_start = compiled.payload_start
    p_label = compiled.payload_label
    p_concept = compiled.payload_concept
    p_term = compiled.payload_term
    p_case = compiled.payload_case
    p_uncertain = compiled.payload_uncertain
    out: list[Match] = []
    for start, end, value in hits:
        if starts is not None and ends is not None:
            start, end = starts[start], ends[end - 1]
        k = value >> KEY_SHIFT
        for p in range(p_start[k], p_start[k + 1]):
            if p_case[p] and not _case_ok(text[start:end], p_case[p]):
                continue
            out.append(
                _new_match(
                    Match,
                    (
                        start,
                        end,
                        labels[p_label[p]],
                        p_concept[p],
                        p_term[p],
                        score,
                        origin,
                        force_uncertain or p_uncertain[p] == 1,
                    ),
                )
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
