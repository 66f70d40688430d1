"""BINDER-style JSONL and W2NER JSON (nested entities) -> contract documents, and back.

The file is either one JSON array (W2NER, e.g. GENIA nested) or JSON Lines, one object each.
Two record shapes are accepted:

* character form, BINDER's own data format::

    {"id": "d1", "text": "...", "entity_types": ["DNA"], "entity_start_chars": [4],
     "entity_end_chars": [9], "word_start_chars": [...], "word_end_chars": [...]}

  End offsets are exclusive; ``word_*`` fields are optional and ignored on input.
* token form, W2NER / GENIA::

    {"sentence": ["IL-2", "gene"], "ner": [{"index": [0, 1], "type": "DNA"}]}

  ``tokens`` may replace ``sentence``; an ``ner`` item may also be ``[first, last, type]`` with
  inclusive token indices. The text is the tokens joined by single spaces.

The doc id is the record's ``id`` (or ``doc_id``, ``doc_key``), else ``<file stem>-<index>``.
Overlapping and nested entities are all kept. A key that neither form knows is an error naming
it and the accepted keys: a misspelled entity key would otherwise give a document with no
entities, silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from binder_core.contract.errors import InputError
from binder_core.contract.schema import surrogate_problem
from pipelines.gold.common import file_stem, gold_span, join_tokens

_ID_KEYS = ("id", "doc_id", "doc_key")
CHAR_FORM_KEYS = frozenset(
    {*_ID_KEYS, "text", "entity_types", "entity_start_chars", "entity_end_chars",
     "word_start_chars", "word_end_chars"}
)  # fmt: skip
TOKEN_FORM_KEYS = frozenset({*_ID_KEYS, "sentence", "tokens", "ner"})
ENTITY_KEYS = frozenset({"index", "type"})


def parse_binder_json(text: str, path: str) -> Iterator[dict[str, Any]]:
    """Yield contract documents from the content of one JSON or JSONL file."""
    stem, source = file_stem(path), Path(path).name
    for index, (line, where, record) in enumerate(_records(text, path)):
        try:
            doc = _convert_record(record, f"{stem}-{index:05d}")
        except _RecordError as exc:
            raise InputError(f"{where}{exc}", path=path, line=line) from None
        doc["source"] = source
        yield doc


def _records(text: str, path: str) -> Iterator[tuple[int | None, str, Any]]:
    """``(line, prefix for messages, record)``: line for JSONL, record index for an array."""
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"broken JSON ({exc.msg})", path=path, line=exc.lineno) from None
        for i, item in enumerate(items):
            yield None, f"record {i}: ", item
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, "", json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"broken JSON ({exc.msg})", path=path, line=number) from None


class _RecordError(Exception):
    """A record-level problem; turned into an InputError with the file and line."""


def _convert_record(record: Any, default_id: str) -> dict[str, Any]:
    if not isinstance(record, Mapping):
        raise _RecordError("expected a JSON object")
    doc_id = next((str(record[k]) for k in _ID_KEYS if record.get(k) not in (None, "")), None)
    if "entity_types" in record or ("text" in record and "ner" not in record):
        _check_keys(record, CHAR_FORM_KEYS, "a character-form record")
        text, spans = _char_form(record)
    elif "sentence" in record or "tokens" in record:
        _check_keys(record, TOKEN_FORM_KEYS, "a token-form record")
        text, spans = _token_form(record)
    else:
        raise _RecordError(
            "expected 'text' with 'entity_types'/'entity_start_chars'/'entity_end_chars', "
            "or 'sentence'/'tokens' with 'ner'"
        )
    doc_id = doc_id or default_id
    for what, value in (("id", doc_id), ("text", text), *(("type", s["label"]) for s in spans)):
        problem = surrogate_problem(value, f"the {what}")
        if problem is not None:
            raise _RecordError(problem)
    return {"doc_id": doc_id, "text": text, "spans": spans}


def _check_keys(record: Mapping[str, Any], known: frozenset[str], what: str) -> None:
    unknown = sorted(str(k) for k in record if k not in known)
    if unknown:
        raise _RecordError(
            f"unknown key(s) {unknown} in {what}; the accepted keys are {sorted(known)}"
        )


def _char_form(record: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    text = record.get("text")
    if not isinstance(text, str):
        raise _RecordError("'text' must be a string")
    cols = [record.get(k, []) for k in ("entity_types", "entity_start_chars", "entity_end_chars")]
    if not all(isinstance(c, list) for c in cols) or len({len(c) for c in cols}) != 1:
        raise _RecordError(
            "'entity_types', 'entity_start_chars' and 'entity_end_chars' must be lists "
            "of the same length"
        )
    spans = []
    for label, start, end in zip(*cols, strict=True):
        for name, value in (("entity_start_chars", start), ("entity_end_chars", end)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise _RecordError(f"{name} holds {value!r}, a {type(value).__name__}; "
                                   "offsets are integers")  # fmt: skip
        if not 0 <= start < end <= len(text):
            raise _RecordError(
                f"entity [{start}, {end}) is not inside the text of length {len(text)}"
            )
        spans.append(gold_span(start, end, _label(label)))
    return text, spans


def _token_form(record: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    tokens = record.get("sentence", record.get("tokens"))
    if not isinstance(tokens, list) or not all(isinstance(t, str) and t for t in tokens):
        raise _RecordError("'sentence'/'tokens' must be a list of non-empty strings")
    text, offsets = join_tokens(tokens)
    spans = []
    for item in record.get("ner", []):
        if isinstance(item, Mapping):
            _check_keys(item, ENTITY_KEYS, "an 'ner' entity")
            index: Any = item.get("index")
            label = item.get("type")
            if not _consecutive(index):
                raise _RecordError(f"entity index {index!r} must be consecutive token indices")
            first, last = index[0], index[-1]
        elif isinstance(item, list) and len(item) == 3:
            first, last, label = item
        else:
            raise _RecordError(
                f"entity {item!r} must be {{'index', 'type'}} or [first, last, type]"
            )
        if not (
            isinstance(first, int) and isinstance(last, int) and 0 <= first <= last < len(tokens)
        ):
            raise _RecordError(f"entity tokens {first}..{last} outside {len(tokens)} tokens")
        spans.append(gold_span(offsets[first][0], offsets[last][1], _label(label)))
    return text, spans


def _consecutive(index: Any) -> bool:
    return (
        isinstance(index, list)
        and bool(index)
        and all(isinstance(i, int) for i in index)
        and index == list(range(index[0], index[0] + len(index)))
    )


def _label(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _RecordError(f"entity type {value!r} must be a non-empty string")
    return value


def binder_record(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A contract document as a BINDER JSONL record (character form, whitespace words)."""
    text = doc["text"]
    words = _word_bounds(text)
    spans = doc["spans"]
    return {
        "id": doc["doc_id"],
        "text": text,
        "entity_types": [s["label"] for s in spans],
        "entity_start_chars": [s["start"] for s in spans],
        "entity_end_chars": [s["end"] for s in spans],
        "word_start_chars": [a for a, _ in words],
        "word_end_chars": [b for _, b in words],
    }


def write_binder_jsonl(docs: Iterable[Mapping[str, Any]], path: str | Path) -> int:
    """Write documents as BINDER JSONL (the trainer of the reference code reads it)."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(binder_record(doc), ensure_ascii=False) + "\n")
            n += 1
    return n


def _word_bounds(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"\S+", text)]
