"""Names learned from annotated mentions: a gold set's ``surface -> concept id`` pairs.

A corpus's annotators follow conventions that no dictionary name states: BC5CDR grounds
"nephrotoxicity" in Kidney Diseases and "psychosis" in Substance-Induced Psychoses, because it
annotates chemical-induced disease. The mentions of a training set carry those conventions, and
adding them to the linking index as names (``binder dict link-index --annotations TRAIN``) lets
the linker follow them on new text.

Rules, stated once:

* Only mentions with one concept id count (a composite "D001|D002" names neither alone), and
  only ids the dictionary holds: the linker never gives an id its dictionary lacks.
* A folded surface annotated with several ids under one label takes the most frequent (ties:
  the smallest id); its name is the surface written most often (ties: the smallest).
* An annotated ``(key, label)`` replaces the dictionary's own names of that key and label (the
  annotation is the corpus's reading of that string), except a concept's last name: every
  concept of the dictionary stays in the index.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator

from binder_core.contract.concepts import gold_ids
from binder_core.contract.schema import ANY_LABEL, iter_documents
from dictionaries.linking.linker import Name
from dictionaries.normalize import normalize_term


def read_annotations(gold: str | os.PathLike[str]) -> Iterator[tuple[str, str, str]]:
    """``(surface, label, concept id field)`` of every typed span of a gold set (contract
    Parquet)."""
    for doc in iter_documents(gold, columns=["text", "spans"]):
        text = doc["text"]
        for span in doc["spans"]:
            if span["label"] != ANY_LABEL:
                yield text[span["start"] : span["end"]], span["label"], span["concept_id"]


def annotated_names(mentions: Iterable[tuple[str, str, str]], held: Collection[str]) -> list[Name]:
    """One :class:`Name` per annotated ``(folded surface, label)`` (rules in the module
    docstring), sorted."""
    votes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    surfaces: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for surface, label, field in mentions:
        ids = gold_ids(field)
        key = normalize_term(surface)
        if len(ids) != 1 or not key:
            continue
        [concept] = ids
        if concept in held:
            votes[key, label][concept] += 1
            surfaces[key, label][surface.strip()] += 1
    names = []
    for (key, label), counts in votes.items():
        concept = min(counts, key=lambda c: (-counts[c], c))
        written = surfaces[key, label]
        names.append(Name(key, label, concept, min(written, key=lambda s: (-written[s], s))))
    return sorted(names)


def with_annotations(names: Iterable[Name], annotated: Iterable[Name]) -> list[Name]:
    """``names`` without those whose ``(key, label)`` is annotated (unless one is the last name
    of its concept), then the ``annotated``."""
    names, annotated = list(names), list(annotated)
    taken = {(n.key, n.label) for n in annotated}
    kept = [n for n in names if (n.key, n.label) not in taken]
    named = {n.concept_id for n in kept} | {n.concept_id for n in annotated}
    last = [n for n in names if n.concept_id not in named]
    return kept + sorted(set(last)) + annotated
