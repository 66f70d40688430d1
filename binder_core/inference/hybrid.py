"""Hybrid prediction: a dictionary's matches and a model's predictions merged by one rule.

A user with a good dictionary wants its confident matches *and* the entities it misses. The
rule, stated once (:func:`merge_spans`):

- ``dictionary`` (the default): every certain, typed dictionary span is kept; a model span is
  added when it overlaps none of them. A dictionary match is an exact, curated name, and on
  BC5CDR dev its precision is above the model's, so where the two disagree about a stretch of
  text the dictionary's reading wins; the model contributes the mentions the dictionary has no
  entry for (BENCHMARKS.md, hybrid prediction).
- ``model``: the reverse: model spans are kept and a dictionary span is added only where it
  overlaps no model span.

Only model spans whose margin over their threshold exceeds ``model_margin`` take part
(:data:`DEFAULT_MODEL_MARGIN`; a prediction's ``score`` is the sigmoid of its margin). A span
the model barely puts above its threshold is less precise than a dictionary match; on BC5CDR dev
(dict_core + MeSH, the 2,500-step silver model) the hybrid's F1 rose from 0.851 at margin 0 to
0.858 at 3 and was flat beyond (BENCHMARKS.md, hybrid rule). Uncertain dictionary spans (fuzzy
matches, ambiguous terms, the broad lexicon's untyped spans) never enter the output. Pure and
torch-free.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from binder_core.contract.errors import ConfigError

HybridRule = Literal["dictionary", "model"]
HYBRID_RULES: tuple[str, ...] = ("dictionary", "model")
DEFAULT_MODEL_MARGIN = 3.0
"""A model span joins a hybrid when its margin over its threshold exceeds this (logits)."""
SpanSource = Callable[[str], Sequence[Mapping[str, Any]]]
"""A text -> contract span dicts function: the dictionary side of a hybrid (the CLI builds one
from a compiled dictionary)."""


def _overlaps(kept: list[tuple[int, int]], starts: list[int], start: int, end: int) -> bool:
    """Whether [start, end) overlaps a span of ``kept`` (sorted, non-overlapping by start)."""
    i = bisect.bisect_right(starts, start)
    if i > 0 and kept[i - 1][1] > start:
        return True
    return i < len(kept) and kept[i][0] < end


def merge_spans(
    dictionary_spans: Iterable[Mapping[str, Any]],
    model_spans: Iterable[Mapping[str, Any]],
    rule: str = "dictionary",
    model_margin: float = DEFAULT_MODEL_MARGIN,
) -> list[dict[str, Any]]:
    """One document's merged spans, sorted by (start, end, label) (see the module docstring).

    Model spans with a margin of ``model_margin`` or less (``score <= sigmoid(model_margin)``)
    are left out first. The preferred side is kept whole, nested or overlapping spans included;
    a span of the other side is added only if it overlaps no preferred span (and no span added
    before it, taken in order of start).
    """
    if rule not in HYBRID_RULES:
        raise ConfigError(f"hybrid rule must be one of {list(HYBRID_RULES)}, got {rule!r}")
    if not math.isfinite(model_margin) or model_margin < 0:
        raise ConfigError(f"hybrid model margin must be a number >= 0, got {model_margin}")
    min_score = 1.0 / (1.0 + math.exp(-model_margin))
    certain = [dict(s) for s in dictionary_spans if not s["uncertain"]]
    predicted = [dict(s) for s in model_spans if model_margin == 0 or s["score"] > min_score]
    first, second = (certain, predicted) if rule == "dictionary" else (predicted, certain)
    out = list(first)
    # the covered stretches of the preferred side, merged into disjoint intervals
    covered: list[tuple[int, int]] = []
    for span in sorted(first, key=lambda s: (s["start"], s["end"])):
        if covered and span["start"] < covered[-1][1]:
            covered[-1] = (covered[-1][0], max(covered[-1][1], span["end"]))
        else:
            covered.append((span["start"], span["end"]))
    covered_starts = [c[0] for c in covered]
    added: list[tuple[int, int]] = []
    added_starts: list[int] = []
    for span in sorted(second, key=lambda s: (s["start"], s["end"], s["label"])):
        start, end = span["start"], span["end"]
        if _overlaps(covered, covered_starts, start, end):
            continue
        if _overlaps(added, added_starts, start, end):
            continue
        i = bisect.bisect_right(added_starts, start)
        added.insert(i, (start, end))
        added_starts.insert(i, start)
        out.append(span)
    return sorted(out, key=lambda s: (s["start"], s["end"], s["label"]))
