"""Split a contract Parquet data set into named parts (train/dev/test) by document id.

A document's part depends on its id and the seed alone (a BLAKE2b hash mapped to [0, 1) and
cut at the cumulative fractions), so a split is reproducible on any machine, stable when
documents are added, and identical for gold and silver copies of the same texts. Each part is a
folder ``OUT/<name>/`` with one shard in the current schema version that keeps the source's
schema metadata (labels, dictionary fingerprint; a version-1 source is upgraded), and
``OUT/_manifest.json`` counts the documents and spans per part; the part counts add up to the
input's.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from binder_core.contract.atomic import atomic_path, write_json_atomic
from binder_core.contract.errors import ConfigError
from binder_core.contract.outputs import check_output_path, output_folder
from binder_core.contract.schema import (
    MANIFEST_NAME,
    META_VERSION,
    SCHEMA_VERSION,
    document_schema,
    iter_shard,
    open_dataset,
    shard_name,
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_BATCH = 512


@dataclass(frozen=True)
class SplitResult:
    out_dir: Path
    documents: dict[str, int]
    spans: dict[str, int]
    manifest: dict[str, Any]


def parse_parts(items: Sequence[str]) -> dict[str, float]:
    """``["train=0.8", "test=0.2"]`` -> ``{"train": 0.8, "test": 0.2}``, checked."""
    parts: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            fraction = float(value)
        except ValueError:
            fraction = -1.0
        if not sep or not _NAME.match(name) or not 0.0 < fraction <= 1.0:
            raise ConfigError(
                f"--part {item!r}: write it as NAME=FRACTION with 0 < FRACTION <= 1, e.g. train=0.8"
            )
        if name in parts:
            raise ConfigError(f"--part {name!r} is given twice")
        parts[name] = fraction
    if not parts:
        raise ConfigError("give at least one --part NAME=FRACTION")
    total = sum(parts.values())
    if abs(total - 1.0) > 1e-6:
        raise ConfigError(f"--part fractions add up to {total:g}; they must add up to 1")
    return parts


def assign_part(doc_id: str, parts: Mapping[str, float], seed: int = 0) -> str:
    """The part of ``doc_id``: a pure function of the id, the fractions (in order) and the seed."""
    digest = hashlib.blake2b(f"{seed}\x00{doc_id}".encode(), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2**64
    edge = 0.0
    name = ""
    for name, fraction in parts.items():
        edge += fraction
        if u < edge:
            return name
    return name  # rounding at the top edge


def split_dataset(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    parts: Mapping[str, float],
    seed: int = 0,
    *,
    overwrite: bool = False,
) -> SplitResult:
    """Write each document of ``source`` to ``out_dir/<part>/``; stream, one batch in memory.

    The folder is written whole or not at all (:func:`binder_core.contract.outputs.output_folder`).
    """
    if not parts:
        raise ConfigError("give at least one part")
    shards, _ = open_dataset(source)
    check_output_path(out_dir, inputs=[source], overwrite=overwrite, kind="split")
    with output_folder(out_dir, "split", inputs=[source], overwrite=overwrite) as tmp:
        manifest, documents, spans = _split(source, shards, tmp, parts, seed)
    return SplitResult(out_dir=Path(out_dir), documents=documents, spans=spans, manifest=manifest)


def _split(
    source: str | os.PathLike[str],
    shards: list[Path],
    out: Path,
    parts: Mapping[str, float],
    seed: int,
) -> tuple[dict[str, Any], dict[str, int], dict[str, int]]:
    source_meta = pq.read_schema(shards[0]).metadata or {}
    # the current columns (iter_shard upgrades older rows) with the source's run metadata
    schema = document_schema(()).with_metadata(
        {**source_meta, META_VERSION: str(SCHEMA_VERSION).encode()}
    )
    writers: dict[str, pq.ParquetWriter] = {}
    files = ExitStack()  # each part's temp file: renamed into place on success
    buffers: dict[str, list[dict[str, Any]]] = {name: [] for name in parts}
    documents = dict.fromkeys(parts, 0)
    spans = dict.fromkeys(parts, 0)

    def writer(name: str) -> pq.ParquetWriter:
        if name not in writers:
            tmp = files.enter_context(atomic_path(out / name / shard_name(0, 1)))
            writers[name] = pq.ParquetWriter(tmp, schema, compression="zstd")
            files.callback(writers[name].close)  # closed before its file is renamed
        return writers[name]

    def flush(name: str) -> None:
        if buffers[name]:
            writer(name).write_table(pa.Table.from_pylist(buffers[name], schema=schema))
            buffers[name] = []

    with files:
        for shard in shards:
            for doc in iter_shard(shard, batch_size=_BATCH):
                name = assign_part(doc["doc_id"], parts, seed)
                buffers[name].append(doc)
                documents[name] += 1
                spans[name] += len(doc["spans"])
                if len(buffers[name]) >= _BATCH:
                    flush(name)
        for name in parts:
            flush(name)
            writer(name)  # an empty part is still a valid, empty data set
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "kind": "split",
        "input": str(source),
        "seed": seed,
        "parts": dict(parts),
        "counts": {
            "documents": sum(documents.values()),
            "documents_per_part": documents,
            "spans_per_part": spans,
        },
    }
    write_json_atomic(out / MANIFEST_NAME, manifest)
    return manifest, documents, spans
