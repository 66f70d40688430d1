"""Score a model on labelled Parquet data: decode every window, merge per document, compare.

The same path serves the trainer's dev evaluation and ``binder evaluate``. Gold spans are the
data's spans that are not marked uncertain; a prediction is correct when its (start, end, label)
equals a gold span (:mod:`binder_core.metrics`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import torch

from binder_core.data import (
    Collator,
    DataConfig,
    ParquetWindowDataset,
    TypeInputs,
    WindowMeta,
)
from binder_core.decoding import (
    SpanPrediction,
    decode_batch_vectors,
    decode_flat,
    decode_nested,
    merge_windows,
)
from binder_core.errors import ConfigError, InputError
from binder_core.metrics import SpanCounter, SpanScores
from binder_core.model import CONFIG_NAME, BinderModel, TypeVectors
from binder_core.schema import iter_documents

logger = logging.getLogger(__name__)

Decoding = Literal["flat", "nested"]
DECODINGS: tuple[str, ...] = ("flat", "nested")
BEST_DIR = "best"


def resolve_model_dir(path: str | os.PathLike[str]) -> Path:
    """A model directory: ``path`` itself when it holds a saved model, else ``path/best``."""
    p = Path(path)
    if (p / CONFIG_NAME).is_file():
        return p
    if (p / BEST_DIR / CONFIG_NAME).is_file():
        return p / BEST_DIR
    raise InputError(
        f"no saved model here (looked for {CONFIG_NAME} and {BEST_DIR}/{CONFIG_NAME}); "
        "pass a run folder written by `binder train` or its best/ model folder",
        path=str(p),
    )


def decode_predictions(
    predictions: Sequence[SpanPrediction], decoding: str
) -> list[SpanPrediction]:
    """Flat (greedy, no overlaps) or nested (all) decoding of one document's merged spans."""
    if decoding == "flat":
        return decode_flat(predictions)
    if decoding == "nested":
        return decode_nested(predictions)
    raise ConfigError(f"decoding must be one of {list(DECODINGS)}, got {decoding!r}")


def autocast_context(device: torch.device, amp_dtype: torch.dtype | None) -> Any:
    """``torch.autocast`` on CUDA with a reduced dtype; a no-op otherwise (fp32 on CPU)."""
    if amp_dtype is None or device.type != "cuda":
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda", dtype=amp_dtype)


@torch.no_grad()
def encode_type_inputs(model: BinderModel, types: TypeInputs, device: torch.device) -> TypeVectors:
    """Type vectors (each (K, d)) for ``types``, computed once, without gradients."""
    return model.encode_types(types.type_input_ids.to(device), types.type_attention_mask.to(device))


@torch.no_grad()
def iter_window_predictions(
    model: BinderModel,
    type_vectors: TypeVectors,
    batches: Iterator[tuple[dict[str, torch.Tensor], list[WindowMeta]]],
    labels: Sequence[str],
    device: torch.device,
    amp_dtype: torch.dtype | None = None,
    min_margin: float = 0.0,
) -> Iterator[tuple[WindowMeta, list[SpanPrediction]]]:
    """Above-threshold spans (char offsets) of every window of ``batches``, in batch order.

    Only the text encoder and the span head run per batch; the candidate cells of each window
    are scored against the (cached) type vectors by :func:`decode_batch_vectors`. The batches'
    ``span_mask`` must be the model's band, (B, L, max_span_width_tokens).
    """
    width = model.config.max_span_width_tokens
    span_types = model.scaled_types(type_vectors).span  # (K, d), exp(alpha) folded in
    for batch, metas in batches:
        with autocast_context(device, amp_dtype):
            vectors = model.text_span_vectors(
                batch["input_ids"].to(device), batch["attention_mask"].to(device)
            )  # (B, L, W, d)
        per_window = decode_batch_vectors(
            vectors, batch["span_mask"], span_types, batch["offsets"], labels, width, min_margin
        )
        yield from zip(metas, per_window, strict=True)


def check_labels(data_labels: Sequence[str], model_labels: Sequence[str], path: str) -> None:
    """An entity type in the data that the model does not know is a user error."""
    unknown = [label for label in data_labels if label not in set(model_labels)]
    if unknown:
        raise ConfigError(
            f"{path}: unknown entity type(s) {unknown}; the model knows {list(model_labels)} "
            "(score only the known types with --labels)"
        )


def score_dataset(
    model: BinderModel,
    tokenizer: Any,
    types: TypeInputs,
    data_dir: str | os.PathLike[str],
    data_config: DataConfig,
    *,
    decoding: str = "flat",
    batch_size: int = 16,
    device: torch.device | None = None,
    amp_dtype: torch.dtype | None = None,
) -> tuple[SpanScores, int]:
    """Micro and per-type exact-match scores of ``model`` on ``data_dir``, and its document count.

    With ``data_config.unknown_labels == "error"`` a type in the data that is not in ``types``
    is a :class:`ConfigError`; with ``"ignore"`` its spans are left out of the scores.

    Windows are read in stream order, so each document's windows arrive together and its
    predictions are merged and decoded as soon as its last window is scored.
    """
    if batch_size < 1:
        raise ConfigError(f"batch size must be positive, got {batch_size}")
    device = device or next(model.parameters()).device
    labels = types.labels
    dataset = ParquetWindowDataset(
        data_dir,
        tokenizer,
        data_config,
        labels,
        shuffle=False,
        rank=0,
        world_size=1,
    )
    if data_config.unknown_labels == "error":
        check_labels(dataset.metadata.labels, labels, str(data_dir))
    pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
    collator = Collator(len(labels), model.config.max_span_width_tokens, pad_id)  # model's band
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, collate_fn=collator)
    was_training = model.training
    model.eval()
    try:
        type_vectors = encode_type_inputs(model, types, device)
        counter = SpanCounter(labels)
        documents = iter_documents(data_dir, columns=["doc_id", "spans"])
        pending: list[SpanPrediction] = []
        for meta, predictions in iter_window_predictions(
            model, type_vectors, iter(loader), labels, device, amp_dtype
        ):
            pending.extend(predictions)
            if meta.window_in_doc < meta.windows_in_doc - 1:
                continue
            doc = next(documents)
            if doc["doc_id"] != meta.doc_id:
                raise RuntimeError(f"window of {meta.doc_id!r} met document {doc['doc_id']!r}")
            gold = [(s["start"], s["end"], s["label"]) for s in doc["spans"] if not s["uncertain"]]
            predicted = decode_predictions(merge_windows(pending), decoding)
            counter.update(gold, [(p.start, p.end, p.label) for p in predicted])
            pending = []
    finally:
        model.train(was_training)
    logger.info("scored %d documents of %s", counter.documents, data_dir)
    return counter.result(), counter.documents


def evaluate(
    model_dir_or_run_dir: str | os.PathLike[str],
    data_dir: str | os.PathLike[str],
    decoding: str = "flat",
    batch_size: int = 16,
    *,
    device: str | None = None,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Load a saved model and score it on ``data_dir``.

    Returns ``{"precision", "recall", "f1", <counts>, "macro_f1", "per_label": {...}}`` plus
    ``"documents"`` and ``"decoding"``. ``labels`` restricts scoring to some of the model's
    types (spans of other types in the data are then ignored).
    """
    from binder_core.predict import load  # the Predictor knows how a model dir is laid out

    if decoding not in DECODINGS:
        raise ConfigError(f"decoding must be one of {list(DECODINGS)}, got {decoding!r}")
    predictor = load(model_dir_or_run_dir, device=device)
    model_labels = predictor.labels
    data_config = predictor.data_config
    if labels is not None:
        check_labels(labels, model_labels, "--labels")
        data_config = DataConfig.from_dict({**data_config.to_dict(), "unknown_labels": "ignore"})
        model_labels = tuple(label for label in model_labels if label in set(labels))
    types = predictor.type_inputs_for(model_labels)
    result, documents = score_dataset(
        predictor.model,
        predictor.tokenizer,
        types,
        data_dir,
        data_config,
        decoding=decoding,
        batch_size=batch_size,
        device=predictor.device,
    )
    scores = result.to_dict()
    scores["documents"] = documents
    scores["decoding"] = decoding
    return scores
