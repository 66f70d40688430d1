"""Exact-match span metrics: precision, recall and F1 over (start, end, label), micro and per type.

A predicted span counts as correct only when its start, end *and* label equal a gold span of the
same document. Spans are compared as sets per document, so a duplicate counts once. Offsets are
whatever the caller uses consistently (character offsets in the Parquet contract).

Zero-division convention: precision is 0.0 with no predictions, recall is 0.0 with no gold spans,
and F1 is 0.0 when precision + recall is 0 (scikit-learn's ``zero_division=0``).

Pure Python and torch-free: the silver evaluation and the trainer's ``binder evaluate`` both use
it. :class:`SpanCounter` accumulates counts document by document (and merges across workers);
:func:`score_documents` is the one-call form.

Nested data (GENIA) also gets a *nested recall*: of the gold spans that contain, or lie inside,
another gold span of the same document, the share predicted exactly. A flat decoder can find at
most one span of each nested pair; this number shows whether nesting is recovered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SpanKey = tuple[int, int, str]
"""``(start, end, label)``: half-open offsets and the entity type."""


@dataclass(frozen=True)
class PRF:
    """Counts of one label (or of all labels, for micro) and the scores derived from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __post_init__(self) -> None:
        if min(self.tp, self.fp, self.fn) < 0:
            raise ValueError(f"negative count in {self!r}")

    @property
    def predicted(self) -> int:
        """Number of predicted spans (tp + fp)."""
        return self.tp + self.fp

    @property
    def support(self) -> int:
        """Number of gold spans (tp + fn)."""
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        return self.tp / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.support if self.support else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: PRF) -> PRF:
        return PRF(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def to_dict(self) -> dict[str, float | int]:
        """JSON-ready: scores, then the counts they come from."""
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "predicted": self.predicted,
            "support": self.support,
        }


@dataclass(frozen=True)
class SpanScores:
    """Micro scores over all labels, and one :class:`PRF` per label (sorted by label)."""

    micro: PRF
    per_label: Mapping[str, PRF] = field(default_factory=dict)
    nested_support: int = 0  # gold spans that contain or lie inside another gold span
    nested_found: int = 0  # of those, predicted exactly
    subsets: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """Named subsets of the gold spans (e.g. the held-out concepts): (support, found)."""

    def subset_recall(self, name: str) -> float:
        support, found = self.subsets.get(name, (0, 0))
        return found / support if support else 0.0

    @property
    def nested_recall(self) -> float:
        return self.nested_found / self.nested_support if self.nested_support else 0.0

    @property
    def macro_f1(self) -> float:
        """Unweighted mean of the per-label F1 (0.0 with no labels)."""
        if not self.per_label:
            return 0.0
        return sum(s.f1 for s in self.per_label.values()) / len(self.per_label)

    def to_dict(self) -> dict[str, Any]:
        """``{"precision", "recall", "f1", <counts>, "macro_f1", "per_label": {label: {...}}}``."""
        out: dict[str, Any] = {
            **self.micro.to_dict(),
            "macro_f1": self.macro_f1,
            "per_label": {label: s.to_dict() for label, s in self.per_label.items()},
        }
        if self.nested_support:
            out["nested"] = {
                "support": self.nested_support,
                "found": self.nested_found,
                "recall": self.nested_recall,
            }
        for name, (support, found) in sorted(self.subsets.items()):
            out[name] = {"support": support, "found": found, "recall": self.subset_recall(name)}
        return out


def match_counts(gold: Iterable[SpanKey], predicted: Iterable[SpanKey]) -> dict[str, PRF]:
    """Per-label counts for ONE document. Spans of different documents must never be mixed."""
    gold_set, pred_set = set(gold), set(predicted)
    labels = {k[2] for k in gold_set} | {k[2] for k in pred_set}
    out: dict[str, PRF] = {}
    for label in labels:
        g = {k for k in gold_set if k[2] == label}
        p = {k for k in pred_set if k[2] == label}
        tp = len(g & p)
        out[label] = PRF(tp=tp, fp=len(p) - tp, fn=len(g) - tp)
    return out


def nested_spans(spans: Iterable[SpanKey]) -> set[SpanKey]:
    """The spans of ONE document that contain, or lie inside, another of its spans (any label).

    Two spans with the same offsets and different labels count as nested too.
    """
    ordered = sorted(set(spans), key=lambda k: (k[0], -k[1]))
    out: set[SpanKey] = set()
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b[0] >= a[1]:
                break  # sorted by start: no later span starts inside a
            if b[1] <= a[1]:  # b starts inside a and ends inside it: nested
                out.update((a, b))
    return out


class SpanCounter:
    """Accumulate exact-match counts document by document; :meth:`result` gives the scores.

    ``labels`` fixes the label set: spans of other labels are ignored, and every listed label
    appears in the result even with no spans. Without it, the labels seen are reported.
    """

    def __init__(self, labels: Iterable[str] | None = None) -> None:
        self._only = frozenset(labels) if labels is not None else None
        self._counts: dict[str, PRF] = {label: PRF() for label in (self._only or ())}
        self.documents = 0
        self._nested_support = 0
        self._nested_found = 0
        self._subsets: dict[str, tuple[int, int]] = {}

    def update(
        self,
        gold: Iterable[SpanKey],
        predicted: Iterable[SpanKey],
        subsets: Mapping[str, Iterable[SpanKey]] | None = None,
    ) -> None:
        """Add one document's gold and predicted spans, and the recall of named ``subsets`` of
        its gold spans (each counted whatever else the document holds)."""
        if self._only is not None:
            gold = [k for k in gold if k[2] in self._only]
            predicted = [k for k in predicted if k[2] in self._only]
        gold, predicted = list(gold), list(predicted)
        predicted_set = set(predicted)
        for name, keys in (subsets or {}).items():
            wanted = {k for k in keys if self._only is None or k[2] in self._only}
            support, found = self._subsets.get(name, (0, 0))
            self._subsets[name] = (support + len(wanted), found + len(wanted & predicted_set))
        for label, prf in match_counts(gold, predicted).items():
            self._counts[label] = self._counts.get(label, PRF()) + prf
        nested = nested_spans(gold)
        self._nested_support += len(nested)
        self._nested_found += len(nested & set(predicted))
        self.documents += 1

    def merge(self, other: SpanCounter) -> None:
        """Add another counter's counts (e.g. from another worker or rank)."""
        for label, prf in other._counts.items():
            self._counts[label] = self._counts.get(label, PRF()) + prf
        self.documents += other.documents
        self._nested_support += other._nested_support
        self._nested_found += other._nested_found
        for name, (support, found) in other._subsets.items():
            mine = self._subsets.get(name, (0, 0))
            self._subsets[name] = (mine[0] + support, mine[1] + found)

    def result(self) -> SpanScores:
        per_label = {label: self._counts[label] for label in sorted(self._counts)}
        micro = sum(per_label.values(), PRF())
        return SpanScores(
            micro=micro,
            per_label=per_label,
            nested_support=self._nested_support,
            nested_found=self._nested_found,
            subsets=dict(self._subsets),
        )


def score_documents(
    pairs: Iterable[tuple[Iterable[SpanKey], Iterable[SpanKey]]],
    labels: Iterable[str] | None = None,
) -> SpanScores:
    """Score ``(gold_spans, predicted_spans)`` pairs, one pair per document."""
    counter = SpanCounter(labels)
    for gold, predicted in pairs:
        counter.update(gold, predicted)
    return counter.result()


def span_keys(spans: Iterable[Mapping[str, Any]]) -> set[SpanKey]:
    """``(start, end, label)`` of schema span dicts (see ``schema.make_span``)."""
    return {(int(s["start"]), int(s["end"]), str(s["label"])) for s in spans}
