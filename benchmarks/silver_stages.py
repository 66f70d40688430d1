"""The silver pipeline's steps timed one by one in one process, without Beam.

Run from the repository root::

    python -m benchmarks.silver_stages CORPUS.jsonl DICT.dict [--no-abbreviations] [--shards 4]

Reads, parses, labels, builds Arrow rows, stages the pieces and writes the Parquet shards with
the same library functions the pipeline's transforms call (:mod:`pipelines.silver.transforms`), in
batches of the same size, with the same collector settings as a labeling worker, and prints
the wall seconds of each step. Set against a ``binder silver build --workers 1`` of the same
corpus, the difference is what Beam itself costs (start-up, bundles, stages).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from binder_core.contract.schema import document_schema
from dictionaries import MatchOptions, load_compiled
from pipelines.corpus.readers import (
    DeadLetter,
    expand_inputs,
    iter_records,
    plan_ranges,
)
from pipelines.corpus.records import parse_record
from pipelines.silver import shards as out
from pipelines.silver.config import ReadConfig
from pipelines.silver.labeling import Lexicons, label_documents
from pipelines.silver.labeling_config import LabelingConfig
from pipelines.silver.pipeline import end_labeling_gc, start_labeling_gc

STEPS = (
    "load dictionary",
    "read lines",
    "parse records",
    "label",
    "assign shards",
    "Arrow rows",
    "counts",
    "encode and stage pieces",
    "read pieces back and sort",
    "write Parquet",
)


def time_stages(
    corpus: Path, dictionary: Path, labeling: LabelingConfig, shards: int = 4
) -> tuple[dict[str, float], Counter[str]]:
    """Seconds spent in each of :data:`STEPS`, and the counts of documents, dead letters,
    spans and shards written."""
    seconds: dict[str, float] = dict.fromkeys(STEPS, 0.0)
    counts: Counter[str] = Counter()

    @contextmanager
    def step(name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        seconds[name] += time.perf_counter() - started

    with step("load dictionary"):
        compiled = load_compiled(str(dictionary))
    lexicons = Lexicons(typed=compiled, heldout=None, uncertain=None)
    config, options = ReadConfig(format="jsonl"), MatchOptions()
    schema = document_schema(tuple(compiled.labels), str(compiled.fingerprint)).remove_metadata()
    staging, output = tempfile.mkdtemp(), tempfile.mkdtemp()
    pieces: dict[int, list[str]] = {i: [] for i in range(shards)}
    threshold = start_labeling_gc()
    try:
        for byte_range in plan_ranges(expand_inputs([str(corpus)])[0], config):
            with step("read lines"):
                records = list(iter_records(byte_range, config))
            for i in range(0, len(records), config.batch_docs):
                with step("parse records"):
                    parsed = [parse_record(r, config) for r in records[i : i + config.batch_docs]]
                    docs = [d for d in parsed if not isinstance(d, DeadLetter)]
                counts["dead letters"] += len(parsed) - len(docs)
                with step("label"):
                    spans = label_documents([d.text for d in docs], lexicons, options, labeling)
                counts["documents"] += len(docs)
                counts["spans"] += sum(map(len, spans))
                with step("assign shards"):
                    by_shard: dict[int, list[out.Row]] = {}
                    for doc, doc_spans in zip(docs, spans, strict=True):
                        row = (doc.doc_id, doc.text, doc.source, doc_spans)
                        by_shard.setdefault(out.shard_for(doc.doc_id, shards), []).append(row)
                for shard in sorted(by_shard):
                    with step("Arrow rows"):
                        table = out.rows_table(by_shard[shard], schema)
                    with step("counts"):
                        out.table_counts(table)
                    with step("encode and stage pieces"):
                        piece = out.stage_piece(out.encode_table(table), staging, shard)
                    pieces[shard].append(piece)
        for shard in range(shards):
            with step("read pieces back and sort"):
                table = out.decode_rows((out.read_piece(p) for p in sorted(pieces[shard])), schema)
            with step("write Parquet"):
                out.write_shard(table, output, shard, shards)
            counts["shards"] += 1
    finally:
        end_labeling_gc(threshold)
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(output, ignore_errors=True)
    return seconds, counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path, help="a JSONL corpus (id, text)")
    parser.add_argument("dictionary", type=Path, help="a compiled dictionary")
    parser.add_argument("--no-abbreviations", dest="abbreviations", action="store_false")
    parser.add_argument("--shards", type=int, default=4)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    seconds, counts = time_stages(
        args.corpus, args.dictionary, LabelingConfig(abbreviations=args.abbreviations), args.shards
    )
    total = time.perf_counter() - started
    for name in STEPS:
        print(f"{seconds[name]:8.2f} s  {name}")
    print(f"{sum(seconds.values()):8.2f} s  all steps ({total:.2f} s with the loop around them)")
    print(", ".join(f"{n:,} {k}" for k, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
