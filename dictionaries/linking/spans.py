"""Concept ids for the spans of a document: the :class:`Linker` applied where spans are made.

``binder predict`` / ``binder evaluate`` (and the hybrid), with a dictionary, pass every span
through :func:`link_spans`: a span that already carries a concept id (an exact dictionary
match) keeps it and its ``link_score``; any other typed span (a model span, a dictionary term
without an id) is linked in its document (short forms by their long form). A linked span gets
the concept id, as ``matched_term`` the dictionary term of the name that won, and as
``link_score`` that name's cosine; a span the linker abstains on keeps ``concept_id = ""`` and
its ``matched_term`` ("" for a model span; a dictionary term without an id keeps that term) and
gets, as ``link_score``, the best cosine the linker saw (below its threshold; 0.0 without any
candidate), so it says that it was linked and not grounded.
ANY_LABEL spans are never linked (the contract's ``link_score`` rules,
:mod:`binder_core.contract.schema`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from binder_core.contract.schema import ANY_LABEL
from dictionaries.linking.index_file import linker_for
from dictionaries.linking.linker import Linker


def link_spans(
    linker: Linker, text: str, spans: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """``spans`` (contract dicts) with concept ids filled where the linker grounds them and the
    link score of every span it links (see the module docstring); the order and every other
    field are kept."""
    out = [dict(s) for s in spans]
    todo = [i for i, s in enumerate(out) if not s["concept_id"] and s["label"] != ANY_LABEL]
    if not todo:
        return out
    links = linker.link_in_document(
        text, [(out[i]["start"], out[i]["end"], out[i]["label"]) for i in todo]
    )
    for i, link in zip(todo, links, strict=True):
        if link.concept_id:
            out[i]["concept_id"] = link.concept_id
            out[i]["matched_term"] = link.name
        out[i]["link_score"] = float(link.score)
    return out


def span_linker(dictionary: str | os.PathLike[str], compiled: Any) -> Any:
    """The ``(text, spans) -> spans`` hook (:data:`binder_core.contract.concepts.SpanLinker`) of the
    compiled dictionary at ``dictionary``; its linker is loaded once per process."""
    return partial(link_spans, linker_for(dictionary, compiled))
