"""The silver pipeline's reading and writing transforms: corpus files -> batches of documents
(and dead letters), staged shard pieces -> Parquet shards, dead letters and the manifest.

:mod:`pipelines.silver.pipeline` puts them around its labeling step; each is a plain DoFn or
composite PTransform over the functions of :mod:`pipelines.corpus.readers` and
:mod:`pipelines.silver.shards`, so tests run them on ``beam.Create``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics

from pipelines.corpus.damaged_input import partial_files
from pipelines.corpus.readers import (
    ByteRange,
    DeadLetter,
    InputFile,
    iter_records,
    plan_ranges,
)
from pipelines.corpus.records import parse_record
from pipelines.silver import shards as out
from pipelines.silver.batches import Batch
from pipelines.silver.config import ReadConfig
from pipelines.silver.labeling import LABELING_COUNTS

METRICS_NAMESPACE = "binder.silver"
DEAD = "dead_letters"
COUNTS = "counts"


def _counter(cache: dict[str, Any], name: str) -> Any:
    if name not in cache:
        cache[name] = Metrics.counter(METRICS_NAMESPACE, name)
    return cache[name]


class ReadRecordsFn(beam.DoFn):
    """A byte range -> batches of raw records; also emits how many records it read."""

    def __init__(self, config: ReadConfig) -> None:
        self._config = config
        self._records = Metrics.counter(METRICS_NAMESPACE, "input_records")

    def process(self, byte_range: Any) -> Iterator[Any]:
        batch = Batch()
        total = 0
        for record in iter_records(ByteRange(*byte_range), self._config):
            batch.append(record)
            if len(batch) >= self._config.batch_docs:
                total += len(batch)
                yield batch
                batch = Batch()
        if batch:
            total += len(batch)
            yield batch
        self._records.inc(total)
        yield beam.pvalue.TaggedOutput(COUNTS, {out.INPUT_RECORDS: total})


class ParseRecordsFn(beam.DoFn):
    """A batch of raw records -> a batch of documents, plus one dead letter per bad record."""

    def __init__(self, config: ReadConfig) -> None:
        self._config = config
        self._counters: dict[str, Any] = {}

    def process(self, batch: Any) -> Iterator[Any]:
        docs = Batch()
        for record in batch:
            parsed = parse_record(record, self._config)
            if isinstance(parsed, DeadLetter):
                _counter(self._counters, f"dead_letters/{parsed.reason}").inc()
                yield beam.pvalue.TaggedOutput(DEAD, parsed._asdict())
            else:
                docs.append(parsed)
        if docs:
            yield docs


class EncodeShardsFn(beam.DoFn):
    """A batch of rows -> one ``(shard, piece path)`` per shard it touches.

    Each piece is the batch's rows of one shard as an Arrow IPC file under ``staging``
    (see :mod:`pipelines.silver.shards`). Also counts spans per label (Beam metrics
    ``spans/<label>``), with Arrow rather than span by span.
    """

    def __init__(self, shards: int, schema: pa.Schema, staging: str) -> None:
        self._shards = shards
        self._schema = schema.remove_metadata()  # the writer puts the run metadata back
        self._staging = staging
        self._counters: dict[str, Any] = {}

    def process(self, rows: Any) -> Iterator[tuple[int, str]]:
        by_shard: dict[int, list[out.Row]] = {}
        for row in rows:
            by_shard.setdefault(out.shard_for(row[0], self._shards), []).append(row)
        for shard in sorted(by_shard):
            table = out.rows_table(by_shard[shard], self._schema)
            for key, n in out.table_counts(table).items():
                if key.startswith(out.SPANS_PREFIX):
                    _counter(self._counters, key).inc(n)
            yield shard, out.stage_piece(out.encode_table(table), self._staging, shard)


class WriteShardFn(beam.DoFn):
    """``(shard, piece paths)`` -> one sorted Parquet file; emits its row and span counts.

    An empty path stands for "no piece" (every shard gets one, so empty shards are written too).
    """

    def __init__(self, output: str, shards: int, schema: pa.Schema) -> None:
        self._output, self._shards, self._schema = output, shards, schema

    def process(self, element: Any) -> Iterator[dict[str, int]]:
        shard, paths = element
        pieces = (out.read_piece(path) for path in sorted(paths) if path)
        table = out.decode_rows(pieces, self._schema)
        out.write_shard(table, self._output, shard, self._shards)
        yield out.table_counts(table)


class ReadCorpus(beam.PTransform):
    """Input files -> ``(documents, dead letters, read counts)``: batches of valid documents,
    one dict per bad record, and ``{"input_records": n}`` per byte range.

    ``workers``: how many workers the runner shares the byte ranges among (each file is cut into
    a multiple of that many ranges of equal size, so that each gets the same share).
    ``spread``: redistribute the ranges among the workers (a ``Reshuffle``); pass False only
    where every step runs in one process (the one-worker local runner), which saves a stage.
    """

    def __init__(
        self,
        files: Sequence[InputFile],
        config: ReadConfig,
        workers: int = 1,
        *,
        spread: bool = True,
    ) -> None:
        super().__init__()
        self._files, self._config, self._workers = list(files), config, workers
        self._spread = spread

    def expand(self, pbegin: Any) -> Any:
        ranges = (
            pbegin
            | "ListFiles" >> beam.Create([tuple(f) for f in self._files])
            | "PlanRanges"
            >> beam.FlatMap(
                lambda f, c, w: [tuple(r) for r in plan_ranges(InputFile(*f), c, w)],
                self._config,
                self._workers,
            )
        )
        if self._spread:
            ranges = ranges | "SpreadRanges" >> beam.Reshuffle()
        records = ranges | "ReadRecords" >> beam.ParDo(
            ReadRecordsFn(self._config)
        ).with_output_types(Batch).with_outputs(COUNTS, main="records")
        parsed = records.records | "ParseRecords" >> beam.ParDo(
            ParseRecordsFn(self._config)
        ).with_output_types(Batch).with_outputs(DEAD, main="docs")
        return parsed.docs, parsed[DEAD], records[COUNTS]


class WriteSilver(beam.PTransform):
    """Shard pieces and dead letters -> Parquet shards, dead-letter JSONL, and the manifest.

    The dead letters and every count dictionary meet in one group (one key), whose single
    element writes the dead-letter file and then the manifest: one stage and six transforms,
    where a global combine for each (with its default-value side input) takes three stages and
    thirty transforms, and Beam's construction and bundle costs go by those counts. The group
    is never empty, since every shard reports its counts.
    """

    def __init__(self, output: str, shards: int, schema: pa.Schema, manifest: Mapping[str, Any]):
        super().__init__()
        self._output, self._shards, self._schema = output, shards, schema
        self._manifest = dict(manifest)

    def expand(self, inputs: Any) -> Any:
        pieces, dead_letters, read_counts, label_counts = inputs
        p = pieces.pipeline
        every_shard = p | "EveryShard" >> beam.Create([(i, "") for i in range(self._shards)])
        shard_counts = (
            (pieces, every_shard)
            | "AllPieces" >> beam.Flatten()
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShards" >> beam.ParDo(WriteShardFn(self._output, self._shards, self._schema))
        )
        counts = (read_counts, label_counts, shard_counts) | "AllCounts" >> beam.Flatten()
        return (
            (
                counts | "KeyCounts" >> beam.Map(lambda c: (0, (COUNTS, c))),
                dead_letters | "KeyDeadLetters" >> beam.Map(lambda d: (0, (DEAD, d))),
            )
            | "CountsAndDeadLetters" >> beam.Flatten()
            | "GatherAll" >> beam.GroupByKey()
            | "WriteManifest" >> beam.Map(_finish, self._manifest, self._output)
        )


def _finish(
    group: tuple[int, Iterable[tuple[str, Any]]], static: Mapping[str, Any], output: str
) -> dict[str, Any]:
    """Write the dead letters (``DEAD`` parts of the group), then the manifest from every
    ``COUNTS`` part and the dead-letter counts; return the manifest."""
    counts: list[Mapping[str, int]] = []
    letters: list[Mapping[str, Any]] = []
    for kind, part in group[1]:
        (letters if kind == DEAD else counts).append(part)
    counts.append(out.write_dead_letters(letters, output))
    return _write_manifest(out.merge_counts(counts), static, output, partial_files(letters))


def _write_manifest(
    counts: Mapping[str, int],
    static: Mapping[str, Any],
    output: str,
    partial: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    every = {out.LABELING_PREFIX + key: 0 for key in LABELING_COUNTS}
    manifest = {
        **static,
        "counts": out.manifest_counts({**every, **counts}),
        "partial_files": list(partial),
    }
    out.write_manifest(manifest, output)
    return manifest
