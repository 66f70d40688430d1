"""Hold concepts out of a compiled dictionary: a training part and a held-out part.

A dev set labelled with the held-out part (``binder silver build --heldout-dict``) tells how
many entities a model finds that its training dictionary never listed, which silver labels
made from the training dictionary alone cannot tell.

Concepts are the ``|``-separated ids of each term's concept field; a term without an id is its
own concept (named by its folded key). Concept ``c`` is held out when
``sha256(f"{seed}:{c}")``, read as a number in [0, 1), is below ``holdout``: stable across
runs, machines and dictionary versions, so a concept stays on its side when the dictionary
grows. A term whose concepts fall on both sides goes to both parts, each with its own ids
(the training part's span wins where both match).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import NamedTuple

from dictionaries.compiled import CompiledDictionary, Groups, TermGroup, add_group, build_compiled
from dictionaries.config import SplitConfig

_NO_ID = "term:"


class DictionarySplit(NamedTuple):
    train: CompiledDictionary
    heldout: CompiledDictionary
    counts: dict[str, int]


def is_held_out(concept: str, config: SplitConfig) -> bool:
    """Whether ``concept`` goes to the held-out part (a hash of seed and concept)."""
    digest = hashlib.sha256(f"{config.seed}:{concept}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < config.holdout * 2**64


def split_dictionary(compiled: CompiledDictionary, config: SplitConfig) -> DictionarySplit:
    """Split ``compiled`` by concept (see the module docstring); both parts keep its config."""
    parts: tuple[Groups, Groups] = ({}, {})
    seen: dict[str, bool] = {}
    shared = 0
    for k, key in enumerate(compiled.keys):
        sides = set()
        for p in range(compiled.payload_start[k], compiled.payload_start[k + 1]):
            label = compiled.labels[compiled.payload_label[p]]
            ids = [c for c in compiled.payload_concept[p].split("|") if c]
            for concept in ids or [_NO_ID + key]:
                if concept not in seen:
                    seen[concept] = is_held_out(concept, config)
            by_side: tuple[list[str], list[str]] = ([], [])
            for concept in ids or [_NO_ID + key]:
                by_side[seen[concept]].append(concept)
            for side, concepts in enumerate(by_side):
                if not concepts:
                    continue
                sides.add(side)
                group = TermGroup(label, compiled.payload_term[p])
                for concept in concepts:
                    if not concept.startswith(_NO_ID):
                        group.add_concept(concept)
                case = compiled.payload_case[p]
                group.cases = set(case.split("\x00")) if case else None
                add_group(parts[side], key, group)
        shared += len(sides) > 1
    held = sum(seen.values())
    counts = {
        "concepts": len(seen),
        "concepts_heldout": held,
        "concepts_train": len(seen) - held,
        "keys_train": len(parts[0]),
        "keys_heldout": len(parts[1]),
        "keys_in_both": shared,
    }
    stats = {"entries": compiled.stats.get("entries", 0), "split_seed": config.seed}
    train, heldout = (
        build_compiled(part, compiled.config, Counter({**stats, **counts})) for part in parts
    )
    return DictionarySplit(train, heldout, counts)
