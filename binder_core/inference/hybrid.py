"""Hybrid prediction: a dictionary's matches and a model's predictions merged by one rule.

A user has no gold data and cannot tell whether their dictionary or their model is the better
of the two; the hybrid should be at least as good as either. Neither side can simply win
every overlap: a weak dictionary's wrong boundaries and types then replace the model's right
ones (CoNLL with gazetteers: 0.576 against the model's 0.627), and a fixed confidence bar on
the model costs a short-trained model its recall. So both sides' evidence is weighed in the
same unit, log-odds, per overlap (:func:`merge_spans`, rule ``trust``, the default):

- a model span's evidence is its margin over its threshold (``score = sigmoid(margin)``);
- a certain dictionary span's evidence is its type's *trust*: the log-odds that the model
  reproduces a dictionary span of that type, ``logit((agreed + 1) / (total + 2))``, counted on
  the documents being tagged (:func:`count_agreement`, :func:`trust_from_counts`), and at
  least :data:`MIN_TRUST`. No gold is needed. Where the model, trained on this dictionary's
  silver labels, reproduces nearly all of a type's matches, a match it contradicts is more
  likely its own slip (agreement 0.95 -> trust 2.9 logits, about the margin once tuned by hand
  on BC5CDR); where it contradicts many, the model has learned that the type's surface forms
  are unreliable, and its confident readings win.

A dictionary span survives when the model agrees (predicts the same start, end and type) or
no model span that overlaps it with other boundaries or another type has a margin above the
type's trust; it then removes the overlapping model spans whose margin is at most that trust.
A dictionary span beaten by a confident model span is dropped, and the model's spans there
stay. Every model span that overlaps no surviving dictionary span stays, so the model's own
output (nested spans included) is kept wherever the dictionary says nothing, and every certain
dictionary span the model does not contradict is added. The decisions are made per dictionary
span against the model's spans only, so they do not depend on order. Where the two agree the
dictionary's span dict is kept.

``dictionary`` and ``model`` are the two fixed extremes (trust +inf and -inf: that side wins
every overlap). Uncertain dictionary spans (fuzzy matches, ambiguous terms, the broad lexicon's
untyped spans) never enter the output. Pure and torch-free.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from binder_core.contract.errors import ConfigError
from binder_core.contract.options import at_least, check_choice, check_declared, option

HybridRule = Literal["trust", "dictionary", "model"]
HYBRID_RULES: tuple[str, ...] = ("trust", "dictionary", "model")
SpanSource = Callable[[str], Sequence[Mapping[str, Any]]]
"""A text -> contract span dicts function: the dictionary side of a hybrid (the CLI builds one
from a compiled dictionary)."""
AgreementCounts = dict[str, tuple[int, int]]
"""Per type: (dictionary spans the model reproduced exactly, certain dictionary spans)."""
MIN_TRUST = 1.0
"""The least estimated trust: a prediction replaces a dictionary span only above this margin
(score 0.73). A model that reproduces few of its dictionary's matches may have learned better
(a weak dictionary) or may be undertrained, and agreement alone cannot tell the two apart; an
undertrained model's margins are small, so a floor keeps it from overriding the dictionary
(a 3-step model of the sample: margins 0-2.6, most below 1)."""
Trust = Mapping[str, float] | float | None
"""Per-type trust (log-odds), one trust for every type, or None: estimated (see the module)."""


@dataclass(frozen=True)
class HybridOptions:
    """How ``binder evaluate/predict --dictionary`` merge the two sides (declared once here)."""

    rule: HybridRule = option(
        "trust",
        "Where a dictionary match and a prediction overlap: trust (the side with more "
        "evidence, the dictionary's trust per type estimated from how often the model "
        "reproduces its matches), dictionary (the match always wins) or model.",
    )
    model_margin: float = option(
        0.0,
        "A prediction takes part only if its margin over its threshold is above this "
        "(logits; 0 keeps every prediction).",
        bounds=at_least(0),
    )
    trust: float | None = option(
        None,
        "Rule trust: the dictionary's evidence in logits, the same for every type (default: "
        "estimated per type on the documents themselves, no gold needed).",
    )

    def __post_init__(self) -> None:
        check_choice("HybridOptions", "rule", self.rule, HYBRID_RULES)
        check_declared(self)
        if self.trust is not None and math.isnan(self.trust):
            raise ConfigError("HybridOptions.trust must be a number, got nan")


def margin_of(span: Mapping[str, Any]) -> float:
    """A prediction's margin over its threshold, from ``score = sigmoid(margin)``."""
    score = float(span["score"])
    if score >= 1.0:
        return math.inf
    if score <= 0.0:
        return -math.inf
    return math.log(score / (1.0 - score))


def _key(span: Mapping[str, Any]) -> tuple[int, int, str]:
    return (span["start"], span["end"], span["label"])


def _overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return bool(a["start"] < b["end"] and b["start"] < a["end"])


def _participants(
    dictionary_spans: Iterable[Mapping[str, Any]],
    model_spans: Iterable[Mapping[str, Any]],
    model_margin: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The certain dictionary spans, and the predictions above ``model_margin``."""
    if not math.isfinite(model_margin) or model_margin < 0:
        raise ConfigError(f"hybrid model margin must be a number >= 0, got {model_margin}")
    certain = [dict(s) for s in dictionary_spans if not s["uncertain"]]
    predicted = [dict(s) for s in model_spans if margin_of(s) > model_margin]
    return certain, predicted


def count_agreement(
    dictionary_spans: Iterable[Mapping[str, Any]],
    model_spans: Iterable[Mapping[str, Any]],
    model_margin: float = 0.0,
    counts: AgreementCounts | None = None,
) -> AgreementCounts:
    """Add one document to ``counts``: per type, how many of its certain dictionary spans the
    model predicted exactly (same start, end and type; predictions above ``model_margin``),
    out of how many. Returns a new mapping; ``counts`` is left as it was."""
    certain, predicted = _participants(dictionary_spans, model_spans, model_margin)
    out = dict(counts or {})
    keys = {_key(s) for s in predicted}
    for span in certain:
        agreed, total = out.get(span["label"], (0, 0))
        out[span["label"]] = (agreed + (_key(span) in keys), total + 1)
    return out


def trust_from_counts(counts: Mapping[str, tuple[int, int]]) -> dict[str, float]:
    """Per type, ``max(MIN_TRUST, logit((agreed + 1) / (total + 2)))``: the log-odds that the
    model reproduces a dictionary span of that type, with one pseudo-count each way (so no
    count gives an infinite trust), and never below :data:`MIN_TRUST`."""
    return {
        label: max(MIN_TRUST, math.log((agreed + 1) / (total - agreed + 1)))
        for label, (agreed, total) in sorted(counts.items())
    }


def _trust_of(trust: Mapping[str, float] | float, label: str) -> float:
    if isinstance(trust, Mapping):
        return float(trust.get(label, MIN_TRUST))
    return float(trust)


def merge_spans(
    dictionary_spans: Iterable[Mapping[str, Any]],
    model_spans: Iterable[Mapping[str, Any]],
    rule: str = "trust",
    model_margin: float = 0.0,
    trust: Trust = None,
) -> list[dict[str, Any]]:
    """One document's merged spans, sorted by (start, end, label) (the module states the rule).

    ``trust`` (rule ``trust`` only) gives the dictionary's evidence per type (a type it does not
    name: :data:`MIN_TRUST`) or one value for every type; None estimates it from this document alone
    (:func:`count_agreement`); callers with many documents estimate it on all of them.
    """
    if rule not in HYBRID_RULES:
        raise ConfigError(f"hybrid rule must be one of {list(HYBRID_RULES)}, got {rule!r}")
    dictionary_list = list(dictionary_spans)
    model_list = list(model_spans)
    certain, predicted = _participants(dictionary_list, model_list, model_margin)
    if rule == "dictionary":
        trust = math.inf
    elif rule == "model":
        trust = -math.inf
    elif trust is None:
        trust = trust_from_counts(count_agreement(dictionary_list, model_list, model_margin))
    margins = [margin_of(s) for s in predicted]
    keys = {_key(s): i for i, s in enumerate(predicted)}
    kept: list[dict[str, Any]] = []
    dropped_model: set[int] = set()
    for span in certain:
        bar = _trust_of(trust, span["label"])
        agreed = _key(span) in keys
        overlapping = [i for i, m in enumerate(predicted) if _overlap(span, m)]
        beaten = any(margins[i] > bar for i in overlapping if _key(predicted[i]) != _key(span))
        if agreed and rule == "model":
            continue  # the model's identical span stands for both
        if beaten and not agreed:
            continue
        kept.append(span)
        dropped_model.update(i for i in overlapping if margins[i] <= bar)
        if agreed:
            dropped_model.add(keys[_key(span)])
    out = kept + [m for i, m in enumerate(predicted) if i not in dropped_model]
    return sorted(out, key=lambda s: (s["start"], s["end"], s["label"]))


def merge_documents(
    documents: Sequence[tuple[Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]]],
    options: HybridOptions,
    counts: AgreementCounts | None = None,
) -> tuple[list[list[dict[str, Any]]], AgreementCounts]:
    """Merge each ``(dictionary spans, model spans)`` pair of ``documents``.

    With rule ``trust`` and no fixed ``options.trust``, the trust per type is estimated on all
    of ``documents`` together with ``counts`` (the agreement of documents merged before, for a
    caller that merges a stream in chunks). Returns the merged spans and the updated counts.
    """
    total = dict(counts or {})
    for dictionary_spans, model_spans in documents:
        total = count_agreement(dictionary_spans, model_spans, options.model_margin, total)
    trust: Trust = options.trust
    if options.rule == "trust" and trust is None:
        trust = trust_from_counts(total)
    merged = [
        merge_spans(d, m, options.rule, options.model_margin, trust if trust is not None else {})
        for d, m in documents
    ]
    return merged, total
