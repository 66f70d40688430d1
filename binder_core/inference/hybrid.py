"""Hybrid prediction: a dictionary's matches and a model's predictions merged by one rule.

A user has no gold data and cannot tell whether their dictionary or their model is the better
of the two; the hybrid should be at least as good as either. The default rule, ``dictionary``
(:func:`merge_spans`): every certain dictionary match stays, and wins every overlap with a
prediction of other boundaries or another type; every prediction that overlaps no certain match
stays (nested ones included), so the model adds what the dictionary misses. Where the two
agree the dictionary's span dict is kept (it carries the concept id).

Why the dictionary wins its overlaps (``benchmarks/experiments/merge_rules.py`` on the
development suite's gold dev sets, BENCHMARKS.md): where the two overlap they agree 93-98% of
the time, and a prediction that contradicts a match is the one that is wrong (precision
0.15-0.17 on BC5CDR and NCBI-disease, against 0.65-0.81 for the matches it contradicts). On the
suite's four tasks this rule is within 0.5 points of the best rule tried and above both sides
alone on each; the former loss on CoNLL (0.576 against the model's 0.627) came from the margin
of 3 that also dropped the model's own spans, not from the dictionary winning overlaps (at
margin 0: 0.650 against the model's 0.638).

``trust`` weighs both sides in log-odds per overlap instead: a prediction's evidence is its
margin over its threshold (``score = sigmoid(margin)``); a certain match's is its type's *trust*,
``max(MIN_TRUST, logit((agreed + 1) / (total + 2)))``, where *agreed* counts the matches the
model predicts exactly on the documents being tagged (:func:`count_agreement`,
:func:`trust_from_counts`; no gold). A match survives when the model agrees or no overlapping
prediction with other boundaries or another type has a margin above the trust, and removes the
overlapping predictions at or below it. It scored 0.3 points above ``dictionary`` on CoNLL and
0.9-1.7 below on BC5CDR and NCBI-disease. ``model`` is the other extreme (every prediction wins
its overlaps). ``--hybrid-margin`` drops predictions at or below a margin: with a dictionary
stronger than the one the model learned from, the model's extra spans of small margin cost
precision (BC5CDR dev, a 300-step ``dict_core`` model merged with ``dict_core`` + MeSH: 0.846
at margin 0, 0.857 at margin 1, against 0.852 for the dictionary alone), while on CoNLL the
same margin costs 2 points.

Uncertain dictionary spans (fuzzy matches, ambiguous terms, the broad lexicon's untyped spans)
never enter the output. The decisions are made per dictionary span against the model's spans
only, so they do not depend on order. Pure and torch-free.
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
        "dictionary",
        "Where a dictionary match and a prediction overlap: dictionary (the match wins; "
        "the model adds what overlaps no match), trust (the side with more evidence, the "
        "dictionary's trust per type estimated from how often the model reproduces its "
        "matches) or model (the prediction wins).",
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
        if self.trust is not None and self.rule != "trust":
            raise ConfigError(
                f"a hybrid trust only weighs in with the trust rule, not {self.rule!r}; "
                "add --hybrid trust or leave out --hybrid-trust"
            )


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
    rule: str = "dictionary",
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
