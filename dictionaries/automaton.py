"""The automaton that matching scans folded text with, and its serialized form.

A character-wise double-array Aho-Corasick automaton (``daachorse``, Rust) over the sorted
keys: pattern ``k`` is key ``k``, offsets are in characters, and every overlapping occurrence
is reported as ``(start, end, k)``, ordered by end offset (what
:func:`dictionaries.matcher.exact_hits` relies on).
One shard of it labels as fast as the ``ahocorasick-rs`` contiguous NFA that it replaces (the
two are compared, paired, by ``benchmarks/bench_dict_scale.py``) and, unlike it, has a
serialized form:
a loaded artifact reads its automaton instead of building it again, so a load costs about what
reading the file costs. ``daachorse`` checks the structure it reads: a shard that does not
hold together is a ``ValueError`` (most changed bytes are caught so; the artifact's checksums
catch damage first). A deliberately altered shard that still holds together reports wrong key
indices or offsets, which matching refuses when they fall outside the keys or the text.

Built without ``daachorse``'s prefilter: with the MeSH dictionary the scan takes 0.95 s
without it and 1.06 s with it (``ahocorasick-rs``: 0.90 s; five passes over 6.4 MB, paired).

Shards: building an automaton takes about ten times the memory of the finished one (about
3.4 GB for a million UMLS-like keys of 32 characters), so the keys are cut, in key order, into
shards of at most :data:`SHARD_CHARS` characters, built one after the other; a scan runs every
shard and merges their hits by end offset. A dictionary of MeSH's size is one shard; each
further shard costs a pass over the text (3M UMLS-like strings, six shards: labeling at
0.6-0.8x of one ``ahocorasick-rs`` automaton, which took 67 s to build at every load).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice, pairwise
from operator import itemgetter

import daachorse

SHARD_CHARS = 16_000_000
"""Key characters per shard: bounds a build's peak memory (about 1.7 GB) at the cost of one
more pass over the text per shard."""

Automaton = daachorse.CharwiseDoubleArrayAhoCorasick
_END = itemgetter(1)


def shard_starts(lengths: Iterable[int], max_chars: int = SHARD_CHARS) -> list[int]:
    """The first key of each shard, then the number of keys: ``[0, ..., n]`` (``[0]`` for no
    keys). A shard holds keys until adding the next would pass ``max_chars`` characters."""
    starts = [0]
    chars = 0
    n = 0
    for n, length in enumerate(lengths, start=1):
        if chars and chars + length > max_chars:
            starts.append(n - 1)
            chars = 0
        chars += length
    if n:
        starts.append(n)
    return starts


class KeyAutomaton:
    """The keys' automaton, in shards; see the module docstring."""

    __slots__ = ("_shards", "starts")

    def __init__(self, shards: Sequence[Automaton], starts: Sequence[int]) -> None:
        if len(starts) != len(shards) + 1 or starts[0] != 0:
            raise ValueError("one start per shard, and the number of keys")
        if any(b <= a for a, b in pairwise(starts)):
            raise ValueError("shard starts out of order")
        self._shards = tuple(zip(shards, starts, strict=False))
        self.starts = tuple(starts)  # the first key of each shard, then the number of keys

    @classmethod
    def build(cls, keys: Iterable[str], max_chars: int = SHARD_CHARS) -> KeyAutomaton:
        """The automaton of ``keys`` (distinct, non-empty; read twice), shard after shard."""
        starts = shard_starts(map(len, keys), max_chars)
        remaining = iter(keys)
        shards = [
            Automaton(list(islice(remaining, b - a)), use_prefilter=False)
            for a, b in pairwise(starts)
        ]
        return cls(shards, starts)

    def serialize(self) -> list[bytes]:
        """Each shard's bytes (``daachorse``'s own format), in shard order."""
        return [shard.serialize() for shard, _ in self._shards]

    @classmethod
    def deserialize(cls, shards: Iterable[bytes], starts: Sequence[int]) -> KeyAutomaton:
        """The automaton of :meth:`serialize`'s bytes; ``ValueError`` when ``daachorse`` finds
        one of them is not an automaton."""
        return cls([Automaton.deserialize(data) for data in shards], starts)

    def find_all(self, haystack: str) -> list[tuple[int, int, int]]:
        """Every occurrence of a key in ``haystack`` as ``(start, end, key index)``, ordered
        by end offset: ``daachorse``'s own layout, so one shard's hits are passed on as they
        come."""
        if not self._shards:
            return []
        hits: list[tuple[int, int, int]] = self._shards[0][0].find_overlapping(haystack)
        for shard, first in self._shards[1:]:
            hits += [(s, e, k + first) for s, e, k in shard.find_overlapping(haystack)]
        if len(self._shards) > 1:
            hits.sort(key=_END)  # stable: within an end offset, each shard's order
        return hits
