"""Score a model on labelled Parquet data: decode every window, merge per document, compare.

The same path serves the trainer's dev evaluation and ``binder evaluate``; both sit on the
inference engine (:class:`binder_core.inference.engine.SpanTagger`, torch or ONNX). Gold spans are
the data's spans that are not marked uncertain; a prediction is correct when its (start, end,
label) equals a gold span (:mod:`binder_core.contract.metrics`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple, cast

from binder_core.contract.concepts import SpanLinker, concept_keys
from binder_core.contract.metrics import SpanCounter, SpanScores
from binder_core.contract.schema import Origin, iter_documents
from binder_core.data.dataset import ParquetWindowDataset
from binder_core.data.type_descriptions import check_labels
from binder_core.inference.backends import load_predictor
from binder_core.inference.engine import SpanTagger, check_batch_size, check_decoding, to_span
from binder_core.inference.hybrid import (
    HybridOptions,
    SpanSource,
    merge_documents,
    trust_from_counts,
)
from binder_core.inference.options import INFERENCE_BATCH_SIZE

logger = logging.getLogger(__name__)

HELDOUT = Origin.DICT_HELDOUT.value
"""The origin of a held-out concept's match in a dev set (``silver build --heldout-dict``)."""


def score_dataset(
    predictor: SpanTagger,
    data_dir: str | os.PathLike[str],
    *,
    decoding: str | None = None,
    batch_size: int = INFERENCE_BATCH_SIZE,
    labels: Sequence[str] | None = None,
    dictionary: SpanSource | None = None,
    hybrid: HybridOptions | None = None,
    linker: SpanLinker | None = None,
    systems: dict[str, SpanScores] | None = None,
) -> tuple[SpanScores, int, dict[str, float]]:
    """Micro and per-type exact-match scores of ``predictor`` on ``data_dir``, its document
    count, and the hybrid's trust per type (empty without one).

    ``decoding`` defaults to the predictor's; ``labels`` (default: the predictor's) are the
    types predicted and scored. With ``dictionary`` the predictions are those of the hybrid
    (:func:`binder_core.inference.hybrid.merge_documents` with ``hybrid``, default options): the
    documents are held until all are predicted, since the trust is estimated on all of them.
    Gold spans with origin ``dict_heldout`` (matches of held-out dictionary concepts) are also
    scored as the subset ``heldout``: the share of them predicted exactly. With the data
    config's ``unknown_labels == "error"`` a type in the data that is not among them is a
    :class:`ConfigError`; with ``"ignore"`` its spans are left out of the scores.

    With ``systems`` (a dict to fill) and ``linker``
    (:data:`binder_core.contract.concepts.SpanLinker`),
    the spans are also scored at the concept level
    (:func:`binder_core.contract.concepts.concept_keys`) and ``systems`` gets, for ``model``, and
    with ``dictionary`` for ``dictionary`` and ``hybrid`` too, the span + type scores and
    (``<name>_concept``) the span + type + concept scores, each side's spans linked by ``linker``
    before any merge.
    """
    check_decoding(decoding or predictor.decoding)
    check_batch_size(batch_size)
    label_set = tuple(labels) if labels is not None else predictor.labels
    dataset = ParquetWindowDataset(
        data_dir,
        predictor.tokenizer,
        predictor.data_config,
        label_set,
        max_span_width_tokens=predictor.max_span_width_tokens,
        shuffle=False,
        rank=0,
        world_size=1,
    )
    if predictor.data_config.unknown_labels == "error":
        check_labels(dataset.metadata.labels, label_set, str(data_dir))
    counter = SpanCounter(label_set)
    side_counters: dict[str, SpanCounter] = {}
    held: list[_HeldDocument] = []
    with_text = dictionary is not None or systems is not None
    columns = ["doc_id", "spans"] + (["text"] if with_text else [])
    documents = iter_documents(data_dir, columns=columns)
    for meta, predicted in predictor.predict_windows(
        dataset.iter_windows(), decoding, batch_size, label_set
    ):
        doc = next(documents)
        if doc["doc_id"] != meta.doc_id:
            raise RuntimeError(f"window of {meta.doc_id!r} met document {doc['doc_id']!r}")
        certain = [s for s in doc["spans"] if not s["uncertain"]]
        gold = [(s["start"], s["end"], s["label"]) for s in certain]
        heldout = [k for k, s in zip(gold, certain, strict=True) if s["origin"] == HELDOUT]
        if dictionary is None and systems is None:
            keys = [(p.start, p.end, p.label) for p in predicted]
            counter.update(gold, keys, {"heldout": heldout} if heldout else None)
        else:
            held.append(_HeldDocument(doc["text"], certain, gold, heldout, predicted))
    trust: dict[str, float] = {}
    if held:
        options = hybrid or HybridOptions()
        sides = [_sides(d.text, d.predicted, dictionary, linker) for d in held]
        if dictionary is not None:
            pairs = [(side["dictionary"], side["model"]) for side in sides]
            merged, counts = merge_documents(pairs, options)
            if options.rule == "trust" and options.trust is None:
                trust = trust_from_counts(counts)
            for side, spans in zip(sides, merged, strict=True):
                side["hybrid"] = spans
                # the hybrid's own rule: uncertain dictionary spans never enter any output
                side["dictionary"] = [s for s in side["dictionary"] if not s["uncertain"]]
        for document, side in zip(held, sides, strict=True):
            spans = side["hybrid" if dictionary is not None else "model"]
            keys = [(s["start"], s["end"], s["label"]) for s in spans]
            extra = {"heldout": document.heldout} if document.heldout else None
            counter.update(document.gold, keys, extra)
            if systems is not None:
                _count_sides(side_counters, label_set, document.certain, side, linker is not None)
    logger.info("scored %d documents of %s", counter.documents, data_dir)
    if systems is not None:
        systems.update({name: c.result() for name, c in side_counters.items()})
    return counter.result(), counter.documents, trust


class _HeldDocument(NamedTuple):
    """What a document needs once every document is predicted (the hybrid's trust is estimated
    on all of them)."""

    text: str
    certain: list[dict[str, Any]]  # gold spans not marked uncertain
    gold: list[tuple[int, int, str]]
    heldout: list[tuple[int, int, str]]
    predicted: Sequence[Any]


def _sides(
    text: str,
    predicted: Sequence[Any],
    dictionary: SpanSource | None,
    linker: SpanLinker | None,
) -> dict[str, list[dict[str, Any]]]:
    """One document's spans of the model, and with ``dictionary`` of the dictionary, each
    linked by ``linker`` (when given) before they are merged."""
    sides = {"model": [to_span(p) for p in predicted]}
    if dictionary is not None:
        sides["dictionary"] = [dict(s) for s in dictionary(text)]
    if linker is not None:
        sides = {name: linker(text, spans) for name, spans in sides.items()}
    return sides


def _count_sides(
    counters: dict[str, SpanCounter],
    labels: Sequence[str],
    gold: Sequence[Mapping[str, Any]],
    sides: Mapping[str, Sequence[Mapping[str, Any]]],
    concepts: bool,
) -> None:
    """Add one document's spans of every side to its span (and concept) counters."""
    gold_keys = [(s["start"], s["end"], s["label"]) for s in gold]
    for name, spans in sides.items():
        counters.setdefault(name, SpanCounter(labels)).update(
            gold_keys, [(s["start"], s["end"], s["label"]) for s in spans]
        )
        if concepts:
            gold_concepts, predicted_concepts = concept_keys(gold, spans)
            # concept keys are span keys with a fourth field; the counter reads [0:3] only
            counter = counters.setdefault(name + "_concept", SpanCounter(labels))
            counter.update(cast(Any, gold_concepts), cast(Any, predicted_concepts))


def evaluate(
    model_dir_or_run_dir: str | os.PathLike[str],
    data_dir: str | os.PathLike[str],
    decoding: str | None = None,
    batch_size: int = INFERENCE_BATCH_SIZE,
    *,
    device: str | None = None,
    labels: Sequence[str] | None = None,
    dictionary: SpanSource | None = None,
    hybrid: HybridOptions | None = None,
    amp: str = "auto",
    backend: str = "auto",
    threads: int | None = None,
    linker: SpanLinker | None = None,
) -> dict[str, Any]:
    """Load a saved (or exported, :func:`binder_core.inference.backends.load_predictor`) model and
    score it on ``data_dir``.

    Returns ``{"precision", "recall", "f1", <counts>, "macro_f1", "per_label": {...}}`` plus
    ``"documents"`` and ``"decoding"`` (default: the model's own). ``labels`` restricts
    scoring to some of the model's types (spans of other types in the data are then ignored);
    ``dictionary`` scores the hybrid of the model and that dictionary (see
    :func:`score_dataset`). With ``dictionary`` or ``linker``, ``"systems"`` holds, for the
    model alone, the dictionary alone and the hybrid, span + type and (with ``linker``) span +
    type + concept micro and per-type scores.
    """
    if decoding is not None:
        check_decoding(decoding)
    predictor = load_predictor(
        model_dir_or_run_dir, backend=backend, device=device, amp=amp, threads=threads
    )
    decoding = decoding or predictor.decoding
    scored = predictor.labels
    if labels is not None:
        check_labels(labels, predictor.labels, "--labels")
        predictor.data_config = replace(predictor.data_config, unknown_labels="ignore")
        scored = tuple(label for label in predictor.labels if label in set(labels))
    systems: dict[str, SpanScores] | None = (
        {} if dictionary is not None or linker is not None else None
    )
    result, documents, trust = score_dataset(
        predictor, data_dir, decoding=decoding, batch_size=batch_size, labels=scored,
        dictionary=dictionary, hybrid=hybrid, linker=linker, systems=systems,
    )  # fmt: skip
    scores = result.to_dict()
    if systems is not None:
        scores["systems"] = {name: s.to_dict() for name, s in systems.items()}
    scores["documents"] = documents
    scores["decoding"] = decoding
    scores["backend"] = predictor.backend
    if dictionary is not None:
        options = hybrid or HybridOptions()
        scores["hybrid"] = options.rule
        scores["hybrid_model_margin"] = options.model_margin
        if options.rule == "trust":
            scores["hybrid_trust"] = trust or {
                label: options.trust for label in scored if options.trust is not None
            }
    return scores
