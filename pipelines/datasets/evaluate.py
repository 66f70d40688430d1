"""Exact-match evaluation of silver (or any) spans against gold: ``binder silver eval``.

Both data sets are streamed through :func:`binder_core.contract.schema.iter_documents`, so the
schema is checked; memory holds the gold spans (gold sets are small) and one record batch of silver.

Rules:

* A silver span is correct when a gold span of the same document has the same start, end and
  label (:mod:`binder_core.contract.metrics`).
* Documents are joined on ``doc_id``; a pair whose texts differ is an error, since offsets would
  not be comparable.
* Uncertain silver spans are predictions like any other by default (``uncertain="include"``);
  ``"exclude"`` drops them before scoring. Either way their number is reported.
* Spans labelled :data:`~binder_core.contract.schema.ANY_LABEL` (``"*"``, the uncertain-dictionary
  matches) have no type, so they are never predictions, whatever ``uncertain`` says; they are
  counted as ``silver_any_label``.
* ``uncertain`` in the report measures what the uncertain spans buy and cost for training:
  ``gold_missed`` gold spans of the matched documents that no *certain* silver span gets
  right, of which ``gold_missed_covered`` have an uncertain span of the same extent and of
  their label or ANY_LABEL (for training they are then no longer negatives), and
  ``spans_not_gold`` uncertain spans with no gold span of that extent (and label, unless
  ANY_LABEL): negatives lost.
* Gold documents missing from the silver count as documents with no predictions, so their gold
  spans are false negatives (``missing="false-negatives"``); ``"skip"`` leaves them out. Silver
  documents without gold are never scored. Both are counted, with example ids.
* Only the gold set's labels are scored unless ``labels`` is given; silver spans of other labels
  are counted as ``silver_other_labels`` and not scored.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.metrics import SpanCounter, SpanKey
from binder_core.contract.options import option
from binder_core.contract.schema import ANY_LABEL, iter_documents, open_dataset

UncertainPolicy = Literal["include", "exclude"]
MissingPolicy = Literal["false-negatives", "skip"]
UNCERTAIN_POLICIES: tuple[str, ...] = get_args(UncertainPolicy)
MISSING_POLICIES: tuple[str, ...] = get_args(MissingPolicy)
EXAMPLE_IDS = 10  # doc ids listed per category in the eval report


@dataclass(frozen=True)
class EvalConfig:
    """How ``binder silver eval`` scores silver spans against gold (see the module docstring)."""

    uncertain: UncertainPolicy = option(
        "include",
        "include: uncertain silver spans are predictions; exclude: drop them first. Spans of "
        "any type ('*', from --uncertain-dict) are never predictions.",
    )
    missing: MissingPolicy = option(
        "false-negatives",
        "Gold documents absent from the silver: their spans count as false negatives, or skip "
        "them. Silver documents without gold are never scored. Both are reported.",
    )
    labels: tuple[str, ...] = option(
        (), "Score only this label (repeatable); default: the gold labels."
    )

    def __post_init__(self) -> None:
        if self.uncertain not in UNCERTAIN_POLICIES:
            raise ConfigError(
                f"uncertain must be one of {UNCERTAIN_POLICIES}, got {self.uncertain!r}"
            )
        if self.missing not in MISSING_POLICIES:
            raise ConfigError(f"missing must be one of {MISSING_POLICIES}, got {self.missing!r}")


def _text_digest(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


_COVERAGE_KEYS = ("gold_missed", "gold_missed_covered", "spans", "spans_not_gold")


def _uncertain_coverage(
    silver: Iterable[Mapping[str, Any]], gold: set[SpanKey], labels: Iterable[str]
) -> Counter[str]:
    """One document's ``uncertain`` counts of the report (see the module docstring)."""
    scored = set(labels)
    certain = {(s["start"], s["end"], s["label"]) for s in silver if not s["uncertain"]}
    unsure = [s for s in silver if s["uncertain"] and (s["label"] in scored or
                                                       s["label"] == ANY_LABEL)]  # fmt: skip
    unsure_keys = {(s["start"], s["end"], s["label"]) for s in unsure}
    missed = [k for k in gold if k[2] in scored and k not in certain]
    gold_extents = {(k[0], k[1]) for k in gold}
    return Counter(
        gold_missed=len(missed),
        gold_missed_covered=sum(
            k in unsure_keys or (k[0], k[1], ANY_LABEL) in unsure_keys for k in missed
        ),
        spans=len(unsure),
        spans_not_gold=sum(
            (s["start"], s["end"]) not in gold_extents
            if s["label"] == ANY_LABEL
            else (s["start"], s["end"], s["label"]) not in gold
            for s in unsure
        ),
    )


def silver_eval(
    silver: str | os.PathLike[str],
    gold: str | os.PathLike[str],
    config: EvalConfig | None = None,
) -> dict[str, Any]:
    """Exact span + label P/R/F1 of ``silver`` against ``gold``; a JSON-ready dict.

    Top-level keys: ``precision``, ``recall``, ``f1`` (micro), the counts, ``macro_f1``,
    ``per_label``, ``labels``, ``documents``, ``spans`` and ``options``.
    """
    config = config or EvalConfig()
    _, gold_meta = open_dataset(gold)
    open_dataset(silver)  # check the schema before reading anything
    gold_docs: dict[str, tuple[bytes, set[SpanKey]]] = {}
    for doc in iter_documents(gold, columns=("doc_id", "text", "spans")):
        if doc["doc_id"] in gold_docs:
            raise InputError(f"document id {doc['doc_id']!r} appears twice; ids must be unique",
                             path=str(gold))  # fmt: skip
        keys = {(s["start"], s["end"], s["label"]) for s in doc["spans"]}
        gold_docs[doc["doc_id"]] = (_text_digest(doc["text"]), keys)
    labels = config.labels or tuple(
        sorted(set(gold_meta.labels) | {k[2] for _, ks in gold_docs.values() for k in ks})
    )
    counter = SpanCounter(labels)
    seen: set[str] = set()
    silver_only: list[str] = []
    duplicates: list[str] = []
    spans = Counter[str]()
    for doc in iter_documents(silver, columns=("doc_id", "text", "spans")):
        doc_id = doc["doc_id"]
        spans["silver"] += len(doc["spans"])
        if doc_id not in gold_docs:
            silver_only.append(doc_id)
            continue
        if doc_id in seen:
            duplicates.append(doc_id)
            continue
        seen.add(doc_id)
        digest, gold_keys = gold_docs[doc_id]
        if _text_digest(doc["text"]) != digest:
            raise InputError(
                f"document {doc_id!r} has a different text than in the gold set {gold}; "
                "offsets cannot be compared (build the silver from the same texts)",
                path=str(silver),
            )
        predicted: list[SpanKey] = []
        for s in doc["spans"]:
            spans["silver_uncertain"] += s["uncertain"]
            if s["label"] == ANY_LABEL:
                spans["silver_any_label"] += 1
            elif s["uncertain"] and config.uncertain == "exclude":
                spans["uncertain_excluded"] += 1
            elif s["label"] not in labels:
                spans["silver_other_labels"] += 1
            else:
                predicted.append((s["start"], s["end"], s["label"]))
        counter.update(gold_keys, predicted)
        spans.update(_uncertain_coverage(doc["spans"], gold_keys, labels))
    gold_only = sorted(d for d in gold_docs if d not in seen)
    if config.missing == "false-negatives":
        for doc_id in gold_only:
            counter.update(gold_docs[doc_id][1], ())
    scores = counter.result().to_dict()
    return {
        **scores,
        "labels": list(labels),
        "documents": {
            "gold": len(gold_docs),
            "matched": len(seen),
            "scored": counter.documents,
            "gold_only": len(gold_only),
            "silver_only": len(silver_only),
            "silver_duplicates": len(duplicates),
            "gold_only_examples": gold_only[:EXAMPLE_IDS],
            "silver_only_examples": silver_only[:EXAMPLE_IDS],
        },
        "spans": {
            "gold": sum(len(ks) for _, ks in gold_docs.values()),
            "silver": spans["silver"],
            "silver_uncertain": spans["silver_uncertain"],
            "uncertain_excluded": spans["uncertain_excluded"],
            "silver_other_labels": spans["silver_other_labels"],
            "silver_any_label": spans["silver_any_label"],
        },
        "uncertain": {key: spans[key] for key in _COVERAGE_KEYS},
        "options": {"uncertain": config.uncertain, "missing": config.missing},
        "silver": str(silver),
        "gold": str(gold),
    }
