"""Self-training: add a model's predictions to silver labels for the next round of training.

One round is ``binder predict RUN SILVER preds.parquet`` on the silver folder itself, then
``binder silver augment SILVER preds.parquet OUT``. For each document, the predicted spans that
the dictionary did not give are added:

* a prediction equal to a silver span (offsets and label) agrees with the dictionary: nothing
  is added;
* a prediction that overlaps a typed silver span (certain or uncertain) loses to it: the
  dictionary decides where its matches are, and the prediction is dropped (counted);
* a broad-lexicon span (label ``*``: "some entity, type unknown") does not block a prediction:
  a confident prediction that overlaps only such spans replaces them (the model supplies the
  type the lexicon lacked); one below ``min_score`` is added as uncertain beside them;
* any other prediction is added, with ``origin = "model"``. With ``score >= min_score`` it is a
  positive; below it, it is added as *uncertain*: the model thinks it is an entity, the
  dictionary does not know it, so it is neither taught as an entity nor as a non-entity
  (``binder train --uncertain exclude``).

Every predicted span lands in exactly one of these four counts, and every document of the silver
set is written once, so ``predicted = agreed + overlapping + added + added_uncertain`` and the
document counts of input and output are equal.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from binder_core.contract.atomic import write_json_atomic
from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.outputs import check_output_path, output_folder
from binder_core.contract.schema import (
    ANY_LABEL,
    MANIFEST_NAME,
    SCHEMA_VERSION,
    Origin,
    document_schema,
    iter_documents,
    iter_shard,
    open_dataset,
    write_documents,
)

AGREED = "agreed_with_dictionary"
OVERLAPPING = "overlapping_dictionary"
ADDED = "added"
ADDED_UNCERTAIN = "added_uncertain"
PREDICTION_COUNTS = (AGREED, OVERLAPPING, ADDED, ADDED_UNCERTAIN)
BROAD_REPLACED = "broad_spans_replaced"  # silver '*' spans a confident prediction typed


@dataclass(frozen=True)
class AugmentResult:
    out_dir: Path
    documents: int
    counts: dict[str, int]
    manifest: dict[str, Any]


def augment_spans(
    silver: Iterable[Mapping[str, Any]],
    predicted: Iterable[Mapping[str, Any]],
    min_score: float,
) -> tuple[list[dict[str, Any]], Counter[str]]:
    """ONE document's silver spans plus the predictions the dictionary left out (see module).

    Predictions are considered best score first, so of two overlapping predictions the more
    confident one is kept. Returns the new span list and the count of each prediction's fate.
    """
    spans = [dict(s) for s in silver]
    exact = {(s["start"], s["end"], s["label"]) for s in spans}
    taken = [(s["start"], s["end"]) for s in spans if s["label"] != ANY_LABEL]
    counts: Counter[str] = Counter(dict.fromkeys(PREDICTION_COUNTS, 0))
    for p in sorted(predicted, key=lambda s: (-s["score"], s["start"], s["end"], s["label"])):
        if (p["start"], p["end"], p["label"]) in exact:
            counts[AGREED] += 1
        elif any(p["start"] < end and start < p["end"] for start, end in taken):
            counts[OVERLAPPING] += 1
        else:
            confident = p["score"] >= min_score
            if confident:  # typed now: the untyped broad-lexicon spans it overlaps give way
                kept = [s for s in spans if not (s["label"] == ANY_LABEL
                        and p["start"] < s["end"] and s["start"] < p["end"])]  # fmt: skip
                if len(kept) < len(spans):
                    counts[BROAD_REPLACED] += len(spans) - len(kept)
                spans = kept
            spans.append({**p, "origin": Origin.MODEL.value, "uncertain": not confident})
            taken.append((p["start"], p["end"]))
            counts[ADDED if confident else ADDED_UNCERTAIN] += 1
    return spans, counts


def augment_silver(
    silver_path: str | os.PathLike[str],
    predictions_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    min_score: float = 0.9,
    *,
    overwrite: bool = False,
) -> AugmentResult:
    """Write ``silver_path`` plus the predictions of ``predictions_path`` to ``out_dir``.

    Predictions must cover the silver documents in the same order (predict on the silver folder
    itself); each output shard mirrors an input shard.
    """
    if not 0.0 <= min_score <= 1.0:
        raise ConfigError(f"--min-score must lie in [0, 1], got {min_score}")
    shards, meta = open_dataset(silver_path)
    _, pred_meta = open_dataset(predictions_path)
    unknown = sorted(set(pred_meta.labels) - set(meta.labels))
    if unknown:
        raise ConfigError(
            f"{predictions_path}: predicted types {unknown} are not in the silver labels "
            f"{list(meta.labels)}; predict with a model trained on this silver set"
        )
    inputs = (silver_path, predictions_path)
    check_output_path(out_dir, inputs=inputs, overwrite=overwrite, kind="augment")
    with output_folder(out_dir, "augment", inputs=inputs, overwrite=overwrite) as tmp:
        manifest, documents, counts = _augment(shards, meta, silver_path, predictions_path,
                                               tmp, min_score)  # fmt: skip
    return AugmentResult(Path(out_dir), documents, dict(counts), manifest)


def _augment(
    shards: list[Path],
    meta: Any,
    silver_path: str | os.PathLike[str],
    predictions_path: str | os.PathLike[str],
    out: Path,
    min_score: float,
) -> tuple[dict[str, Any], int, Counter[str]]:
    extra = {**meta.extra, "self_training": {"predictions": str(predictions_path)}}
    schema = document_schema(meta.labels, meta.dictionary_fingerprint, extra=extra)
    predictions = iter_documents(predictions_path, columns=["doc_id", "text", "spans"])
    counts: Counter[str] = Counter(dict.fromkeys(PREDICTION_COUNTS, 0))
    documents = silver_spans = 0
    for shard in shards:
        rows = []
        for doc in iter_shard(shard):
            pred = next(predictions, None)
            if pred is None or pred["doc_id"] != doc["doc_id"] or pred["text"] != doc["text"]:
                found = "the end of the file" if pred is None else f"document {pred['doc_id']!r}"
                raise InputError(
                    f"expected a prediction for document {doc['doc_id']!r}, found {found}; "
                    f"run `binder predict` on {silver_path} itself",
                    path=str(predictions_path),
                )
            silver_spans += len(doc["spans"])
            doc["spans"], doc_counts = augment_spans(doc["spans"], pred["spans"], min_score)
            counts.update(doc_counts)
            rows.append(doc)
        documents += len(rows)
        write_documents(rows, out / shard.name, schema)
    extra_doc = next(predictions, None)
    if extra_doc is not None:
        raise InputError(
            f"prediction for document {extra_doc['doc_id']!r} has no silver document; "
            f"run `binder predict` on {silver_path} itself",
            path=str(predictions_path),
        )
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "kind": "self_training",
        "silver": str(silver_path),
        "predictions": str(predictions_path),
        "min_score": min_score,
        "counts": {
            "documents": documents,
            "silver_spans": silver_spans,
            "predicted_spans": sum(counts[key] for key in PREDICTION_COUNTS),
            **{key: counts[key] for key in PREDICTION_COUNTS},
            BROAD_REPLACED: counts[BROAD_REPLACED],
            "spans_written": silver_spans
            - counts[BROAD_REPLACED]
            + counts[ADDED]
            + counts[ADDED_UNCERTAIN],
        },
    }
    write_json_atomic(out / MANIFEST_NAME, manifest)
    return manifest, documents, counts
