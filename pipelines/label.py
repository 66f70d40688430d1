"""The silver labeling pipeline: corpus files -> dictionary matches -> Parquet shards.

::

    files ─ PlanRanges ─ Reshuffle* ─ ReadRecords ─ ParseRecords ─┬─ MatchSpans ─ EncodeShards ─┐
                                                                  │                pieces by shard
    shard keys ─────────────────────────────────────────────────────────── GroupByKey ◄─────────┘
                                                                  │        WriteShards
                                                                  └ dead letters ┐  │ counts
    counts of ReadRecords and MatchSpans ──────────────────────────────── GatherAll ◄┘
                                                          WriteManifest (and the dead letters)

    * not in a one-worker local run, whose steps all share one process

``MatchSpans`` calls :func:`pipelines.labeling.label_documents` on each batch of documents: the
typed dictionary's matches, plus held-out matches, abbreviation short forms and uncertain (broad
lexicon) spans where the run asks for them.

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
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, get_args

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics

from binder_core.config import default_of, help_of
from binder_core.schema import SCHEMA_VERSION, document_schema, shard_name
from pipelines import shards as out
from pipelines.batches import Batch
from pipelines.damaged_input import check_partial_files
from pipelines.dictionary_files import dictionary_info, is_local, load_dictionary
from pipelines.labeling_config import AbbreviationLongForm, LabelingConfig
from pipelines.readers import expand_inputs
from pipelines.runners import Execution, LocalRunnerConfig, local_execution, remote_execution
from pipelines.silver_config import CORPUS_FORMATS, Overlap, ReadConfig, SilverConfig
from pipelines.transforms import COUNTS, METRICS_NAMESPACE, EncodeShardsFn, ReadCorpus, WriteSilver

logger = logging.getLogger(__name__)


YOUNG_GC_THRESHOLD = 10_000
"""Allocations between two collections of the youngest generation while a worker labels.
Labeling and encoding 9,216 benchmark abstracts in batches of 1,024, eight rounds in turn:
10,000 took 0.92x the time of the default 700 (median of paired runs; 5,000: 0.93x, 25,000:
0.93x)."""


def start_labeling_gc() -> tuple[int, int, int]:
    """Set the cyclic collector up for labeling; returns what :func:`end_labeling_gc` takes.

    Matching allocates a tuple per span, which keeps triggering the collector, and each full
    collection would rescan every object the process holds: what exists now (the runner, the
    dictionary) lives as long as the worker, so it is exempt from those scans (``gc.freeze``).
    And a batch's spans live until the batch is encoded: at the default threshold (700
    allocations) the young generations are collected every few documents, scanning the batch's
    survivors again each time, hence :data:`YOUNG_GC_THRESHOLD`.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_GC_THRESHOLD, *threshold[1:])
    return threshold


def end_labeling_gc(threshold: tuple[int, int, int]) -> None:
    """Undo :func:`start_labeling_gc`."""
    gc.set_threshold(*threshold)
    gc.unfreeze()


class MatchSpansFn(beam.DoFn):
    """A batch of documents -> a batch of rows ``(doc_id, text, source, spans)``, and (tagged
    ``counts``) the batch's labeling counts.

    The compiled dictionaries are loaded once per worker, in ``setup``.
    """

    def __init__(
        self,
        dictionary: str,
        overlap: Overlap,
        fuzzy: bool,
        threshold: float,
        labeling: LabelingConfig | None = None,
        heldout_dictionary: str | None = None,
        uncertain_dictionary: str | None = None,
    ) -> None:
        self._dictionaries = (dictionary, heldout_dictionary, uncertain_dictionary)
        self._options = (overlap, fuzzy, threshold)
        self._labeling = labeling or LabelingConfig()
        self._counters: dict[str, Any] = {}
        self._documents = Metrics.counter(METRICS_NAMESPACE, "documents")

    def setup(self) -> None:
        from dictionaries import MatchOptions
        from pipelines.labeling import Lexicons, label_documents

        self._label = label_documents
        typed, heldout, uncertain = self._dictionaries
        self._lexicons = Lexicons(
            typed=load_dictionary(typed),
            heldout=load_dictionary(heldout) if heldout else None,
            uncertain=load_dictionary(uncertain) if uncertain else None,
        )
        overlap, fuzzy, threshold = self._options
        self._match_options = MatchOptions(overlap=overlap, fuzzy=fuzzy, fuzzy_threshold=threshold)
        self._gc_threshold = start_labeling_gc()

    def teardown(self) -> None:
        end_labeling_gc(self._gc_threshold)

    def process(self, docs: Any) -> Iterator[Any]:
        # label_documents() returns spans sorted and unique in the schema's canonical order, so
        # no re-sort here.
        label, lexicons, options = self._label, self._lexicons, self._match_options
        labeling = self._labeling
        counts: Counter[str] = Counter()
        spans = label([doc.text for doc in docs], lexicons, options, labeling, counts)
        rows = Batch(
            (doc.doc_id, doc.text, doc.source, doc_spans)
            for doc, doc_spans in zip(docs, spans, strict=True)
        )
        self._documents.inc(len(rows))
        yield rows
        if counts:
            yield beam.pvalue.TaggedOutput(
                COUNTS, {out.LABELING_PREFIX + k: n for k, n in counts.items()}
            )


class LabelDocuments(beam.PTransform):
    """Batches of documents -> ``(pieces, counts)``: ``(shard, piece path)`` of labeled rows,
    staged under ``<output>/_staging``, and labeling count dictionaries."""

    def __init__(self, config: SilverConfig, schema: pa.Schema, staging: str) -> None:
        super().__init__()
        # inside the folder being built, never the final output: a killed run leaves nothing there
        self._config, self._schema, self._staging = config, schema, staging

    def expand(self, docs: Any) -> Any:
        c = self._config
        labeled = docs | "MatchSpans" >> beam.ParDo(
            MatchSpansFn(
                c.dictionary,
                c.overlap,
                c.fuzzy,
                c.fuzzy_threshold,
                c.labeling,
                c.heldout_dictionary,
                c.uncertain_dictionary,
            )
        ).with_output_types(Batch).with_outputs(COUNTS, main="rows")
        pieces = labeled.rows | "EncodeShards" >> beam.ParDo(
            EncodeShardsFn(c.shards, self._schema, self._staging)
        )
        return pieces, labeled[COUNTS]


def _absolute(path: str) -> str:
    return os.path.abspath(path) if is_local(path) else path


def _dictionary_block(path: str, info: Any) -> dict[str, Any]:
    return {"path": path, "fingerprint": str(info.fingerprint), "labels": list(info.labels)}


def build_silver(
    config: SilverConfig, execution: Execution, *, overwrite: bool = False
) -> dict[str, Any]:
    """Run the labeling pipeline to completion and return its manifest.

    Paths are made absolute first, since workers may not share this process's directory.
    The output replaces an earlier silver build in the same folder, whole
    (:func:`pipelines.shards.pipeline_output`); a folder holding other files is refused unless
    ``overwrite``.
    """
    config = SilverConfig(
        **{
            **{f: getattr(config, f) for f in config.__dataclass_fields__},
            "inputs": tuple(_absolute(p) for p in config.inputs),
            "dictionary": _absolute(config.dictionary),
            "output": _absolute(config.output),
            "heldout_dictionary": config.heldout_dictionary
            and _absolute(config.heldout_dictionary),
            "uncertain_dictionary": config.uncertain_dictionary
            and _absolute(config.uncertain_dictionary),
        }
    )
    files = expand_inputs(config.inputs)
    dictionary_paths = [config.dictionary, config.heldout_dictionary, config.uncertain_dictionary]
    inputs = [f.path for f in files] + [p for p in dictionary_paths if p]
    out.check_pipeline_output(config.output, "silver", inputs, overwrite)
    info = dictionary_info(config.dictionary)
    labels, fingerprint = tuple(info.labels), str(info.fingerprint)
    dictionaries = {"dictionary": _dictionary_block(config.dictionary, info)}
    for name in ("heldout_dictionary", "uncertain_dictionary"):
        path = getattr(config, name)
        if path:
            dictionaries[name] = _dictionary_block(path, dictionary_info(path))
    if "heldout_dictionary" in dictionaries:
        held = dictionaries["heldout_dictionary"]["labels"]
        labels += tuple(label for label in held if label not in labels)
    extra = {
        **config.options(),
        **{
            f"{k}_fingerprint": v["fingerprint"]
            for k, v in dictionaries.items()
            if k != "dictionary"
        },
    }
    schema = document_schema(labels, fingerprint, extra=extra)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "inputs": [f.path for f in files],
        "options": config.options(),
        "labels": list(labels),
        **dictionaries,
        "shards": [shard_name(i, config.shards) for i in range(config.shards)],
        "dead_letters": f"{out.DEAD_LETTER_DIR}/{out.DEAD_LETTER_FILE}",
        "runner": execution.description,
    }
    logger.info(
        "labeling %d file(s) with %s on %s", len(files), config.dictionary, execution.description
    )
    with (
        out.pipeline_output(config.output, "silver", inputs, overwrite) as target,
        beam.Pipeline(runner=execution.runner, options=execution.options) as pipeline,
    ):
        docs, dead, read_counts = pipeline | "ReadCorpus" >> ReadCorpus(
            files, config.read, execution.workers, spread=not execution.in_process
        )
        pieces, label_counts = docs | "LabelDocuments" >> LabelDocuments(
            config, schema, out.staging_path(target)
        )
        _ = (pieces, dead, read_counts, label_counts) | "WriteSilver" >> WriteSilver(
            target, config.shards, schema, manifest
        )
    return out.read_manifest(config.output)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--input", action="append", required=True, help="corpus file or glob (repeatable)"
    )
    parser.add_argument("--dict", dest="dictionary", required=True, help="compiled dictionary file")
    parser.add_argument("--output", required=True, help="output folder")
    for cls, name, kwargs in (
        (ReadConfig, "format", {"choices": CORPUS_FORMATS}),
        (ReadConfig, "id_field", {}),
        (ReadConfig, "text_field", {}),
        (ReadConfig, "max_doc_bytes", {"type": int}),
        (ReadConfig, "split_bytes", {"type": int}),
        (ReadConfig, "allow_partial_files", {"action": argparse.BooleanOptionalAction}),
        (SilverConfig, "shards", {"type": int}),
        (SilverConfig, "overlap", {"choices": get_args(Overlap)}),
        (SilverConfig, "fuzzy", {"action": argparse.BooleanOptionalAction}),
        (SilverConfig, "fuzzy_threshold", {"type": float}),
        (LabelingConfig, "abbreviations", {"action": argparse.BooleanOptionalAction}),
        (LabelingConfig, "abbreviation_long_form", {"choices": get_args(AbbreviationLongForm)}),
        (SilverConfig, "heldout_dictionary", {"dest": "heldout_dictionary"}),
        (SilverConfig, "uncertain_dictionary", {"dest": "uncertain_dictionary"}),
        (LocalRunnerConfig, "workers", {"type": int}),
    ):
        flag = "--" + {"heldout_dictionary": "heldout_dict", "uncertain_dictionary":
                       "uncertain_dict"}.get(name, name)  # fmt: skip
        parser.add_argument(flag, default=default_of(cls, name), help=help_of(cls, name), **kwargs)
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
            split_bytes=args.split_bytes,
            allow_partial_files=args.allow_partial_files,
        ),
        overlap=args.overlap,
        fuzzy=args.fuzzy,
        fuzzy_threshold=args.fuzzy_threshold,
        shards=args.shards,
        labeling=LabelingConfig(
            abbreviations=args.abbreviations,
            abbreviation_long_form=args.abbreviation_long_form,
        ),
        heldout_dictionary=args.heldout_dictionary,
        uncertain_dictionary=args.uncertain_dictionary,
    )
    if any(a == "--runner" or a.startswith("--runner=") for a in beam_args):
        execution = remote_execution(beam_args)
    else:
        execution = local_execution(LocalRunnerConfig(workers=args.workers))
    manifest = build_silver(config, execution)
    check_partial_files(manifest, config.read.allow_partial_files)
    return manifest


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)
    run()
