"""The silver labeling pipeline: corpus files -> dictionary matches -> Parquet shards.

::

    files ─ PlanRanges ─ Reshuffle ─ ReadRecords ─ ParseRecords ─┬─ MatchSpans ─ EncodeShards ─┐
                                                                 └─ dead letters ─ WriteDead   │
    shard keys ────────────────────────────────────────────────── GroupByKey ─ WriteShards ────┤
                                                                      counts ─ WriteManifest ◄──┘

Text never crosses a shuffle: labeled rows are staged as Arrow IPC files under
``<output>/_staging`` and only their paths are grouped by shard (the staging folder is removed
at the end). Files are split into byte ranges so large files are still read and matched in
parallel.
Records move in batches, so per-element Beam overhead is paid once per batch.

Run it as a module (``python -m pipelines.label --input ... --dict ... --output ...``, plus any
Beam options) or through ``binder silver build`` / ``binder silver submit``.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from binder_core.errors import ConfigError, InputError
from binder_core.schema import SCHEMA_VERSION, document_schema, shard_name
from pipelines import shards as out
from pipelines.batches import Batch
from pipelines.readers import (
    CORPUS_FORMATS,
    ByteRange,
    DeadLetter,
    InputFile,
    ReadConfig,
    expand_inputs,
    iter_records,
    parse_record,
    plan_ranges,
)
from pipelines.runners import Execution, LocalRunnerConfig, local_execution, remote_execution

if TYPE_CHECKING:
    from dictionaries.compiled import DictionaryInfo

logger = logging.getLogger(__name__)

Overlap = Literal["longest", "all"]
METRICS_NAMESPACE = "binder.silver"
_DEAD = "dead_letters"
_COUNTS = "counts"


@dataclass(frozen=True)
class SilverConfig:
    """One labeling run: what to read, which dictionary, how to match, where to write."""

    inputs: tuple[str, ...]  # files or globs, local or remote
    dictionary: str  # a compiled dictionary (``binder dict compile``), local or remote
    output: str  # folder for shards, ``_dead_letters/`` and ``_manifest.json``
    read: ReadConfig = field(default_factory=ReadConfig)
    overlap: Overlap = "longest"  # longest: one match per position; all: nested/overlapping
    fuzzy: bool = False  # also keep near-miss matches (rapidfuzz) above ``fuzzy_threshold``
    fuzzy_threshold: float = 90.0  # 0..100
    shards: int = 4  # fixed number of output files

    def __post_init__(self) -> None:
        if not self.inputs:
            raise ConfigError("no corpus given; pass one or more files or globs")
        if not self.dictionary or not self.output:
            raise ConfigError("both a dictionary (--dict) and an output folder (--out) are needed")
        if self.overlap not in get_args(Overlap):
            raise ConfigError(f"--overlap must be one of {get_args(Overlap)}, got {self.overlap!r}")
        if not 0.0 <= self.fuzzy_threshold <= 100.0:
            raise ConfigError(f"--fuzzy-threshold must be in [0, 100], got {self.fuzzy_threshold}")
        if not 1 <= self.shards <= 100_000:
            raise ConfigError(f"--shards must be between 1 and 100000, got {self.shards}")

    def options(self) -> dict[str, Any]:
        """What changes the rows (saved in the Parquet metadata and the manifest)."""
        read = asdict(self.read)
        for speed_only in ("split_bytes", "batch_docs"):
            read.pop(speed_only)
        return {
            **read,
            "overlap": self.overlap,
            "fuzzy": self.fuzzy,
            "fuzzy_threshold": self.fuzzy_threshold,
            "shards": self.shards,
        }


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
        yield beam.pvalue.TaggedOutput(_COUNTS, {out.INPUT_RECORDS: total})


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
                yield beam.pvalue.TaggedOutput(_DEAD, parsed._asdict())
            else:
                docs.append(parsed)
        if docs:
            yield docs


class MatchSpansFn(beam.DoFn):
    """A batch of documents -> a batch of rows ``(doc_id, text, source, spans)``.

    The compiled dictionary is loaded once per worker, in ``setup``.
    """

    def __init__(self, dictionary: str, overlap: Overlap, fuzzy: bool, threshold: float) -> None:
        self._dictionary = dictionary
        self._options = (overlap, fuzzy, threshold)
        self._counters: dict[str, Any] = {}
        self._documents = Metrics.counter(METRICS_NAMESPACE, "documents")

    def setup(self) -> None:
        from dictionaries import MatchOptions, match

        self._match = match
        self._compiled = load_dictionary(self._dictionary)
        overlap, fuzzy, threshold = self._options
        self._match_options = MatchOptions(overlap=overlap, fuzzy=fuzzy, fuzzy_threshold=threshold)
        # Matching allocates a tuple per span, which keeps triggering the cyclic collector; each
        # full collection would rescan every object this worker holds. What exists now (the
        # runner, the dictionary) lives as long as the worker: exempt it from those scans.
        gc.freeze()

    def teardown(self) -> None:
        gc.unfreeze()

    def process(self, docs: Any) -> Iterator[Batch]:
        # match() returns spans sorted and unique by (start, end, label, concept_id): the
        # schema's canonical order, so no re-sort here.
        match, compiled, options = self._match, self._compiled, self._match_options
        rows = Batch(
            (doc.doc_id, doc.text, doc.source, match(doc.text, compiled, options)) for doc in docs
        )
        self._documents.inc(len(rows))
        yield rows


class EncodeShardsFn(beam.DoFn):
    """A batch of rows -> one ``(shard, piece path)`` per shard it touches.

    Each piece is the batch's rows of one shard as an Arrow IPC file under ``staging``
    (see :mod:`pipelines.shards`). Also counts spans per label (Beam metrics ``spans/<label>``),
    with Arrow rather than span by span.
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


class LabelDocuments(beam.PTransform):
    """Batches of documents -> ``(shard, piece path)`` of labeled rows, staged under
    ``<output>/_staging``."""

    def __init__(self, config: SilverConfig, schema: pa.Schema) -> None:
        super().__init__()
        self._config, self._schema = config, schema

    def expand(self, docs: Any) -> Any:
        c = self._config
        return (
            docs
            | "MatchSpans"
            >> beam.ParDo(
                MatchSpansFn(c.dictionary, c.overlap, c.fuzzy, c.fuzzy_threshold)
            ).with_output_types(Batch)
            | "EncodeShards"
            >> beam.ParDo(EncodeShardsFn(c.shards, self._schema, out.staging_path(c.output)))
        )


class ReadCorpus(beam.PTransform):
    """Input files -> ``(documents, dead letters, read counts)``: batches of valid documents,
    one dict per bad record, and ``{"input_records": n}`` per byte range."""

    def __init__(self, files: Sequence[InputFile], config: ReadConfig) -> None:
        super().__init__()
        self._files, self._config = list(files), config

    def expand(self, pbegin: Any) -> Any:
        records = (
            pbegin
            | "ListFiles" >> beam.Create([tuple(f) for f in self._files])
            | "PlanRanges"
            >> beam.FlatMap(
                lambda f, c: [tuple(r) for r in plan_ranges(InputFile(*f), c)], self._config
            )
            | "SpreadRanges" >> beam.Reshuffle()
            | "ReadRecords"
            >> beam.ParDo(ReadRecordsFn(self._config))
            .with_output_types(Batch)
            .with_outputs(_COUNTS, main="records")
        )
        parsed = records.records | "ParseRecords" >> beam.ParDo(
            ParseRecordsFn(self._config)
        ).with_output_types(Batch).with_outputs(_DEAD, main="docs")
        return parsed.docs, parsed[_DEAD], records[_COUNTS]


class WriteSilver(beam.PTransform):
    """Shard pieces and dead letters -> Parquet shards, dead-letter JSONL, and the manifest."""

    def __init__(self, output: str, shards: int, schema: pa.Schema, manifest: Mapping[str, Any]):
        super().__init__()
        self._output, self._shards, self._schema = output, shards, schema
        self._manifest = dict(manifest)

    def expand(self, inputs: Any) -> Any:
        pieces, dead_letters, read_counts = inputs
        p = pieces.pipeline
        every_shard = p | "EveryShard" >> beam.Create([(i, "") for i in range(self._shards)])
        shard_counts = (
            (pieces, every_shard)
            | "AllPieces" >> beam.Flatten()
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShards" >> beam.ParDo(WriteShardFn(self._output, self._shards, self._schema))
        )
        dead_counts = (
            dead_letters
            | "CollectDeadLetters" >> beam.combiners.ToList()
            | "WriteDeadLetters" >> beam.Map(out.write_dead_letters, self._output)
        )
        return (
            (read_counts, shard_counts, dead_counts)
            | "AllCounts" >> beam.Flatten()
            | "SumCounts" >> beam.CombineGlobally(out.merge_counts)
            | "WriteManifest" >> beam.Map(_write_manifest, self._manifest, self._output)
        )


def _write_manifest(
    counts: Mapping[str, int], static: Mapping[str, Any], output: str
) -> dict[str, Any]:
    manifest = {**static, "counts": out.manifest_counts(counts)}
    out.write_manifest(manifest, output)
    return manifest


def _is_local(path: str) -> bool:
    return FileSystems.get_scheme(path) in (None, "file")


def _missing(path: str) -> InputError:
    return InputError("no such compiled dictionary; make one with `binder dict compile`", path=path)


def load_dictionary(path: str) -> Any:
    """Load a compiled dictionary from a local path, or copy a remote one to a temp file first."""
    from dictionaries import load_compiled

    if _is_local(path):
        if not os.path.isfile(path):
            raise _missing(path)
        return load_compiled(path)
    with tempfile.TemporaryDirectory(prefix="binder-dict-") as tmp:
        local = os.path.join(tmp, os.path.basename(path))
        with (
            FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as src,
            open(local, "wb") as dst,
        ):
            shutil.copyfileobj(src, dst)
        return load_compiled(local)


def dictionary_info(path: str) -> DictionaryInfo:
    """The header of a compiled dictionary (labels, fingerprint), local or remote.

    Reads a few bytes, not the matcher: the driver needs only these for the schema and manifest.
    """
    from dictionaries.compiled import load_info, read_info

    if _is_local(path):
        if not os.path.isfile(path):
            raise _missing(path)
        return load_info(path)
    if not FileSystems.exists(path):
        raise _missing(path)
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
        return read_info(stream, path)


def _absolute(path: str) -> str:
    return os.path.abspath(path) if _is_local(path) else path


def build_silver(config: SilverConfig, execution: Execution) -> dict[str, Any]:
    """Run the labeling pipeline to completion and return its manifest.

    Paths are made absolute first, since workers may not share this process's directory.
    Outputs of an earlier run in the same folder are replaced.
    """
    config = SilverConfig(
        **{
            **{f: getattr(config, f) for f in config.__dataclass_fields__},
            "inputs": tuple(_absolute(p) for p in config.inputs),
            "dictionary": _absolute(config.dictionary),
            "output": _absolute(config.output),
        }
    )
    files = expand_inputs(config.inputs)
    info = dictionary_info(config.dictionary)
    labels, fingerprint = tuple(info.labels), str(info.fingerprint)
    schema = document_schema(labels, fingerprint, extra=config.options())
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "inputs": [f.path for f in files],
        "options": config.options(),
        "dictionary": {
            "path": config.dictionary,
            "fingerprint": fingerprint,
            "labels": list(labels),
        },
        "shards": [shard_name(i, config.shards) for i in range(config.shards)],
        "dead_letters": f"{out.DEAD_LETTER_DIR}/{out.DEAD_LETTER_FILE}",
        "runner": execution.description,
    }
    out.clear_outputs(config.output)
    logger.info(
        "labeling %d file(s) with %s on %s", len(files), config.dictionary, execution.description
    )
    try:
        with beam.Pipeline(runner=execution.runner, options=execution.options) as pipeline:
            docs, dead, read_counts = pipeline | "ReadCorpus" >> ReadCorpus(files, config.read)
            pieces = docs | "LabelDocuments" >> LabelDocuments(config, schema)
            _ = (pieces, dead, read_counts) | "WriteSilver" >> WriteSilver(
                config.output, config.shards, schema, manifest
            )
    finally:
        out.remove_staging(config.output)
    return out.read_manifest(config.output)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--input", action="append", required=True, help="corpus file or glob (repeatable)"
    )
    parser.add_argument("--dict", dest="dictionary", required=True, help="compiled dictionary file")
    parser.add_argument("--output", required=True, help="output folder")
    parser.add_argument("--format", choices=CORPUS_FORMATS, default="text")
    parser.add_argument("--id_field", default="id")
    parser.add_argument("--text_field", default="text")
    parser.add_argument("--max_doc_bytes", type=int, default=ReadConfig.max_doc_bytes)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--overlap", choices=get_args(Overlap), default="longest")
    parser.add_argument("--fuzzy", action="store_true")
    parser.add_argument("--fuzzy_threshold", type=float, default=90.0)
    parser.add_argument(
        "--workers", type=int, default=1, help="local worker processes (no --runner)"
    )
    return parser


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Parse pipeline and Beam options; run locally, or on ``--runner`` when one is given."""
    args, beam_args = _parser().parse_known_args(argv)
    config = SilverConfig(
        inputs=tuple(args.input),
        dictionary=args.dictionary,
        output=args.output,
        read=ReadConfig(
            format=args.format,
            id_field=args.id_field,
            text_field=args.text_field,
            max_doc_bytes=args.max_doc_bytes,
        ),
        overlap=args.overlap,
        fuzzy=args.fuzzy,
        fuzzy_threshold=args.fuzzy_threshold,
        shards=args.shards,
    )
    if any(a == "--runner" or a.startswith("--runner=") for a in beam_args):
        execution = remote_execution(beam_args)
    else:
        execution = local_execution(LocalRunnerConfig(workers=args.workers))
    return build_silver(config, execution)


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)
    run()
