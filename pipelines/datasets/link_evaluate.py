"""How well the linker grounds gold mentions: ``binder link evaluate``.

Every gold span is linked from its surface and gold label, in its document (so a defined short
form is linked by its long form), and scored against its gold concept id.

Rules:

* A gold id field may hold several ids (a composite mention, "D001|D002"; NCBI-disease also
  uses ``+`` and ``,``): the mention is right when the linker gives any of them.
* A mention is *held* when the dictionary holds one of its gold ids (under any label). Only
  held mentions are scored; the others, and mentions with no gold id, are counted apart: no
  linker over this dictionary can ground them, and abstaining on them is right.
* accuracy@1: the chosen concept is a gold id (an abstained mention is wrong); accuracy@k: a
  gold id is among the first ``k`` candidates, abstained or not; abstained: the share of
  mentions left with ``concept_id = ""``.
* Each figure is given overall, per label, and split by whether the dictionary matches the
  surface exactly (its folded form is a key of that label): ``not_exact`` is the share the
  linker is there for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from binder_core.contract.concepts import gold_ids
from binder_core.contract.schema import ANY_LABEL, iter_documents
from dictionaries.linking.linker import Linker


@dataclass
class LinkTally:
    """Counts over scored mentions."""

    mentions: int = 0
    correct_at_1: int = 0
    correct_at_k: int = 0
    abstained: int = 0

    def add(self, at_1: bool, at_k: bool, abstained: bool) -> None:
        self.mentions += 1
        self.correct_at_1 += at_1
        self.correct_at_k += at_k
        self.abstained += abstained

    def to_dict(self, k: int) -> dict[str, Any]:
        n = self.mentions
        return {
            "mentions": n,
            "accuracy@1": self.correct_at_1 / n if n else 0.0,
            f"accuracy@{k}": self.correct_at_k / n if n else 0.0,
            "abstained": self.abstained / n if n else 0.0,
        }


@dataclass
class LinkReport:
    """Accuracy of the linker on one gold set (see the module docstring)."""

    top_k: int
    overall: LinkTally = field(default_factory=LinkTally)
    per_label: dict[str, LinkTally] = field(default_factory=dict)
    exact: LinkTally = field(default_factory=LinkTally)
    not_exact: LinkTally = field(default_factory=LinkTally)
    not_exact_per_label: dict[str, LinkTally] = field(default_factory=dict)
    not_held: LinkTally = field(default_factory=LinkTally)  # gold ids the dictionary lacks
    no_gold_id: int = 0
    documents: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)  # a sample of wrong links

    def to_dict(self) -> dict[str, Any]:
        k = self.top_k
        return {
            **self.overall.to_dict(k),
            "per_label": {lab: t.to_dict(k) for lab, t in sorted(self.per_label.items())},
            "exact": self.exact.to_dict(k),
            "not_exact": self.not_exact.to_dict(k),
            "not_exact_per_label": {
                lab: t.to_dict(k) for lab, t in sorted(self.not_exact_per_label.items())
            },
            "not_held": {
                "mentions": self.not_held.mentions,
                "abstained": self.not_held.to_dict(k)["abstained"],
            },
            "no_gold_id": self.no_gold_id,
            "documents": self.documents,
            "errors": self.errors,
        }


ExactTest = Callable[[str, str], bool]
"""``(surface, label) -> bool``: whether the dictionary matches the surface exactly."""


def evaluate_linking(
    documents: Iterable[Mapping[str, Any]],
    linker: Linker,
    is_exact: ExactTest,
    max_errors: int = 200,
) -> LinkReport:
    """Link every gold span of ``documents`` and tally the results (see the module docstring)."""
    held_ids = set(linker.index.concepts)
    report = LinkReport(top_k=linker.index.config.top_k)
    for doc in documents:
        report.documents += 1
        text = doc["text"]
        spans = [s for s in doc["spans"] if s["label"] != ANY_LABEL]
        wanted = [(s, gold_ids(s["concept_id"])) for s in spans]
        report.no_gold_id += sum(1 for _, ids in wanted if not ids)
        wanted = [(s, ids) for s, ids in wanted if ids]
        links = linker.link_in_document(
            text, [(s["start"], s["end"], s["label"]) for s, _ in wanted]
        )
        for (span, ids), link in zip(wanted, links, strict=True):
            abstained = not link.concept_id
            if not ids & held_ids:
                report.not_held.add(False, False, abstained)
                continue
            label = span["label"]
            surface = text[span["start"] : span["end"]]
            at_1 = link.concept_id in ids
            at_k = any(c.concept_id in ids for c in link.candidates)
            report.overall.add(at_1, at_k, abstained)
            report.per_label.setdefault(label, LinkTally()).add(at_1, at_k, abstained)
            if is_exact(surface, label):
                report.exact.add(at_1, at_k, abstained)
            else:
                report.not_exact.add(at_1, at_k, abstained)
                report.not_exact_per_label.setdefault(label, LinkTally()).add(at_1, at_k, abstained)
            if not at_1 and not is_exact(surface, label) and len(report.errors) < max_errors:
                report.errors.append(
                    {
                        "doc_id": str(doc["doc_id"]),
                        "surface": surface,
                        "label": label,
                        "gold": "|".join(sorted(ids)),
                        "linked": link.concept_id,
                        "name": link.name,
                        "score": f"{link.score:.3f}",
                        "abstain": link.abstain.value,
                    }
                )
    return report


def evaluate_linking_dataset(
    gold: str | os.PathLike[str], linker: Linker, is_exact: ExactTest
) -> LinkReport:
    """:func:`evaluate_linking` over a gold data set (contract Parquet, schema checked)."""
    return evaluate_linking(iter_documents(gold), linker, is_exact)
