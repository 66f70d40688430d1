"""Concept ids on spans: the linking hook of prediction, and span + type + concept scoring.

Torch-free and dictionary-free: the hook is any ``(text, spans) -> spans`` function
(:data:`SpanLinker`); the CLI builds one from a compiled dictionary's linker
(:func:`dictionaries.linking.spans.span_linker`).

Scoring rule, stated once: a predicted span is right at the concept level when a gold span has
its start, end and label (as for span + type scores) *and* its concept id is one of the gold
span's ids (:func:`gold_ids`: a composite mention "D001|D002" accepts either). A gold span with
no id ("" or "-1") accepts a prediction that has none either.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

SpanLinker = Callable[[str, Sequence[Mapping[str, Any]]], list[dict[str, Any]]]
"""``(text, spans) -> spans``: fills the concept id (and matched name) of the spans that have
none, where the linker can ground them, and the ``link_score`` of every span it links."""

ConceptKey = tuple[int, int, str, str]
"""``(start, end, label, concept id)``."""

_ID_SEPARATORS = re.compile(r"[|+,;]")


def gold_ids(concept_id: str) -> frozenset[str]:
    """The ids of a gold concept field ("" and "-1" are none)."""
    ids = (part.strip() for part in _ID_SEPARATORS.split(concept_id))
    return frozenset(i for i in ids if i and i != "-1")


def concept_keys(
    gold: Iterable[Mapping[str, Any]], predicted: Iterable[Mapping[str, Any]]
) -> tuple[list[ConceptKey], list[ConceptKey]]:
    """ONE document's gold and predicted spans as keys that are equal exactly when the
    prediction is right at the concept level (see the module docstring).

    A gold span's key carries its concept field as given; a prediction that matches it takes
    that same key, any other prediction keeps its own concept id.
    """
    accepted: dict[tuple[int, int, str], tuple[str, frozenset[str]]] = {}
    gold_out: list[ConceptKey] = []
    for s in gold:
        where = (int(s["start"]), int(s["end"]), str(s["label"]))
        field = str(s["concept_id"])
        accepted[where] = (field, gold_ids(field) or frozenset([""]))
        gold_out.append((*where, field))
    predicted_out: list[ConceptKey] = []
    for s in predicted:
        where = (int(s["start"]), int(s["end"]), str(s["label"]))
        concept = str(s["concept_id"])
        found = accepted.get(where)
        if found is not None and concept in found[1]:
            concept = found[0]
        predicted_out.append((*where, concept))
    return gold_out, predicted_out
