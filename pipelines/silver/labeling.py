"""One document's silver spans: the pure labeling step that ``MatchSpansFn`` calls per document.

::

    text ─ typed dictionary ── names and composite mentions (span_rules) ──┐  (dict_exact /
                                              dict_fuzzy / dict_name / dict_composite) │
         ─ held-out dictionary ── not overlapping ──┤  (dict_heldout)
         ─ abbreviation definitions ── short forms of labelled long forms ──┤  (abbreviation)
         ─ uncertain dictionary ── not overlapping any of the above ──┘  (dict_uncertain, "*")

Each step adds only spans that overlap nothing found before it, so the typed dictionary's own
spans always win. The rules of each step:

- **Composite mentions** and **names** (``composite_mentions``, ``name_labels``; off by
  default): the typed spans reshaped by the text rules of :mod:`pipelines.silver.span_rules`
  ("breast and ovarian cancer" as one span, origin ``dict_composite``; "Andy" widened to "Andy
  Caddick", origin ``dict_name``).
- **Held-out dictionary** (``binder dict split``): its matches are the entities of concepts the
  training dictionary does not hold; they keep their label and concept and get
  ``origin = dict_heldout`` (uncertain only where the held-out dictionary itself is unsure: an
  ambiguous term).
- **Abbreviations** (:func:`dictionaries.abbreviations.find_abbreviations`): a definition whose
  long form the dictionary labels (a span with the long form's exact extent, or with
  ``abbreviation_long_form = "end"`` any span that ends where the long form ends) gives every
  occurrence of its short form in the document (case-sensitive, on token boundaries) the same
  label, concept id and uncertainty, with ``origin = abbreviation`` (``dict_heldout`` when the
  long form was a held-out match). A short form defined with several labels gets one uncertain
  span per label. The dictionary's own spans of a short form whose definition in the document
  it does *not* label are kept: marking them uncertain or dropping them lowered silver F1 on
  BC5CDR train+dev (most are right: the dictionary knows the short form itself).
- **Uncertain dictionary** (a broad lexicon): its matches become ``label = ANY_LABEL``,
  ``uncertain = true`` spans (``origin = dict_uncertain``): not a type, but not a negative
  for any type either. One span per extent.

The result is sorted and unique like :func:`dictionaries.match`'s, in the schema's span order.
"""

from __future__ import annotations

import bisect
import operator
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from binder_core.contract.schema import ANY_LABEL, SPAN_ORDER, Origin, dictionary_link_score
from dictionaries import CompiledDictionary, Match, MatchOptions, match
from dictionaries.abbreviations import Abbreviation, find_abbreviations
from pipelines.silver.labeling_config import AbbreviationLongForm, LabelingConfig
from pipelines.silver.span_rules import (
    CANONICAL,
    COMPOSITE_ORIGIN,
    NAME_ORIGIN,
    composite_mentions,
    widen_names,
)

try:  # the short-form step compiled (setup.py builds it where a C compiler is found)
    from pipelines import _labeling
except ImportError:  # pragma: no cover - a build without the extension
    _labeling = None  # type: ignore[assignment]

_START = operator.itemgetter(Match._fields.index(SPAN_ORDER[0]))
_HELDOUT = Origin.DICT_HELDOUT.value
_ABBREVIATION = Origin.ABBREVIATION.value
_UNCERTAIN = Origin.DICT_UNCERTAIN.value

# Counts of one run, summed over documents (the manifest's ``counts.labeling``).
# definitions whose long form ends where a span ends (the finder looks for no others) ...
ABBREVIATION_DEFINITIONS = "abbreviation_definitions_at_spans"
ABBREVIATION_LABELLED = "abbreviation_definitions_labelled"  # ... and whose long form is labelled
ABBREVIATION_SPANS = "abbreviation_spans_added"
HELDOUT_SPANS = "heldout_spans_added"
NAME_SPANS = "name_spans_widened"
COMPOSITE_SPANS = "composite_spans_widened"
HELDOUT_OVERLAPPING = "heldout_matches_overlapping"  # held-out matches the typed spans beat
UNCERTAIN_SPANS = "uncertain_spans_added"
UNCERTAIN_OVERLAPPING = "uncertain_matches_overlapping"
LABELING_COUNTS: tuple[str, ...] = (
    ABBREVIATION_DEFINITIONS,
    ABBREVIATION_LABELLED,
    ABBREVIATION_SPANS,
    HELDOUT_SPANS,
    HELDOUT_OVERLAPPING,
    NAME_SPANS,
    COMPOSITE_SPANS,
    UNCERTAIN_SPANS,
    UNCERTAIN_OVERLAPPING,
)


@dataclass(frozen=True, eq=False)
class Lexicons:
    """The compiled dictionaries of one run: the typed one, and the optional extra two."""

    typed: CompiledDictionary
    heldout: CompiledDictionary | None = None
    uncertain: CompiledDictionary | None = None


def label_document(
    text: str,
    lexicons: Lexicons,
    options: MatchOptions,
    config: LabelingConfig,
    counts: Counter[str] | None = None,
) -> list[Match]:
    """The silver spans of one document, sorted; ``counts`` (if given) is incremented."""
    return label_documents([text], lexicons, options, config, counts)[0]


def label_documents(
    texts: Sequence[str],
    lexicons: Lexicons,
    options: MatchOptions,
    config: LabelingConfig,
    counts: Counter[str] | None = None,
) -> list[list[Match]]:
    """:func:`label_document` of each text, in order.

    The typed dictionary scans every text before the other steps run on any: a scan sweeps the
    automaton through the CPU caches, and the steps after it run faster when they follow one
    another than when each follows a scan (about 6 us of ~90 per abstract with MeSH).
    """
    typed = [match(text, lexicons.typed, options) for text in texts]
    if (
        lexicons.heldout is None
        and lexicons.uncertain is None
        and not config.abbreviations
        and not config.name_labels
        and not config.composite_mentions
    ):
        return typed
    counts = counts if counts is not None else Counter()
    return [
        _extended(text, spans, lexicons, options, config, counts)
        for text, spans in zip(texts, typed, strict=True)
    ]


def _extended(
    text: str,
    spans: list[Match],
    lexicons: Lexicons,
    options: MatchOptions,
    config: LabelingConfig,
    counts: Counter[str],
) -> list[Match]:
    """The typed ``spans`` of ``text`` plus those of the held-out, abbreviation and uncertain
    steps, sorted."""
    changed = False
    if config.name_labels:
        widened = widen_names(text, spans, frozenset(config.name_labels))
        if widened is not None:
            counts[NAME_SPANS] += sum(m.origin == NAME_ORIGIN for m in widened)
            spans, changed = widened, True
    if config.composite_mentions:
        grown = composite_mentions(text, spans, lexicons.typed, options)
        if grown is not None:
            counts[COMPOSITE_SPANS] += sum(m.origin == COMPOSITE_ORIGIN for m in grown)
            spans, changed = grown, True
    if lexicons.heldout is not None:
        held = [m._replace(origin=_HELDOUT) for m in match(text, lexicons.heldout, options)]
        added = _not_overlapping(held, spans)
        added.sort(key=CANONICAL)  # the new origin can reorder spans of one extent and label
        counts[HELDOUT_SPANS] += len(added)
        counts[HELDOUT_OVERLAPPING] += len(held) - len(added)
        spans, changed = spans + added, changed or bool(added)
    if config.abbreviations:
        before = spans
        spans = _with_abbreviations(text, spans, config, counts)
        changed = changed or spans is not before
    if lexicons.uncertain is not None:
        broad = _one_per_extent(match(text, lexicons.uncertain, options))
        added = [
            Match(m.start, m.end, ANY_LABEL, m.concept_id, m.matched_term, m.score, _UNCERTAIN,
                  True, m.link_score)
            for m in _not_overlapping(broad, spans)
        ]  # fmt: skip
        counts[UNCERTAIN_SPANS] += len(added)
        counts[UNCERTAIN_OVERLAPPING] += len(broad) - len(added)
        spans, changed = spans + added, changed or bool(added)
    if changed:
        # Each step's spans come in canonical order and overlap nothing found before them, so
        # two spans that start at one offset are of one step, already in order: a stable sort by
        # start alone gives the canonical order (and compares ints, not tuples).
        spans.sort(key=_START)
    return spans


class _Coverage:
    """The union of half-open intervals, for "does ``[start, end)`` overlap any of them?"."""

    def __init__(self, intervals: Iterable[tuple[int, int]]) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in sorted(intervals):
            if self._ends and start < self._ends[-1]:
                self._ends[-1] = max(self._ends[-1], end)
            else:
                self._starts.append(start)
                self._ends.append(end)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self._starts, end) - 1
        return i >= 0 and self._ends[i] > start


def _not_overlapping(candidates: Sequence[Match], spans: Sequence[Match]) -> list[Match]:
    if not candidates:
        return []
    taken = _Coverage((m.start, m.end) for m in spans)
    return [m for m in candidates if not taken.overlaps(m.start, m.end)]


def _one_per_extent(spans: Sequence[Match]) -> list[Match]:
    """The first span of each (start, end): spans come sorted, so labels collapse in order."""
    out: list[Match] = []
    for m in spans:
        if not out or (out[-1].start, out[-1].end) != (m.start, m.end):
            out.append(m)
    return out


def _occurrences(text: str, form: str) -> list[tuple[int, int]]:
    """Every ``[start, end)`` of ``form`` in ``text`` not inside a run of letters and digits."""
    found = []
    n, i = len(form), text.find(form)
    while i != -1:
        j = i + n
        if (i == 0 or not (text[i - 1].isalnum() and form[0].isalnum())) and (
            j == len(text) or not (text[j].isalnum() and form[-1].isalnum())
        ):
            found.append((i, j))
        i = text.find(form, i + 1)
    return found


def _long_form_spans(
    ending: Sequence[Match], start: int, end: int, rule: AbbreviationLongForm
) -> list[Match]:
    """The spans that label the long form ``[start, end)``, of the spans ``ending`` there."""
    if rule == "exact":
        return [m for m in ending if m.start == start]
    first = min(m.start for m in ending)
    return [m for m in ending if m.start == first]  # the longest, when spans nest (overlap all)


def _with_abbreviations(
    text: str, spans: list[Match], config: LabelingConfig, counts: Counter[str]
) -> list[Match]:
    """``spans`` plus the short forms of labelled long forms (the same list if none)."""
    # Only a definition whose long form ends where a span ends can label its short form: the
    # finder skips the others early (most of its cost on abstracts).
    pairs = find_abbreviations(text, {m.end for m in spans})
    if not pairs:
        return spans
    counts[ABBREVIATION_DEFINITIONS] += len(pairs)
    rule = config.abbreviation_long_form
    if _labeling is None:
        labelled, added = _short_form_spans_py(text, spans, pairs, rule)
    else:
        labelled, added = _labeling.short_form_spans(
            text, spans, pairs, rule == "exact", _HELDOUT, _ABBREVIATION, Match
        )
    if labelled:
        counts[ABBREVIATION_LABELLED] += labelled
        counts[ABBREVIATION_SPANS] += len(added)
    return spans + added if added else spans


def _short_form_spans_py(
    text: str, spans: list[Match], pairs: Sequence[Abbreviation], rule: AbbreviationLongForm
) -> tuple[int, list[Match]]:
    """How many of ``pairs`` have a labelled long form, and the short-form spans they add.

    The reference of the compiled step (``pipelines/_labeling.c``), and what runs without it.
    """
    labelled = 0
    defined: dict[str, list[Match]] = {}
    for pair in pairs:
        ending = [m for m in spans if m.end == pair.long_end]  # never empty: the finder's rule
        long_spans = _long_form_spans(ending, pair.long_start, pair.long_end, rule)
        if long_spans:
            short = text[pair.short_start : pair.short_end]
            labelled += 1
            defined.setdefault(short, []).extend(long_spans)
    if not defined:
        return labelled, []
    taken = _Coverage((m.start, m.end) for m in spans)
    candidates = []
    for short, sources in defined.items():
        labels = sorted({m.label for m in sources})
        for label in labels:
            of_label = [m for m in sources if m.label == label]
            concept = "|".join(sorted({c for m in of_label for c in m.concept_id.split("|") if c}))
            origin = _HELDOUT if all(m.origin == _HELDOUT for m in of_label) else _ABBREVIATION
            unsure = len(labels) > 1 or any(m.uncertain for m in of_label)
            score = min(m.score for m in of_label)
            link = dictionary_link_score(concept)
            for start, end in _occurrences(text, short):
                if not taken.overlaps(start, end):
                    candidates.append(
                        Match(start, end, label, concept, short, score, origin, unsure, link)
                    )
    return labelled, _leftmost_longest(candidates)


def _leftmost_longest(candidates: list[Match]) -> list[Match]:
    """Of overlapping short-form spans, the one that starts first (then the longest) wins;
    spans of one extent (one per label) are kept together."""
    out: list[Match] = []
    reach = -1
    extent = (-1, -1)
    for m in sorted(candidates, key=lambda m: (m.start, -m.end, m.label)):
        if (m.start, m.end) == extent:
            out.append(m)
        elif m.start >= reach:
            out.append(m)
            extent, reach = (m.start, m.end), m.end
    return out
