"""The terms of a compiled dictionary, by type: what training draws replacement mentions from.

A compiled dictionary stores, per folded key, the payloads it matches as (type, concept ids,
dictionary term). :func:`terms_by_label` reads those tables back into plain tuples of the terms
each type accepts with certainty (an ambiguous or fuzzy-only payload is left out: a replacement
must be a name of its type, not a guess).
"""

from __future__ import annotations

from dictionaries.compiled import CompiledDictionary


def terms_by_label(compiled: CompiledDictionary) -> dict[str, tuple[str, ...]]:
    """Per type of ``compiled``, its distinct certain dictionary terms, sorted.

    Every type of the dictionary is a key, with an empty tuple when no certain term has it.
    """
    found: dict[str, set[str]] = {label: set() for label in compiled.labels}
    for p in range(len(compiled.payload_label)):
        if compiled.payload_uncertain[p] == 1:
            continue
        term = compiled.payload_term[p]
        if term:
            found[compiled.labels[compiled.payload_label[p]]].add(term)
    return {label: tuple(sorted(terms)) for label, terms in found.items()}
