"""Deterministic output: Parquet shards, dead letters and the run manifest.

Each document goes to shard ``crc32(doc_id) % count``. Labelers write rows as small Arrow IPC
files (one per batch and shard, "pieces") under ``<output>/_staging/`` and hand only their paths
to the writers: the shuffle moves a few bytes per piece, not the texts, which a runner would
otherwise copy several times and hold in memory. A writer concatenates its pieces and sorts
them by ``(doc_id, source, text)``: rows are then a function of the inputs alone, whatever the
worker count or bundle order. The staging folder is removed when the run ends.

Every file is written to a temporary name and renamed, through Beam's ``FileSystems``, so a
reader never sees half a shard, and local and remote outputs take the same path. This module's
:func:`write_bytes_atomic` is the one staged writer for paths that may be remote (``gs://``,
``s3://``); local-only writers use :mod:`binder_core.contract.atomic`.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import logging
import os
import sys
import uuid
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from binder_core.contract.outputs import check_output_path, output_folder
from binder_core.contract.schema import DEAD_LETTER_DIR, MANIFEST_NAME, STAGING_DIR, shard_name
from pipelines.silver.dictionary_files import is_local

try:  # the optional compiled column builder (setup.py); without it pyarrow builds the column
    from pipelines import _arrow_spans
except ImportError:  # pragma: no cover - only where no C compiler was found
    _arrow_spans = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

DEAD_LETTER_FILE = "dead_letters.jsonl"
_SORT_KEYS = [("doc_id", "ascending"), ("source", "ascending"), ("text", "ascending")]

# Keys of the count dictionaries that flow from every stage into the manifest.
INPUT_RECORDS = "input_records"
ROWS = "rows"
DEAD_PREFIX = "dead_letters/"
SPANS_PREFIX = "spans/"
ORIGINS_PREFIX = "origins/"
LABELING_PREFIX = "labeling/"

Row = tuple[str, str, str, Sequence[Sequence[Any]]]
"""A labeled document on its way to a shard: ``(doc_id, text, source, spans)``."""


def shard_for(doc_id: str, count: int) -> int:
    """The shard of a document: stable across processes, machines and Python versions."""
    return zlib.crc32(doc_id.encode("utf-8")) % count


def join_path(directory: str, *names: str) -> str:
    return FileSystems.join(directory, *names)


def rows_table(rows: Sequence[Row], schema: pa.Schema) -> pa.Table:
    """Rows ``(doc_id, text, source, spans)`` -> an Arrow table of ``schema``.

    ``spans`` are span tuples in schema field order (``dictionaries.Match``), already in
    canonical order; building columns from tuples avoids a dict per span.
    """
    columns = [[row[i] for row in rows] for i in range(len(schema))]
    arrays = [
        spans_array(col, f.type) if pa.types.is_list(f.type) else pa.array(col, type=f.type)
        for col, f in zip(columns, schema, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


_LAYOUT_CODES = {pa.int32(): "i", pa.float32(): "f", pa.string(): "s", pa.bool_(): "b"}


@functools.cache  # one schema per run: computed once, not per batch
def _layout(list_type: pa.DataType) -> str | None:
    """The compiled builder's layout of a list<struct> type (one code per field), or None
    when the type has a field it cannot build."""
    if not pa.types.is_list(list_type) or not pa.types.is_struct(list_type.value_type):
        return None
    codes = [_LAYOUT_CODES.get(f.type) for f in list_type.value_type]
    return None if None in codes else "".join(c for c in codes if c)


def spans_array(spans: Sequence[Sequence[Sequence[Any]]], list_type: pa.DataType) -> pa.Array:
    """One row's spans per item (span tuples in field order) -> a list<struct> array.

    The compiled builder (``pipelines/_arrow_spans.c``) writes the Arrow buffers in one pass,
    about four times as fast as ``pa.array`` on nested tuples; values it does not take (None,
    another type) and types it does not know go to ``pa.array``, the reference, which gives
    the same array or the error.
    """
    layout = _layout(list_type) if _arrow_spans is not None else None
    if layout is None:
        return pa.array(spans, type=list_type)
    if not isinstance(spans, list | tuple):  # an iterator the builder would use up before pa.array
        spans = list(spans)
    try:
        row_offsets, parts = _arrow_spans.span_buffers(spans, layout)
    except (TypeError, ValueError, OverflowError):
        return pa.array(spans, type=list_type)
    count = (len(row_offsets) // 4) - 1
    n = int.from_bytes(row_offsets[-4:], sys.byteorder, signed=True)  # the last offset
    children = []
    for field, part in zip(list_type.value_type, parts, strict=True):
        buffers = (
            [None, *map(pa.py_buffer, part)]
            if isinstance(part, tuple)
            else [None, pa.py_buffer(part)]
        )
        children.append(pa.Array.from_buffers(field.type, n, buffers))
    items = pa.StructArray.from_arrays(children, fields=list(list_type.value_type))
    offsets = pa.Array.from_buffers(pa.int32(), count + 1, [None, pa.py_buffer(row_offsets)])
    return pa.ListArray.from_arrays(offsets, items, type=list_type)


def encode_table(table: pa.Table) -> bytes:
    """One Arrow IPC stream holding ``table``."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def staging_path(out_dir: str) -> str:
    return join_path(out_dir, STAGING_DIR)


def stage_piece(data: bytes, staging: str, shard: int) -> str:
    """Write one piece (IPC bytes) under ``staging`` with a name no other piece has; return
    its path. Nothing reads it before its path is handed on, so no rename is needed."""
    if is_local(staging):
        os.makedirs(staging, exist_ok=True)
    path = join_path(staging, f"{shard:05d}-{uuid.uuid4().hex}.arrow")
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as out:
        out.write(data)
    return path


def read_piece(path: str) -> bytes:
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        data: bytes = f.read()
    return data


def remove_staging(out_dir: str) -> None:
    """Delete the staging folder and every piece in it (also those of failed attempts)."""
    staging = staging_path(out_dir)
    found = [m.path for r in FileSystems.match([join_path(staging, "*")]) for m in r.metadata_list]
    if found:
        FileSystems.delete(found)
    if is_local(staging) and os.path.isdir(staging):
        os.rmdir(staging)


def decode_rows(pieces: Iterable[bytes], schema: pa.Schema) -> pa.Table:
    """Concatenate IPC pieces into one table in canonical row order (empty when no pieces)."""
    tables = [pa.ipc.open_stream(piece).read_all() for piece in pieces]
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    return table.sort_by(_SORT_KEYS).replace_schema_metadata(schema.metadata)


def table_counts(table: pa.Table) -> dict[str, int]:
    """Rows, spans per label and spans per origin of one shard, in the manifest's count keys."""
    counts = {ROWS: table.num_rows}
    spans = pc.list_flatten(table.column("spans"))
    for field, prefix in (("label", SPANS_PREFIX), ("origin", ORIGINS_PREFIX)):
        for item in pc.value_counts(pc.struct_field(spans, field)).to_pylist():
            counts[prefix + item["values"]] = item["counts"]
    return counts


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` (local or remote) through a temporary name and a rename."""
    directory, name = FileSystems.split(path)
    tmp = join_path(directory, f".{name}.tmp")
    if is_local(path):
        os.makedirs(directory, exist_ok=True)  # object stores have no folders to make
    with FileSystems.create(tmp, compression_type=CompressionTypes.UNCOMPRESSED) as out:
        out.write(data)
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])


def write_shard(table: pa.Table, out_dir: str, index: int, count: int) -> str:
    """Write one Parquet shard (zstd) atomically; returns its path."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    path = join_path(out_dir, shard_name(index, count))
    write_bytes_atomic(path, buffer.getvalue())
    return path


def dead_letter_path(out_dir: str) -> str:
    return join_path(out_dir, DEAD_LETTER_DIR, DEAD_LETTER_FILE)


def write_dead_letters(letters: Iterable[Mapping[str, Any]], out_dir: str) -> dict[str, int]:
    """Write every dead letter as one JSON line, sorted by file and line; return the counts."""
    ordered = sorted(letters, key=lambda d: (d["path"], d["line"], d["reason"], d["detail"]))
    lines = "".join(json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n" for d in ordered)
    write_bytes_atomic(dead_letter_path(out_dir), lines.encode("utf-8"))
    return dict(Counter(DEAD_PREFIX + d["reason"] for d in ordered))


def merge_counts(parts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Sum count dictionaries (associative and commutative, so Beam may combine in any order)."""
    total: Counter[str] = Counter()
    for part in parts:
        total.update(part)
    return dict(total)


def manifest_counts(counts: Mapping[str, int]) -> dict[str, Any]:
    """The manifest's ``counts`` block, with the records = rows + dead letters check.

    ``spans_by_label`` counts :data:`binder_core.contract.schema.ANY_LABEL` spans under ``"*"``;
    ``labeling`` holds what :mod:`pipelines.silver.labeling` counted (abbreviations, held-out and
    uncertain-dictionary spans).
    """

    def by(prefix: str) -> dict[str, int]:
        return {k[len(prefix) :]: v for k, v in sorted(counts.items()) if k.startswith(prefix)}

    dead, spans = by(DEAD_PREFIX), by(SPANS_PREFIX)
    records, rows = counts.get(INPUT_RECORDS, 0), counts.get(ROWS, 0)
    return {
        "input_records": records,
        "rows": rows,
        "dead_letters": sum(dead.values()),
        "dead_letters_by_reason": dead,
        "spans": sum(spans.values()),
        "spans_by_label": spans,
        "spans_by_origin": by(ORIGINS_PREFIX),
        "labeling": by(LABELING_PREFIX),
        "balanced": records == rows + sum(dead.values()),
    }


def write_manifest(manifest: Mapping[str, Any], out_dir: str) -> None:
    """Write ``_manifest.json``; an unbalanced count is a bug, so it is logged as an error."""
    counts = manifest["counts"]
    if not counts["balanced"]:
        logger.error(
            "records do not add up: %d input records, %d rows, %d dead letters",
            counts["input_records"],
            counts["rows"],
            counts["dead_letters"],
        )
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_bytes_atomic(join_path(out_dir, MANIFEST_NAME), text.encode("utf-8"))


def read_manifest(out_dir: str) -> dict[str, Any]:
    with FileSystems.open(
        join_path(out_dir, MANIFEST_NAME), compression_type=CompressionTypes.UNCOMPRESSED
    ) as f:
        return json.loads(f.read().decode("utf-8"))


def clear_outputs(out_dir: str) -> list[str]:
    """Delete what an earlier run wrote here (shards, dead letters, manifest, and the staging
    folder of a run that was cut short); return the paths of the outputs.

    Shard names are fixed, but an earlier run with another shard count leaves other names, which
    would otherwise be read as part of this run. Nothing else in the folder is touched.
    """
    remove_staging(out_dir)
    patterns = [
        join_path(out_dir, "part-*-of-*.parquet"),
        dead_letter_path(out_dir),
        join_path(out_dir, MANIFEST_NAME),
    ]
    stale = [m.path for r in FileSystems.match(patterns) for m in r.metadata_list]
    if stale:
        logger.info("removing %d outputs of an earlier run in %s", len(stale), out_dir)
        FileSystems.delete(stale)
    return stale


def check_pipeline_output(output: str, kind: str, inputs: Sequence[str], overwrite: bool) -> None:
    """Refuse a local ``output`` that is a file, mixes with an input or holds foreign files,
    before a pipeline starts (see :func:`binder_core.contract.outputs.check_output_path`)."""
    if is_local(output):
        local = [path for path in inputs if is_local(path)]
        check_output_path(output, inputs=local, overwrite=overwrite, kind=kind)


@contextlib.contextmanager
def pipeline_output(
    output: str, kind: str, inputs: Sequence[str], overwrite: bool = False
) -> Iterator[str]:
    """The folder a pipeline writes ``output`` into.

    A local folder is built in a hidden sibling and swapped into place when the pipeline ends
    well (:func:`binder_core.contract.outputs.output_folder`: whole or absent, locked, foreign files
    refused unless ``overwrite``). A remote folder is written in place, after the outputs of an
    earlier run there are cleared; its manifest, written last, is what marks it complete.
    """
    if is_local(output):
        local = [path for path in inputs if is_local(path)]
        with output_folder(output, kind, inputs=local, overwrite=overwrite) as tmp:
            try:
                yield str(tmp)
            finally:
                remove_staging(str(tmp))
        return
    clear_outputs(output)
    try:
        yield output
    finally:
        remove_staging(output)
