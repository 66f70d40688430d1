"""Fixed samples of ``binder silver build`` output, to prove that speed work changes no row.

Two samples, each run with today's defaults and with ``--no-abbreviations``:

* ``sample``: the shipped ``examples/sample`` corpus (train + dev JSONL and the PubTator gold
  texts) and its dictionary; always available, so CI checks it.
* ``benchmark``: every fifth abstract of the benchmark corpus (:mod:`benchmarks.corpus`, ids as
  its first copy writes them) plus three bad records, labelled with the benchmark's MeSH
  dictionary; needs ``../shared/data`` (the test skips without it). Only hashes are stored.

A run's fingerprint is one hash per output row (its shard, ``doc_id``, text, source and spans
in stored order), the hash of the dead-letter file, and the manifest's counts. Written once by
``python -m tests.silver_golden --write`` with the code of the time; the test then compares.

The hashes leave out each span's ``link_score`` (schema version 2), so the samples recorded
before it still prove every other value unchanged; :func:`link_scores` counts the new field's
values, which the test checks against the contract's rule.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "silver_golden.json"
SAMPLE = REPO / "examples" / "sample"
BAD_RECORDS = ['{"id": "bad-1", "text": ', '{"id": "bad-2", "text": "  "}', '{"id": "bad-3"}']
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "no_abbreviations": {"labeling": {"abbreviations": False}},
}
SAMPLE_VARIANTS = {**VARIANTS, "all_fuzzy": {"overlap": "all", "fuzzy": True}}
BENCHMARK_VARIANTS = {
    **VARIANTS,
    "exact_long_form": {"labeling": {"abbreviation_long_form": "exact"}},
}


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _without_link_score(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in s.items() if k != "link_score"} for s in spans]


def link_scores(out: Path) -> dict[str, int]:
    """How many spans of a run have each ``(origin, has a concept id, link_score)``."""
    found: dict[str, int] = {}
    for shard in sorted(out.glob("part-*.parquet")):
        for spans in pq.read_table(shard, columns=["spans"]).column("spans").to_pylist():
            for s in spans:
                key = f"{s['origin']}/{bool(s['concept_id'])}/{s['link_score']}"
                found[key] = found.get(key, 0) + 1
    return found


def run_fingerprint(out: Path) -> dict[str, Any]:
    """Per-row hashes (keyed by shard and doc id), the dead letters' hash and the counts."""
    rows: dict[str, str] = {}
    for shard in sorted(out.glob("part-*.parquet")):
        table = pq.read_table(shard)
        for position, row in enumerate(table.to_pylist()):
            spans = _without_link_score(row["spans"])
            data = json.dumps(
                [shard.name, position, row["doc_id"], row["text"], row["source"], spans],
                ensure_ascii=False,
                sort_keys=True,
            )
            rows[f"{shard.name}:{row['doc_id']}"] = _hash(data.encode("utf-8"))
    manifest = json.loads((out / "_manifest.json").read_text("utf-8"))
    dead = (out / "_dead_letters" / "dead_letters.jsonl").read_bytes()
    letters = [json.loads(line) for line in dead.decode("utf-8").splitlines()]
    for letter in letters:  # the corpus lives in a temp folder: keep the file name only
        letter["path"] = Path(letter["path"]).name
    return {
        "rows": rows,
        "dead_letters": _hash(json.dumps(letters, sort_keys=True).encode("utf-8")),
        "counts": manifest["counts"],
        "link_scores": link_scores(out),
    }


def sample_inputs(work: Path) -> list[tuple[list[Path], str, Path]]:
    """``(corpus files, format, dictionary)`` runs of the shipped sample."""
    from dictionaries import compile_dictionary, load_source, save_compiled

    dictionary = work / "sample.dict"
    save_compiled(compile_dictionary(load_source("kb", SAMPLE / "dictionary.tsv")), dictionary)
    jsonl = [SAMPLE / "corpus_train.jsonl", SAMPLE / "corpus_dev.jsonl"]
    return [(jsonl, "jsonl", dictionary), ([SAMPLE / "gold_test.pubtator"], "pubtator", dictionary)]


def benchmark_inputs(work: Path, data: Path) -> list[tuple[list[Path], str, Path]]:
    """The benchmark sample: every fifth abstract, three bad records, the full MeSH dict."""
    from benchmarks.bench_silver import mesh_entries
    from benchmarks.corpus import abstracts
    from dictionaries import compile_dictionary, save_compiled

    corpus = work / "benchmark_sample.jsonl"
    lines = [
        json.dumps({"id": f"{doc_id}-r0", "text": text}) for doc_id, text in abstracts(data)[::5]
    ]
    corpus.write_text("\n".join([*lines, *BAD_RECORDS]) + "\n", "utf-8")
    dictionary = work / "mesh.dict"
    save_compiled(compile_dictionary(mesh_entries(data, "full")), dictionary)
    return [([corpus], "jsonl", dictionary)]


def fingerprints(
    runs: list[tuple[list[Path], str, Path]],
    variants: dict[str, dict[str, Any]],
    work: Path,
    workers: int = 1,
) -> dict[str, Any]:
    """Each run of ``runs`` with each variant (SilverConfig options) -> its fingerprint."""
    from pipelines.runners.execution import local_execution
    from pipelines.silver.config import LocalRunnerConfig, ReadConfig, SilverConfig
    from pipelines.silver.labeling_config import LabelingConfig
    from pipelines.silver.pipeline import build_silver

    found: dict[str, Any] = {}
    for i, (corpus, fmt, dictionary) in enumerate(runs):
        for variant, options in variants.items():
            out = work / f"out-{i}-{variant}"
            config = SilverConfig(
                tuple(str(p) for p in corpus),
                str(dictionary),
                str(out),
                read=ReadConfig(format=fmt),
                **{**options, "labeling": LabelingConfig(**options.get("labeling", {}))},
            )
            build_silver(config, local_execution(LocalRunnerConfig(workers=workers)))
            found[f"{fmt}-{i}/{variant}"] = run_fingerprint(out)
    return found


def match_fingerprints(data: Path) -> dict[str, str]:
    """Hashes of :func:`pipelines.silver.labeling.label_document` over every benchmark abstract (no
    Beam): the matcher and the labeling steps alone, on five times the pipeline sample."""
    from benchmarks.bench_silver import mesh_entries
    from benchmarks.corpus import abstracts
    from dictionaries import MatchOptions, compile_dictionary
    from pipelines.silver.labeling import Lexicons, label_document
    from pipelines.silver.labeling_config import LabelingConfig

    lexicons = Lexicons(typed=compile_dictionary(mesh_entries(data, "full")))
    texts = [text for _, text in abstracts(data)]
    found = {}
    for name, options, labeling in (
        ("longest/none", MatchOptions(), LabelingConfig(abbreviations=False)),
        ("longest/end", MatchOptions(), LabelingConfig()),
        ("all/none", MatchOptions(overlap="all"), LabelingConfig(abbreviations=False)),
        ("all/exact", MatchOptions(overlap="all"), LabelingConfig(abbreviation_long_form="exact")),
    ):
        digest = hashlib.sha256()
        for text in texts:
            spans = label_document(text, lexicons, options, labeling)
            rows = [[v for f, v in m._asdict().items() if f != "link_score"] for m in spans]
            digest.update(json.dumps(rows, ensure_ascii=False).encode())
            digest.update(b"\n")
        found[name] = digest.hexdigest()[:32]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="(re)write the fixture")
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        golden = {
            "sample": fingerprints(sample_inputs(work), SAMPLE_VARIANTS, work / "s"),
            "benchmark": fingerprints(
                benchmark_inputs(work, args.data_dir), BENCHMARK_VARIANTS, work / "b"
            ),
            "benchmark_match": match_fingerprints(args.data_dir),
        }
    text = json.dumps(golden, indent=1, sort_keys=True) + "\n"
    if args.write:
        FIXTURE.write_text(text, "utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
