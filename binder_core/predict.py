"""Prediction with a saved model: ``load(path).predict(texts)``, and file in / file out.

The type vectors are computed once per :class:`Predictor` and label set and cached, so every
batch of text only runs the text encoder, the span head over the (B, L, W, d) band and one
(N, d) @ (d, K) product over the N candidate spans: 1,000 types cost about as much as 10.
Output spans are contract span dicts (:func:`binder_core.schema.make_span`) with
``origin = "model"`` and ``score = sigmoid(margin)``, where the margin (> 0) is how far the
span's score beats its window's threshold, so scores lie in (0.5, 1).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import pyarrow.parquet as pq
import torch

from binder_core.data import DataConfig, TypeInputs, build_type_inputs, collate, windows_for_texts
from binder_core.decoding import SpanPrediction, merge_windows
from binder_core.errors import ConfigError, InputError
from binder_core.evaluate import (
    DECODINGS,
    decode_predictions,
    encode_type_inputs,
    iter_window_predictions,
    resolve_model_dir,
)
from binder_core.model import BinderModel, TypeVectors, load_model
from binder_core.schema import (
    Origin,
    content_doc_id,
    document_schema,
    documents_to_table,
    iter_documents,
    make_span,
)

logger = logging.getLogger(__name__)

InputFormat = Literal["auto", "text", "jsonl", "parquet"]


class InputDocument(NamedTuple):
    doc_id: str
    text: str
    source: str


def pick_device(device: str | None = None) -> torch.device:
    """``device`` if given, else CUDA when available, else CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Predictor:
    """A loaded model with its tokenizer, types and data settings, ready to tag texts."""

    def __init__(
        self,
        model: BinderModel,
        tokenizer: Any,
        labels: Sequence[str],
        descriptions: Mapping[str, str],
        data_config: DataConfig,
        device: torch.device,
        *,
        min_margin: float = 0.0,
    ) -> None:
        """``min_margin``: how far (in scaled score units) a span must beat its window's
        threshold to be predicted; 0 is the model's own threshold, more trades recall for
        precision."""
        if not labels:
            raise ConfigError("a predictor needs at least one entity type")
        if not min_margin >= 0:
            raise ConfigError(f"min_margin must be >= 0, got {min_margin!r}")
        self.min_margin = float(min_margin)
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.labels: tuple[str, ...] = tuple(labels)
        self.descriptions = dict(descriptions)
        self.data_config = data_config
        self.device = device
        self._type_cache: dict[tuple[str, ...], TypeVectors] = {}

    def type_inputs_for(self, labels: Sequence[str]) -> TypeInputs:
        """Tokenized descriptions of ``labels`` (each one of the model's types)."""
        unknown = [label for label in labels if label not in self.descriptions]
        if unknown:
            raise ConfigError(f"unknown entity type(s) {unknown}; the model knows {self.labels}")
        return build_type_inputs(self.tokenizer, list(labels), self.descriptions)

    def type_vectors(self, labels: Sequence[str] | None = None) -> TypeVectors:
        """Cached type vectors (each (K, d)) of ``labels`` (default: all the model's types)."""
        key = tuple(labels) if labels is not None else self.labels
        if key not in self._type_cache:
            self._type_cache[key] = encode_type_inputs(
                self.model, self.type_inputs_for(key), self.device
            )
        return self._type_cache[key]

    def predict_spans(
        self,
        texts: Sequence[str],
        decoding: str = "flat",
        batch_size: int = 16,
        labels: Sequence[str] | None = None,
    ) -> list[list[SpanPrediction]]:
        """Decoded predictions (char offsets, margin scores) for each text, sorted."""
        if decoding not in DECODINGS:
            raise ConfigError(f"decoding must be one of {list(DECODINGS)}, got {decoding!r}")
        if batch_size < 1:
            raise ConfigError(f"batch size must be positive, got {batch_size}")
        label_set = tuple(labels) if labels is not None else self.labels
        vectors = self.type_vectors(label_set)
        windows = windows_for_texts(list(texts), self.tokenizer, self.data_config)
        per_doc: list[list[SpanPrediction]] = [[] for _ in texts]
        pad_id = self.tokenizer.pad_token_id or 0
        width = self.model.config.max_span_width_tokens
        batches = (
            collate(windows[i : i + batch_size], 0, width, pad_id)
            for i in range(0, len(windows), batch_size)
        )
        for meta, predictions in iter_window_predictions(
            self.model, vectors, batches, label_set, self.device, min_margin=self.min_margin
        ):
            per_doc[meta.doc_index].extend(predictions)
        return [decode_predictions(merge_windows(p), decoding) for p in per_doc]

    def predict(
        self,
        texts: Sequence[str],
        decoding: str = "flat",
        batch_size: int = 16,
        labels: Sequence[str] | None = None,
    ) -> list[list[dict[str, Any]]]:
        """Schema span dicts (origin "model") for each text, sorted by (start, end, label)."""
        return [
            [to_span(p) for p in predictions]
            for predictions in self.predict_spans(texts, decoding, batch_size, labels)
        ]


def to_span(prediction: SpanPrediction) -> dict[str, Any]:
    """A contract span dict; score = sigmoid(margin over the threshold)."""
    return make_span(
        prediction.start,
        prediction.end,
        prediction.label,
        origin=Origin.MODEL,
        score=1.0 / (1.0 + math.exp(-prediction.score)),
    )


def load(
    path: str | os.PathLike[str], device: str | None = None, *, min_margin: float = 0.0
) -> Predictor:
    """A :class:`Predictor` for a run folder (its ``best/`` model) or a saved model folder."""
    model_dir = resolve_model_dir(path)
    dev = pick_device(device)
    model, tokenizer, extra = load_model(model_dir, device=dev)
    labels = extra.get("labels")
    if not labels:
        raise InputError("the saved model lists no entity types", path=str(model_dir))
    descriptions = extra.get("type_descriptions") or {label: label for label in labels}
    data_config = DataConfig.from_dict(extra.get("data_config") or {})
    return Predictor(
        model, tokenizer, labels, descriptions, data_config, dev, min_margin=min_margin
    )


def detect_format(path: Path) -> InputFormat:
    """``text``, ``jsonl`` or ``parquet`` from the file suffix."""
    suffix = path.suffix.lower()
    if suffix == ".parquet" or path.is_dir():
        return "parquet"
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if suffix in (".txt", ".text", ""):
        return "text"
    raise InputError(
        f"cannot tell the format from the suffix {suffix!r}; use .txt, .jsonl or .parquet, "
        "or give --format",
        path=str(path),
    )


def read_inputs(
    path: str | os.PathLike[str],
    fmt: InputFormat = "auto",
    text_field: str = "text",
    id_field: str = "id",
) -> Iterator[InputDocument]:
    """Documents to tag: text (one per line), JSON Lines or contract Parquet.

    Text lines and JSON objects without ``id_field`` get a content hash id. A blank text line
    is a document with empty text (it gets no spans), so output lines match input lines.
    """
    p = Path(path)
    kind = detect_format(p) if fmt == "auto" else fmt
    if kind == "parquet":
        for doc in iter_documents(p, columns=["doc_id", "text", "source"]):
            yield InputDocument(doc["doc_id"], doc["text"], doc["source"])
        return
    if not p.is_file():
        raise InputError("input file not found", path=str(p))
    with p.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n").rstrip("\r")
            if kind == "text":
                yield InputDocument(content_doc_id(line), line, p.name)
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not a JSON line ({exc.msg})", path=str(p), line=number) from None
            if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
                raise InputError(
                    f"no string field {text_field!r}; choose the text field with --text-field",
                    path=str(p),
                    line=number,
                )
            text = record[text_field]
            doc_id = record.get(id_field)
            yield InputDocument(
                str(doc_id) if doc_id is not None else content_doc_id(text), text, p.name
            )


def _chunks(items: Iterable[InputDocument], size: int) -> Iterator[list[InputDocument]]:
    chunk: list[InputDocument] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def predict_file(
    predictor: Predictor,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    fmt: InputFormat = "auto",
    text_field: str = "text",
    id_field: str = "id",
    decoding: str = "flat",
    batch_size: int = 16,
    docs_per_chunk: int = 256,
) -> Iterator[int]:
    """Tag every document of ``input_path`` and write ``output_path`` (.jsonl or .parquet).

    A generator: yields the number of documents written after each chunk (for a progress bar).
    The output is written to a temp file and renamed into place when complete.
    """
    out = Path(output_path)
    suffix = out.suffix.lower()
    if suffix not in (".jsonl", ".parquet"):
        raise ConfigError(f"{out}: output must end in .jsonl or .parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    schema = document_schema(predictor.labels, extra={"origin": Origin.MODEL.value})
    writer: pq.ParquetWriter | None = None
    done = 0
    try:
        with contextlib.ExitStack() as stack:
            handle = None
            if suffix == ".parquet":
                writer = pq.ParquetWriter(tmp, schema, compression="zstd")
            else:
                handle = stack.enter_context(tmp.open("w", encoding="utf-8"))
            docs_in = read_inputs(input_path, fmt, text_field, id_field)
            for chunk in _chunks(docs_in, docs_per_chunk):
                spans = predictor.predict([d.text for d in chunk], decoding, batch_size)
                rows = [
                    {"doc_id": d.doc_id, "text": d.text, "source": d.source, "spans": s}
                    for d, s in zip(chunk, spans, strict=True)
                ]
                if writer is not None:
                    writer.write_table(documents_to_table(rows, schema))
                elif handle is not None:
                    for row in rows:
                        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                done += len(rows)
                yield done
        if writer is not None:
            writer.close()
            writer = None
        os.replace(tmp, out)
    finally:
        if writer is not None:
            writer.close()
        if tmp.exists():
            tmp.unlink()
    logger.info("wrote %d documents to %s", done, out)
