"""Prediction, file in / file out: text, JSON Lines or contract Parquet to tagged documents.

The engine is a :class:`binder_core.inference.engine.SpanTagger`, torch or ONNX
(``load_predictor(path).predict(texts)`` in Python, :mod:`binder_core.inference.backends`); this
module reads the inputs and writes the output. Output spans are contract span dicts with
``origin = "model"`` and ``score = sigmoid(margin)``, where the margin (> 0) is how far the
span's score beats its window's threshold, so scores lie in (0.5, 1).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import pyarrow.parquet as pq

from binder_core.contract.atomic import atomic_path, check_file_output
from binder_core.contract.concepts import SpanLinker
from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.input_files import compression_suffix, iter_local_lines
from binder_core.contract.schema import (
    Origin,
    content_doc_id,
    document_schema,
    documents_to_table,
    iter_documents,
    surrogate_problem,
)
from binder_core.inference.engine import SpanTagger
from binder_core.inference.hybrid import (
    AgreementCounts,
    HybridOptions,
    SpanSource,
    merge_documents,
)
from binder_core.inference.options import INFERENCE_BATCH_SIZE, InputFormat

logger = logging.getLogger(__name__)


class InputDocument(NamedTuple):
    doc_id: str
    text: str
    source: str


def detect_format(path: Path) -> InputFormat:
    """``text``, ``jsonl`` or ``parquet`` from the file suffix."""
    suffix = path.suffix.lower()
    if compression_suffix(path) is not None:  # corpus.jsonl.gz reads as corpus.jsonl
        suffix = Path(path.stem).suffix.lower()
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
    # decompressed by suffix, no byte-order mark, CRLF or LF
    for number, line in iter_local_lines(p, "input file"):
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
        for what, value in ((text_field, text), (id_field, doc_id)):
            problem = (
                surrogate_problem(value, f"field {what!r}") if isinstance(value, str) else None
            )
            if problem is not None:
                raise InputError(problem, path=str(p), line=number)
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
    predictor: SpanTagger,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    fmt: InputFormat = "auto",
    text_field: str = "text",
    id_field: str = "id",
    decoding: str | None = None,
    batch_size: int = INFERENCE_BATCH_SIZE,
    docs_per_chunk: int = 256,
    dictionary: SpanSource | None = None,
    hybrid: HybridOptions | None = None,
    linker: SpanLinker | None = None,
) -> Iterator[int]:
    """Tag every document of ``input_path`` and write ``output_path`` (.jsonl or .parquet).

    With ``dictionary`` each document gets the hybrid of its dictionary matches and the model's
    predictions (:func:`binder_core.inference.hybrid.merge_documents` with ``hybrid``, default
    options). Its trust per type is estimated on the documents read so far, this chunk
    included, so the output does not depend on anything but the input and ``docs_per_chunk``.
    With ``linker`` every written span without a concept id is linked
    (:data:`binder_core.contract.concepts.SpanLinker`).

    A generator: yields the number of documents written after each chunk (for a progress bar).
    The output is written to a temp file and renamed into place when complete; an input
    without any document is an :class:`InputError` (and nothing is written).
    """
    out = check_file_output(output_path)
    suffix = out.suffix.lower()
    if suffix not in (".jsonl", ".parquet"):
        raise ConfigError(f"{out}: output must end in .jsonl or .parquet")
    schema = document_schema(predictor.labels, extra={"origin": Origin.MODEL.value})
    done = 0
    counts: AgreementCounts = {}
    with atomic_path(out) as tmp, contextlib.ExitStack() as stack:
        writer: pq.ParquetWriter | None = None
        handle = None
        if suffix == ".parquet":
            writer = stack.enter_context(pq.ParquetWriter(tmp, schema, compression="zstd"))
        else:
            handle = stack.enter_context(tmp.open("w", encoding="utf-8"))
        docs_in = read_inputs(input_path, fmt, text_field, id_field)
        for chunk in _chunks(docs_in, docs_per_chunk):
            spans = predictor.predict([d.text for d in chunk], decoding, batch_size)
            if dictionary is not None:
                pairs = [(dictionary(d.text), s) for d, s in zip(chunk, spans, strict=True)]
                spans, counts = merge_documents(pairs, hybrid or HybridOptions(), counts)
            if linker is not None:  # after the merge: only the spans that are written
                spans = [linker(d.text, s) for d, s in zip(chunk, spans, strict=True)]
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
        if not done:  # a wrong file, most likely: say so rather than write an empty output
            raise InputError(
                "no documents in this file; check that it is not empty and that --format "
                "matches it",
                path=str(input_path),
            )
    logger.info("wrote %d documents to %s", done, out)
