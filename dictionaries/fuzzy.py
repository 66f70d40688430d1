"""Near-miss matching with rapidfuzz, blocked so it scales to large dictionaries.

A text window is compared only with keys of a compatible length (the length bound implied by the
score threshold) that share its first three or its last three characters. One edit rarely
touches both ends of a term, so blocking loses few true near-misses while comparing each window
with a handful of keys instead of the whole dictionary.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from dictionaries.compiled import CompiledDictionary
from dictionaries.config import MatchOptions

_TOKEN = re.compile(r"\w+|[^\w\s]")
_ANCHOR = 3


@dataclass(frozen=True)
class FuzzyIndex:
    """Key ids of fuzzy-matchable keys, by (first 3 chars, length) and (last 3 chars, length)."""

    min_length: int
    by_prefix: dict[tuple[str, int], list[int]]
    by_suffix: dict[tuple[str, int], list[int]]
    max_key_length: int


def build_index(compiled: CompiledDictionary, min_length: int) -> FuzzyIndex:
    """Index every case-insensitive key of at least ``min_length`` characters."""
    by_prefix: dict[tuple[str, int], list[int]] = defaultdict(list)
    by_suffix: dict[tuple[str, int], list[int]] = defaultdict(list)
    starts = compiled.payload_start
    cases = compiled.payload_case
    longest = 0
    for k, key in enumerate(compiled.keys):
        n = len(key)
        if n < min_length or all(cases[p] for p in range(starts[k], starts[k + 1])):
            continue
        by_prefix[(key[:_ANCHOR], n)].append(k)
        by_suffix[(key[-_ANCHOR:], n)].append(k)
        longest = max(longest, n)
    return FuzzyIndex(min_length, dict(by_prefix), dict(by_suffix), longest)


def length_range(n: int, threshold: float) -> range:
    """Key lengths whose rapidfuzz ratio with a length-``n`` string can reach ``threshold``.

    ratio = 200 * matches / (n + m) <= 200 * min(n, m) / (n + m).
    """
    low = math.ceil(n * threshold / (200 - threshold) - 1e-9)
    high = math.floor(n * (200 - threshold) / threshold + 1e-9)
    return range(low, high + 1)


def fuzzy_hits(
    folded: str,
    compiled: CompiledDictionary,
    index: FuzzyIndex,
    options: MatchOptions,
    taken: Sequence[tuple[int, int]],
) -> list[tuple[int, int, int, float]]:
    """Near-misses in ``folded`` as ``(start, end, automaton value, score in [0, 1])``.

    Windows are runs of up to ``fuzzy_max_tokens`` tokens that start and end with a word, are
    not themselves a key, and (in ``longest`` mode) do not overlap a span in ``taken``. In
    ``longest`` mode, overlapping near-misses are resolved by best score, then length.
    """
    if not index.by_prefix:
        return []
    keys = compiled.keys
    threshold = options.fuzzy_threshold
    longest_mode = options.overlap == "longest"
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(folded)]
    words = [folded[s].isalnum() or folded[s] == "_" for s, _ in tokens]
    blocked = bytearray(len(folded) + 1)
    if longest_mode:
        for s, e in taken:
            blocked[s:e] = b"\x01" * (e - s)
    found: list[tuple[int, int, int, float]] = []
    for i, (w_start, _) in enumerate(tokens):
        if not words[i] or blocked[w_start]:
            continue
        for j in range(i, min(i + options.fuzzy_max_tokens, len(tokens))):
            w_end = tokens[j][1]
            if longest_mode and blocked[tokens[j][0]]:
                break
            size = w_end - w_start
            if size > index.max_key_length * 2:
                break
            if not words[j] or size < index.min_length:
                continue
            window = folded[w_start:w_end]
            if compiled.index_of(window) is not None:
                continue
            candidates: set[int] = set()
            for n in length_range(size, threshold):
                candidates.update(index.by_prefix.get((window[:_ANCHOR], n), ()))
                candidates.update(index.by_suffix.get((window[-_ANCHOR:], n), ()))
            if not candidates:
                continue
            ordered = sorted(candidates)
            best = process.extractOne(
                window, [keys[k] for k in ordered], scorer=fuzz.ratio, score_cutoff=threshold
            )
            if best is None:
                continue
            _, score, position = best
            k = ordered[position]
            found.append((w_start, w_end, compiled.values[k], score / 100.0))
    if not longest_mode:
        return found
    found.sort(key=lambda h: (-h[3], -(h[1] - h[0]), h[0]))
    chosen: list[tuple[int, int, int, float]] = []
    for hit in found:
        if not any(hit[0] < c[1] and c[0] < hit[1] for c in chosen):
            chosen.append(hit)
    return chosen
