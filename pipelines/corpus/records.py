"""Raw records -> documents or dead letters: one record's JSON, PubTator or text parsed and checked.

A record (:class:`pipelines.corpus.readers.RawRecord`) becomes a :class:`Document`, or a
:class:`DeadLetter` that carries the reason, the file and the 1-based line where it starts.
Pure functions, no I/O.
"""

from __future__ import annotations

import json
import os

from binder_core.contract.schema import content_doc_id, surrogate_problem
from pipelines.corpus.pubtator import document_text, header
from pipelines.corpus.readers import (
    DeadLetter,
    DeadLetterReason,
    Document,
    RawRecord,
)
from pipelines.silver.config import ReadConfig

_BOM = "\ufeff"
_SNIPPET_CHARS = 1000  # characters of a bad record kept in its dead letter


def parse_record(record: RawRecord, config: ReadConfig) -> Document | DeadLetter:
    """Validate one record and turn it into a document, or say why not."""
    source = os.path.basename(record.path)
    if record.damage is not None:
        reason, detail = record.damage
        return _dead(
            record, DeadLetterReason(reason), detail,
            (record.data or b"").decode("utf-8", errors="replace"),
        )  # fmt: skip
    if record.data is None or record.size_bytes > config.max_doc_bytes:
        return _dead(
            record,
            DeadLetterReason.TOO_LARGE,
            f"record of {record.size_bytes} bytes is over the limit of {config.max_doc_bytes} "
            "bytes (raise --max-doc-bytes to keep it)",
        )
    try:
        raw = record.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _dead(
            record,
            DeadLetterReason.INVALID_UTF8,
            f"not UTF-8: {exc.reason} at byte {exc.start}",
            record.data.decode("utf-8", errors="replace"),
        )
    if record.line == 1 and raw.startswith(_BOM):
        raw = raw[1:]
    if config.format == "text":
        if not raw.strip():
            return _dead(record, DeadLetterReason.EMPTY_TEXT, "empty line", raw)
        return Document(content_doc_id(raw), raw, source)
    if config.format == "jsonl":
        return _parse_json(raw, config, source, record)
    return _parse_pubtator(raw, source, record)


def _dead(record: RawRecord, reason: DeadLetterReason, detail: str, text: str = "") -> DeadLetter:
    return DeadLetter(reason.value, record.path, record.line, detail, text[:_SNIPPET_CHARS])


def _parse_json(
    raw: str, config: ReadConfig, source: str, record: RawRecord
) -> Document | DeadLetter:
    if not raw.strip():
        return _dead(record, DeadLetterReason.EMPTY_TEXT, "blank line", raw)
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        return _dead(record, DeadLetterReason.BROKEN_JSON, f"invalid JSON: {exc}", raw)
    if not isinstance(obj, dict):
        return _dead(
            record, DeadLetterReason.BROKEN_JSON, f"a JSON {type(obj).__name__}, not an object", raw
        )
    text = obj.get(config.text_field)
    if text is None:
        return _dead(
            record,
            DeadLetterReason.MISSING_TEXT_FIELD,
            f"no {config.text_field!r} field (fields: {sorted(obj)[:10]}); set --text-field",
            raw,
        )
    if not isinstance(text, str):
        return _dead(
            record,
            DeadLetterReason.MISSING_TEXT_FIELD,
            f"field {config.text_field!r} is a {type(text).__name__}, not a string",
            raw,
        )
    if not text.strip():
        return _dead(
            record, DeadLetterReason.EMPTY_TEXT, f"field {config.text_field!r} is empty", raw
        )
    problem = surrogate_problem(text, f"field {config.text_field!r}")
    if problem is not None:
        return _dead(record, DeadLetterReason.INVALID_UTF8, problem, raw)
    doc_id = obj.get(config.id_field)
    if doc_id is None or doc_id == "":
        return Document(content_doc_id(text), text, source)
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int):
        return _dead(
            record,
            DeadLetterReason.BAD_ID_FIELD,
            f"field {config.id_field!r} is a {type(doc_id).__name__}; ids must be strings or "
            "integers",
            raw,
        )
    problem = (
        surrogate_problem(doc_id, f"field {config.id_field!r}") if isinstance(doc_id, str) else None
    )
    if problem is not None:
        return _dead(record, DeadLetterReason.BAD_ID_FIELD, problem, raw)
    return Document(str(doc_id), text, source)


def _parse_pubtator(raw: str, source: str, record: RawRecord) -> Document | DeadLetter:
    parsed = parse_pubtator_block(raw)
    if isinstance(parsed, str):
        return _dead(record, DeadLetterReason.BROKEN_PUBTATOR, parsed, raw)
    pmid, text = parsed
    if not text.strip():
        return _dead(
            record, DeadLetterReason.EMPTY_TEXT, f"document {pmid} has no title or abstract", raw
        )
    return Document(pmid, text, source)


def parse_pubtator_block(block: str) -> tuple[str, str] | str:
    """``(pmid, title + " " + abstract)`` of one PubTator block, or a message saying what is wrong.

    The grammar and the text are :mod:`pipelines.corpus.pubtator`'s, as for the gold converter; a
    missing ``|a|`` line counts as an empty abstract. Annotation lines are not read here.
    """
    lines = block.split("\n")
    head = header(lines[0])
    if head is None or head[1] != "t":
        return f"first line is not 'PMID|t|title': {lines[0][:80]!r}"
    pmid, _, title = head
    for line in lines[1:]:
        found = header(line)
        if found is not None and found[1] == "a":
            if found[0] != pmid:
                return f"abstract line has PMID {found[0]!r}, title line has {pmid!r}"
            return pmid, document_text(title, found[2])
    return pmid, document_text(title, "")
