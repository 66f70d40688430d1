"""The Parquet contract between the silver pipelines, the gold converters and the trainer.

One row per document::

    doc_id  string   stable id: the source's id, else ``sha1:<hex>`` of the text
    text    string   the document text; every offset below points into it
    source  string   where the document came from (input file name, data set name)
    spans   list<struct<
        start         int32    character offset, inclusive
        end           int32    character offset, exclusive   (text[start:end] is the surface)
        label         string   entity type, or ANY_LABEL ("*": every type, uncertain only)
        concept_id    string   dictionary / ontology id ("" when unknown)
        matched_term  string   the dictionary term that matched ("" for gold)
        score         float32  match confidence in [0, 1] (1.0 for exact and gold)
        origin        string   one of :class:`Origin`
        uncertain     bool     true: neither a positive nor a negative for training
        link_score    float32  how sure ``concept_id`` is, in [0, 1] (see below; since v2)
    >>

Offsets are Python ``str`` indices (Unicode code points), half-open ``[start, end)``.

``link_score`` says how a span got its concept id, or why it has none:

* a dictionary span (every origin but ``gold`` and ``model``) that carries the dictionary's own
  concept id: 1.0; one whose term has no id: 0.0 (:func:`dictionary_link_score`);
* a span the concept linker grounded: the cosine of the winning name (at least the linker's
  threshold), with that name as ``matched_term``;
* a span the linker abstained on: ``concept_id = ""``, its own ``matched_term`` ("" for a model
  span) and the best cosine the linker saw, below the threshold (0.0 when no name of its type
  shares an n-gram with it);
* a span never linked (gold spans, predictions without a dictionary, ANY_LABEL spans without
  an id, which the linker skips): 0.0.

Version-1 files (no ``link_score``) are still read, upgraded by :func:`iter_shard` as it reads:
1.0 where a dictionary span carries a concept id, else 0.0 (what a version-2 writer gives the
same spans: no rebuild). Model spans a version-1 ``binder predict --dictionary`` linked read 0.0.

A span labelled :data:`ANY_LABEL` (``"*"``) stands for every type of the run at once; it is
only allowed with ``uncertain = true`` and means "this may be an entity of any type: never use
it as a negative" (the matches of ``binder silver build --uncertain-dict``). The trainer expands
it into one uncertain span per type; ``binder silver eval`` never counts it as a prediction. It
is not one of the run's labels in the metadata.

Origins (:class:`Origin`) say where a span came from; ``dict_heldout`` marks matches of a
held-out dictionary (``binder dict split``), so a dev set can measure how many entities a model
finds that its training dictionary did not hold. Adding an origin value or ANY_LABEL did not
change the columns; adding ``link_score`` did (version 2).

Each file carries, in its Arrow schema metadata, the schema version, the run's label set and the
dictionary fingerprint (empty for gold data). Every writer uses :func:`document_schema`; every
reader calls :func:`check_schema` and refuses a file that does not match.

This module imports pyarrow only (never torch), so the pipelines can share it.
"""

from __future__ import annotations

import hashlib
import json
import operator
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from binder_core.contract.atomic import atomic_path
from binder_core.contract.errors import InputError, SchemaError
from binder_core.contract.markers import check_complete

SCHEMA_VERSION = 2
"""Bump on any incompatible change to the columns below; readers refuse other versions, except
version 1, which they upgrade on read (:func:`upgrade_spans`)."""

META_VERSION = b"binder.schema_version"
META_LABELS = b"binder.labels"
META_FINGERPRINT = b"binder.dictionary_fingerprint"
META_EXTRA = b"binder.run"

MANIFEST_NAME = "_manifest.json"
DEAD_LETTER_DIR = "_dead_letters"
STAGING_DIR = "_staging"
"""Where a pipeline stages its pieces inside the output folder until the shards are written."""


ANY_LABEL = "*"
"""The label of a span that may be an entity of any type (always ``uncertain = true``)."""


class Origin(str, Enum):
    """Where a span came from."""

    DICT_EXACT = "dict_exact"  # an exact (folded) dictionary match
    DICT_FUZZY = "dict_fuzzy"  # a near miss of a dictionary term
    ABBREVIATION = "abbreviation"  # a short form whose defined long form the dictionary labels
    DICT_HELDOUT = "dict_heldout"  # a match of a held-out dictionary (``--heldout-dict``)
    DICT_UNCERTAIN = "dict_uncertain"  # a broad-lexicon match, ANY_LABEL (``--uncertain-dict``)
    DICT_COMPOSITE = "dict_composite"  # coordinated mentions with one head (--composite-mentions)
    DICT_NAME = "dict_name"  # a name-part match widened over the whole name (``--name-label``)
    GOLD = "gold"
    MODEL = "model"


SPAN_TYPE = pa.struct(
    [
        pa.field("start", pa.int32(), nullable=False),
        pa.field("end", pa.int32(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("concept_id", pa.string(), nullable=False),
        pa.field("matched_term", pa.string(), nullable=False),
        pa.field("score", pa.float32(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("uncertain", pa.bool_(), nullable=False),
        pa.field("link_score", pa.float32(), nullable=False),
    ]
)

_COLUMNS = [
    pa.field("doc_id", pa.string(), nullable=False),
    pa.field("text", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("spans", pa.list_(pa.field("item", SPAN_TYPE, nullable=False)), nullable=False),
]
SPAN_FIELDS: tuple[str, ...] = tuple(f.name for f in SPAN_TYPE)
COLUMN_NAMES: tuple[str, ...] = tuple(f.name for f in _COLUMNS)
SPANS_TYPE = _COLUMNS[-1].type
"""The ``spans`` column's type: list<SPAN_TYPE>."""

_V1_SPANS_TYPE = pa.list_(
    pa.field("item", pa.struct([f for f in SPAN_TYPE if f.name != "link_score"]), nullable=False)
)
_COLUMNS_BY_VERSION = {  # the columns of each version this binder-ner reads
    1: pa.schema([*_COLUMNS[:-1], pa.field("spans", _V1_SPANS_TYPE, nullable=False)]),
    SCHEMA_VERSION: pa.schema(_COLUMNS),
}

DICTIONARY_ORIGINS: frozenset[str] = frozenset(
    o.value for o in Origin if o not in (Origin.GOLD, Origin.MODEL)
)
"""The origins of spans that a dictionary labelled."""


def dictionary_link_score(concept_id: str) -> float:
    """The ``link_score`` of a span a dictionary labelled: 1.0 when it carries the dictionary's
    own concept id (the term names that concept), 0.0 when the term has none."""
    return 1.0 if concept_id else 0.0


@dataclass(frozen=True)
class RunMetadata:
    """What a Parquet file says about the run that wrote it."""

    labels: tuple[str, ...]
    dictionary_fingerprint: str = ""
    schema_version: int = SCHEMA_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)


def document_schema(
    labels: Sequence[str],
    dictionary_fingerprint: str = "",
    extra: Mapping[str, Any] | None = None,
) -> pa.Schema:
    """The contract schema, with this run's metadata attached."""
    metadata = {
        META_VERSION: str(SCHEMA_VERSION).encode(),
        META_LABELS: json.dumps(list(labels)).encode(),
        META_FINGERPRINT: dictionary_fingerprint.encode(),
        META_EXTRA: json.dumps(dict(extra or {}), sort_keys=True).encode(),
    }
    return pa.schema(_COLUMNS, metadata=metadata)


def check_schema(schema: pa.Schema, path: str | os.PathLike[str]) -> RunMetadata:
    """Return the run metadata of ``schema``, or raise :class:`SchemaError` naming ``path``."""
    meta = schema.metadata or {}
    if META_VERSION not in meta:
        raise SchemaError(
            f"{path}: not a binder-ner Parquet file (no {META_VERSION.decode()} in its metadata); "
            "write it with `binder silver build` or `binder data convert`"
        )
    version = meta[META_VERSION].decode()
    expected = _COLUMNS_BY_VERSION.get(int(version)) if version.isdigit() else None
    if expected is None:
        raise SchemaError(
            f"{path}: schema version {version}, this binder-ner reads version {SCHEMA_VERSION} "
            "(and version 1); rebuild the data with this version"
        )
    got = pa.schema([schema.field(i) for i in range(len(schema))])
    if not got.equals(expected, check_metadata=False):
        raise SchemaError(
            f"{path}: columns do not match the binder-ner schema v{version} "
            f"(expected {list(COLUMN_NAMES)} with the documented span struct, got {got.names})"
        )
    try:
        labels = tuple(json.loads(meta.get(META_LABELS, b"[]")))
        extra = json.loads(meta.get(META_EXTRA, b"{}"))
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path}: unreadable binder-ner metadata ({exc})") from None
    return RunMetadata(
        labels=labels,
        dictionary_fingerprint=meta.get(META_FINGERPRINT, b"").decode(),
        schema_version=int(version),
        extra=extra,
    )


def shard_name(index: int, count: int) -> str:
    """``part-00003-of-00008.parquet``: fixed names so reruns overwrite, never accumulate."""
    return f"part-{index:05d}-of-{count:05d}.parquet"


def list_shards(path: str | os.PathLike[str]) -> list[Path]:
    """The Parquet files of a data set: ``path`` itself, or the sorted ``*.parquet`` below it.

    Files and folders starting with ``_`` or ``.`` (manifest, dead letters, temp files) are not
    shards.
    """
    p = Path(path)
    if p.is_file():
        return [p]
    check_complete(p)
    if not p.is_dir():
        raise InputError(
            "no such file or directory; give a Parquet file or a folder of shards", path=str(p)
        )
    shards = sorted(
        f
        for f in p.rglob("*.parquet")
        if not any(part.startswith(("_", ".")) for part in f.relative_to(p).parts)
    )
    if not shards:
        raise InputError("no *.parquet shards in this folder", path=str(p))
    return shards


def open_dataset(path: str | os.PathLike[str]) -> tuple[list[Path], RunMetadata]:
    """Check every shard's schema (footer only) and return the shards and the union metadata.

    Labels are the union over shards in first-seen order; fingerprints must agree.
    """
    shards = list_shards(path)
    labels: dict[str, None] = {}
    fingerprints: set[str] = set()
    first: RunMetadata | None = None
    for shard in shards:
        try:
            schema = pq.read_schema(shard)
        except (pa.ArrowInvalid, OSError) as exc:
            raise SchemaError(f"{shard}: not a readable Parquet file ({exc})") from None
        meta = check_schema(schema, shard)
        first = first or meta
        labels.update(dict.fromkeys(meta.labels))
        fingerprints.add(meta.dictionary_fingerprint)
    assert first is not None
    if len(fingerprints) > 1:
        raise SchemaError(
            f"{path}: shards come from different dictionaries ({sorted(fingerprints)}); "
            "keep one run per folder"
        )
    return shards, RunMetadata(
        labels=tuple(labels),
        dictionary_fingerprint=first.dictionary_fingerprint,
        extra=first.extra,
    )


def iter_documents(
    path: str | os.PathLike[str], batch_size: int = 256, columns: Sequence[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Stream documents (as dicts) from a file or folder of shards, in shard then row order.

    Memory is bounded by one record batch, whatever the size of the data set.
    """
    shards, _ = open_dataset(path)
    for shard in shards:
        yield from iter_shard(shard, batch_size=batch_size, columns=columns)


def iter_shard(
    shard: str | os.PathLike[str], batch_size: int = 256, columns: Sequence[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Stream the rows of one shard (schema is not re-checked), in the current version."""
    pf = pq.ParquetFile(shard)
    meta = pf.schema_arrow.metadata or {}
    old = meta.get(META_VERSION) == b"1"
    for batch in pf.iter_batches(batch_size=batch_size, columns=list(columns) if columns else None):
        if old and "spans" in batch.schema.names:
            i = batch.schema.get_field_index("spans")
            batch = batch.set_column(i, pa.field("spans", SPANS_TYPE, nullable=False),
                                     upgrade_spans(batch.column(i)))  # fmt: skip
        yield from batch.to_pylist()


def upgrade_spans(spans: pa.Array) -> pa.Array:
    """A version-1 ``spans`` column -> :data:`SPANS_TYPE`: ``link_score`` added, 1.0 where a
    dictionary span (:data:`DICTIONARY_ORIGINS`) carries a concept id, else 0.0 (what a
    version-2 writer gives a dictionary span; see the module docstring)."""
    items = spans.values  # the list's whole child: ``spans.offsets`` point into it
    linked = pc.and_(
        pc.not_equal(items.field("concept_id"), ""),
        pc.is_in(items.field("origin"), value_set=pa.array(sorted(DICTIONARY_ORIGINS))),
    )
    link_score = pc.if_else(linked, pa.scalar(1.0, pa.float32()), pa.scalar(0.0, pa.float32()))
    children = [items.field(f.name) for f in SPAN_TYPE if f.name != "link_score"]
    upgraded = pa.StructArray.from_arrays([*children, link_score], fields=list(SPAN_TYPE))
    return pa.ListArray.from_arrays(spans.offsets, upgraded, type=SPANS_TYPE)


def content_doc_id(text: str) -> str:
    """Stable id for a document without one: ``sha1:`` + the first 16 hex digits of its text."""
    return "sha1:" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def surrogate_problem(value: str, what: str) -> str | None:
    """What is wrong when ``value`` holds a lone UTF-16 surrogate, which no contract column
    (UTF-8) can hold (JSON's ``"\\ud800"`` escape decodes to one), with ``what`` naming the
    value; None when it holds none."""
    if value.isascii():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"{what} holds an unpaired surrogate escape ({value[exc.start]!a}) at character "
            f"{exc.start}: not text UTF-8 can hold"
        )
    return None


SPAN_ORDER: tuple[str, ...] = ("start", "end", "label", "concept_id", "origin", "matched_term")
"""The canonical span order in every row: the span fields compared, in turn."""

_SPAN_KEY = operator.itemgetter(*SPAN_ORDER)


def span_sort_key(span: Mapping[str, Any]) -> tuple[Any, ...]:
    """The canonical span order (:data:`SPAN_ORDER`) of a span dict."""
    key: tuple[Any, ...] = _SPAN_KEY(span)
    return key


def make_span(
    start: int,
    end: int,
    label: str,
    *,
    origin: Origin | str,
    concept_id: str = "",
    matched_term: str = "",
    score: float = 1.0,
    uncertain: bool = False,
    link_score: float = 0.0,
) -> dict[str, Any]:
    """A span dict with every schema field filled (``link_score`` 0.0: never linked)."""
    return {
        "start": int(start),
        "end": int(end),
        "label": label,
        "concept_id": concept_id,
        "matched_term": matched_term,
        "score": float(score),
        "origin": origin.value if isinstance(origin, Origin) else str(origin),
        "uncertain": bool(uncertain),
        "link_score": float(link_score),
    }


def documents_to_table(docs: Iterable[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Build a contract table; spans are sorted into canonical order."""
    rows = [
        {
            "doc_id": d["doc_id"],
            "text": d["text"],
            "source": d.get("source", ""),
            "spans": sorted(d["spans"], key=span_sort_key),
        }
        for d in docs
    ]
    return pa.Table.from_pylist(rows, schema=schema)


def write_documents(
    docs: Iterable[Mapping[str, Any]],
    path: str | os.PathLike[str],
    schema: pa.Schema,
) -> int:
    """Write one Parquet file atomically (temp file, then rename). Returns the row count."""
    table = documents_to_table(docs, schema)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return table.num_rows
