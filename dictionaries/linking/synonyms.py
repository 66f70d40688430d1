"""Word synonyms mined from a dictionary's own names, to vary a mention before linking.

Two names of one concept that differ in exactly one word ("brain neoplasm" / "brain tumor",
"renal failure" / "kidney failure") say that the two words can stand for each other. A pair seen
in at least ``min_support`` concepts is kept (one concept alone is often a coincidence), and each
word keeps its ``per_word`` most frequent partners. A mention the dictionary names differently
("liver tumors" for "Liver Neoplasms") is then also looked up with one word replaced.

Names are compared as folded words with regular plural endings removed (what the linker
vectorizes); a concept contributes at most ``max_names`` names (its names are compared pairwise).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

MAX_VARIANTS = 6
"""Variants of one mention at most (one replaced word each)."""


def mine_synonyms(
    names_by_concept: Iterable[Iterable[str]],
    min_support: int = 2,
    per_word: int = 3,
    max_names: int = 40,
) -> dict[str, tuple[str, ...]]:
    """``word -> partners`` (most frequent first) from each concept's names (see the module
    docstring)."""
    support: Counter[tuple[str, str]] = Counter()
    for names in names_by_concept:
        by_length: dict[int, list[tuple[str, ...]]] = defaultdict(list)
        for words in sorted({tuple(name.split()) for name in names if name})[:max_names]:
            by_length[len(words)].append(words)
        pairs: set[tuple[str, str]] = set()
        for group in by_length.values():
            for i, a in enumerate(group):
                for b in group[i + 1 :]:
                    differ = [k for k in range(len(a)) if a[k] != b[k]]
                    if len(differ) == 1:
                        x, y = a[differ[0]], b[differ[0]]
                        pairs.update(((x, y), (y, x)))
        support.update(pairs)
    partners: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for (x, y), count in support.items():
        if count >= min_support:
            partners[x].append((-count, y))
    return {x: tuple(y for _, y in sorted(ys)[:per_word]) for x, ys in partners.items()}


def word_variants(key: str, synonyms: Mapping[str, tuple[str, ...]]) -> list[str]:
    """``key`` (folded words) with one word replaced by a partner, at most
    :data:`MAX_VARIANTS`, in word then partner order."""
    words = key.split()
    out: list[str] = []
    for i, word in enumerate(words):
        for partner in synonyms.get(word, ()):
            out.append(" ".join([*words[:i], partner, *words[i + 1 :]]))
            if len(out) == MAX_VARIANTS:
                return out
    return out
