"""The two record types of the package: a dictionary entry in, a match out."""

from __future__ import annotations

from typing import NamedTuple

from binder_core.contract.schema import SPAN_FIELDS
from dictionaries.config import CasePolicy


class Entry(NamedTuple):
    """One dictionary line: a surface ``term`` that names ``concept_id``, typed ``label``.

    ``case`` is the case policy of the source it came from (:data:`CasePolicy`).
    """

    term: str
    label: str
    concept_id: str
    source: str
    case: CasePolicy = "ignore"


class Match(NamedTuple):
    """One span found in a text; its fields are the schema's span fields, in order.

    ``text[start:end]`` is the matched surface in the *original* text (character offsets,
    half-open), so ``m._asdict()`` is a valid schema span. ``link_score`` is
    :func:`~binder_core.contract.schema.dictionary_link_score` of the concept id (1.0 with one,
    0.0 without) for every span a dictionary makes.
    """

    start: int
    end: int
    label: str
    concept_id: str
    matched_term: str
    score: float
    origin: str
    uncertain: bool
    link_score: float


assert Match._fields == SPAN_FIELDS, "Match must mirror binder_core.contract.schema.SPAN_FIELDS"
