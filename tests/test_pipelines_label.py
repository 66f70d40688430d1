"""The labeling pipeline: its transforms on beam.Create, and whole local runs end to end."""

from __future__ import annotations

import gc
import gzip
import json
import random
from pathlib import Path
from typing import Any

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.schema import check_schema, content_doc_id, iter_documents, list_shards
from pipelines.corpus.readers import DeadLetter, Document, InputFile
from pipelines.runners.execution import local_execution
from pipelines.silver import shards
from pipelines.silver.config import LocalRunnerConfig, ReadConfig, SilverConfig
from pipelines.silver.dictionary_files import dictionary_info
from pipelines.silver.pipeline import YOUNG_GC_THRESHOLD, MatchSpansFn, build_silver
from pipelines.silver.transforms import EncodeShardsFn, ReadCorpus, WriteShardFn, WriteSilver

CORPORA = Path(__file__).parent / "fixtures" / "corpora"

ENTRIES = [
    ("aspirin", "Chemical", "D001241"),
    ("famotidine", "Chemical", "D015738"),
    ("lithium carbonate", "Chemical", "D016651"),
    ("cisplatin", "Chemical", "D002945"),
    ("naloxone", "Chemical", "D009270"),
    ("morphine", "Chemical", "D009020"),
    ("delirium", "Disease", "D003693"),
    ("gastric ulcer", "Disease", "D013276"),
    ("diabetes insipidus", "Disease", "D003919"),
    ("hypertension", "Disease", "D006973"),
]


@pytest.fixture(scope="module")
def dict_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dictionaries import Entry, compile_dictionary, save_compiled

    path = tmp_path_factory.mktemp("dict") / "tiny.dict"
    save_compiled(compile_dictionary([Entry(t, lab, cid, "test") for t, lab, cid in ENTRIES]), path)
    return path


def _span(start: int, end: int, label: str, cid: str, term: str) -> dict[str, Any]:
    return {
        "start": start,
        "end": end,
        "label": label,
        "concept_id": cid,
        "matched_term": term,
        "score": 1.0,
        "origin": "dict_exact",
        "uncertain": False,
        "link_score": 1.0 if cid else 0.0,
    }


def _pipeline() -> beam.Pipeline:
    return beam.Pipeline(runner=FnApiRunner())


def _rows(out: Path) -> list[dict[str, Any]]:
    return list(iter_documents(out))


def _build(corpus: list[str], dict_file: Path, out: Path, workers: int = 1, **kw: Any) -> dict:
    read = ReadConfig(**kw.pop("read", {}))
    config = SilverConfig(tuple(corpus), str(dict_file), str(out), read=read, **kw)
    return build_silver(config, local_execution(LocalRunnerConfig(workers=workers)))


def test_read_corpus_gives_documents_dead_letters_and_record_counts() -> None:
    path = CORPORA / "abstracts.txt"
    files = [InputFile(str(path), path.stat().st_size)]
    line2 = "The patient received aspirin and developed gastric ulcer."
    with _pipeline() as p:
        docs, dead, counts = p | ReadCorpus(files, ReadConfig(format="text", batch_docs=2))
        flat = docs | beam.FlatMap(lambda batch: [d.doc_id for d in batch])
        assert_that(flat | beam.combiners.Count.Globally(), equal_to([4]), label="docs")
        assert_that(
            docs | "Second" >> beam.FlatMap(lambda b: [d for d in b if d.text == line2]),
            equal_to([Document(content_doc_id(line2), line2, "abstracts.txt")]),
            label="doc",
        )
        assert_that(
            dead,
            equal_to([DeadLetter("empty_text", str(path), 3, "empty line", "")._asdict()]),
            label="dead",
        )
        assert_that(counts, equal_to([{"input_records": 5}]), label="counts")


def test_match_spans_fn_labels_a_batch_with_sorted_spans(dict_file: Path) -> None:
    text = "Famotidine-associated delirium after aspirin."
    with _pipeline() as p:
        rows = (
            p
            | beam.Create([[Document("d1", text, "s.txt"), Document("d2", "", "s.txt")]])
            | beam.ParDo(MatchSpansFn(str(dict_file), "longest", False, 90.0))
            | beam.FlatMap(lambda batch: batch)
            | beam.MapTuple(lambda doc_id, t, source, spans: (doc_id, [s._asdict() for s in spans]))
        )
        assert_that(
            rows,
            equal_to(
                [
                    (
                        "d1",
                        [
                            _span(0, 10, "Chemical", "D015738", "famotidine"),
                            _span(22, 30, "Disease", "D003693", "delirium"),
                            _span(37, 44, "Chemical", "D001241", "aspirin"),
                        ],
                    ),
                    ("d2", []),
                ]
            ),
        )


def test_match_spans_fn_collects_less_often_while_labeling_and_restores_gc(
    dict_file: Path,
) -> None:
    before = gc.get_threshold()
    fn = MatchSpansFn(str(dict_file), "longest", False, 90.0)
    fn.setup()
    try:
        assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 0
    finally:
        fn.teardown()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_encode_and_write_shards_round_trip_in_doc_id_order(tmp_path: Path) -> None:
    schema = shards_schema()
    span = (0, 1, "Chemical", "C1", "x", 1.0, "dict_exact", False, 1.0)
    rows = [(d, f"text {d}", "s", [span] if d == "b" else []) for d in ["c", "a", "b", "d"]]
    with _pipeline() as p:
        counts = (
            p
            | beam.Create([rows[:2], rows[2:]])
            | beam.ParDo(EncodeShardsFn(1, schema, str(tmp_path / "_staging")))
            | beam.GroupByKey()
            | beam.ParDo(WriteShardFn(str(tmp_path), 1, schema))
        )
        assert_that(counts, equal_to([{"rows": 4, "spans/Chemical": 1, "origins/dict_exact": 1}]))
    table = pq.read_table(tmp_path / "part-00000-of-00001.parquet")
    assert table.column("doc_id").to_pylist() == ["a", "b", "c", "d"]
    assert len(list((tmp_path / "_staging").glob("00000-*.arrow"))) == 2
    shards.remove_staging(str(tmp_path))
    assert not (tmp_path / "_staging").exists()
    assert check_schema(table.schema, "x").labels == ("Chemical", "Disease")


def test_write_silver_writes_shards_dead_letters_and_manifest_in_one_pass(
    tmp_path: Path,
) -> None:
    schema = shards_schema()
    span = (0, 1, "Chemical", "C1", "x", 1.0, "dict_exact", False, 1.0)
    rows = [("a", "text a", "s", [span]), ("b", "text b", "s", [])]
    letter = DeadLetter("broken_json", "in.jsonl", 3, "bad", "{")._asdict()
    for name, letters in (("clean", []), ("one-bad", [letter])):
        out_dir = tmp_path / name
        with _pipeline() as p:
            pieces = (
                p
                | "Rows" >> beam.Create([rows])
                | beam.ParDo(EncodeShardsFn(2, schema, str(out_dir / "_staging")))
            )
            dead = p | "Dead" >> beam.Create(letters)
            records = 2 + len(letters)  # over two byte ranges
            reads = p | "Reads" >> beam.Create(
                [{"input_records": 1}, {"input_records": records - 1}]
            )
            labels = p | "Labels" >> beam.Create([{"labeling/abbreviation_spans_added": 1}])
            manifests = (pieces, dead, reads, labels) | WriteSilver(
                str(out_dir), 2, schema, {"kind": "test"}
            )
            assert_that(manifests | beam.Map(lambda m: m["kind"]), equal_to(["test"]))
        manifest = shards.read_manifest(str(out_dir))
        counts = manifest["counts"]
        assert (counts["input_records"], counts["rows"], counts["spans"]) == (records, 2, 1)
        assert (counts["dead_letters"], counts["balanced"]) == (len(letters), True)
        assert counts["labeling"]["abbreviation_spans_added"] == 1
        written = (out_dir / "_dead_letters" / "dead_letters.jsonl").read_text().splitlines()
        assert [json.loads(line) for line in written] == letters
        assert len(list_shards(out_dir)) == 2  # the empty shard is written too


def shards_schema() -> Any:
    from binder_core.contract.schema import document_schema

    return document_schema(["Chemical", "Disease"], "fp")


def test_build_silver_writes_exact_rows_manifest_and_dead_letters(
    dict_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    manifest = _build([str(CORPORA / "abstracts.txt")], dict_file, out, shards=2)
    rows = sorted(_rows(out), key=lambda r: r["text"])
    assert [r["text"] for r in rows] == [
        "Caffeine is a stimulant; Straße café İstanbul.",
        "Famotidine-associated delirium was reported in six patients.",
        "Lithium carbonate can cause diabetes insipidus.",
        "The patient received aspirin and developed gastric ulcer.",
    ]
    assert [r["spans"] for r in rows] == [
        [],
        [
            _span(0, 10, "Chemical", "D015738", "famotidine"),
            _span(22, 30, "Disease", "D003693", "delirium"),
        ],
        [
            _span(0, 17, "Chemical", "D016651", "lithium carbonate"),
            _span(28, 46, "Disease", "D003919", "diabetes insipidus"),
        ],
        [
            _span(21, 28, "Chemical", "D001241", "aspirin"),
            _span(43, 56, "Disease", "D013276", "gastric ulcer"),
        ],
    ]
    assert all(r["doc_id"] == content_doc_id(r["text"]) for r in rows)
    assert manifest["counts"] == {
        "input_records": 5,
        "rows": 4,
        "dead_letters": 1,
        "dead_letters_by_reason": {"empty_text": 1},
        "spans": 6,
        "spans_by_label": {"Chemical": 3, "Disease": 3},
        "spans_by_origin": {"dict_exact": 6},
        "labeling": {
            "abbreviation_definitions_at_spans": 0,
            "abbreviation_definitions_labelled": 0,
            "abbreviation_spans_added": 0,
            "composite_spans_widened": 0,
            "heldout_matches_overlapping": 0,
            "heldout_spans_added": 0,
            "name_spans_widened": 0,
            "uncertain_matches_overlapping": 0,
            "uncertain_spans_added": 0,
        },
        "balanced": True,
    }
    assert manifest["shards"] == ["part-00000-of-00002.parquet", "part-00001-of-00002.parquet"]
    assert manifest["dictionary"]["labels"] == ["Chemical", "Disease"]
    assert manifest["inputs"] == [str(CORPORA / "abstracts.txt")]
    assert json.loads((out / "_manifest.json").read_text()) == manifest
    dead = (out / "_dead_letters" / "dead_letters.jsonl").read_text().splitlines()
    assert [json.loads(d) for d in dead] == [
        {
            "reason": "empty_text",
            "path": str(CORPORA / "abstracts.txt"),
            "line": 3,
            "detail": "empty line",
            "record": "",
        }
    ]


def _bad_record_corpus(path: Path, n: int = 1200, seed: int = 7) -> dict[str, int]:
    """JSONL with 1% broken records (two of each kind), shuffled in; returns kinds by line."""
    rng = random.Random(seed)
    words = ["aspirin", "delirium", "the", "patient", "morphine", "rats", "hypertension", "and"]
    good = [
        json.dumps({"id": f"doc{i}", "text": " ".join(rng.choices(words, k=12))}).encode()
        for i in range(n - 12)
    ]
    bad = {
        "broken_json": b'{"id": "x", "text": "unterminated',
        "invalid_utf8": b'{"id": "y", "text": "caf\xe9"}',
        "empty_text": b'{"id": "z", "text": ""}',
        "missing_text_field": b'{"id": "w", "body": "no text here"}',
        "too_large": json.dumps({"id": "big", "text": "aspirin " * 400}).encode(),
        "bad_id_field": b'{"id": {"a": 1}, "text": "aspirin"}',
    }
    records = good + [b for b in bad.values() for _ in range(2)]
    rng.shuffle(records)
    path.write_bytes(b"".join(r + b"\n" for r in records))
    return {reason: 2 for reason in bad}


def test_build_silver_bad_records_add_up_exactly(dict_file: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "mixed.jsonl"
    expected_dead = _bad_record_corpus(corpus)
    out = tmp_path / "out"
    read = {"format": "jsonl", "max_doc_bytes": 2000, "split_bytes": 20_000, "batch_docs": 64}
    manifest = _build([str(corpus)], dict_file, out, shards=3, read=read)
    counts = manifest["counts"]
    assert counts["input_records"] == 1200
    assert counts["rows"] == 1188
    assert counts["dead_letters_by_reason"] == dict(sorted(expected_dead.items()))
    assert counts["balanced"] is True
    assert len(_rows(out)) == 1188
    lines = corpus.read_bytes().split(b"\n")
    dead = [json.loads(d) for d in (out / "_dead_letters" / "dead_letters.jsonl").open()]
    assert len(dead) == 12
    for letter in dead:
        assert letter["path"] == str(corpus)
        raw = lines[letter["line"] - 1]
        assert letter["reason"] != "too_large" or len(raw) > 2000
        assert letter["reason"] == "too_large" or raw.decode(errors="replace") == letter["record"]


def test_build_silver_same_rows_on_rerun_and_with_two_workers(
    dict_file: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "mixed.jsonl"
    _bad_record_corpus(corpus, n=600)
    read = {"format": "jsonl", "split_bytes": 8_000, "batch_docs": 16}
    runs, letters, counts = [], [], []
    for name, workers in [("a", 1), ("b", 1), ("c", 2)]:
        _build([str(corpus)], dict_file, tmp_path / name, workers=workers, shards=3, read=read)
        runs.append([pq.read_table(s).to_pylist() for s in list_shards(tmp_path / name)])
        letters.append((tmp_path / name / "_dead_letters" / "dead_letters.jsonl").read_bytes())
        counts.append(shards.read_manifest(str(tmp_path / name))["counts"])
    # one worker reads its ranges in place, two spread them with a Reshuffle: same output
    assert runs[0] == runs[1] == runs[2]
    assert letters[0] == letters[1] == letters[2] and letters[0].count(b"\n") == 10
    assert counts[0] == counts[1] == counts[2] and counts[0]["dead_letters"] == 10
    assert sum(len(s) for s in runs[0]) == 590  # 600 - 10 bad (the long text is under 10 MB)
    for shard in runs[0]:
        assert [r["doc_id"] for r in shard] == sorted(r["doc_id"] for r in shard)


def test_build_silver_reads_globs_and_gzip(dict_file: Path, tmp_path: Path) -> None:
    src = (CORPORA / "abstracts.jsonl").read_bytes()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "part1.jsonl.gz").write_bytes(gzip.compress(src))
    (tmp_path / "in" / "part2.jsonl").write_bytes(src.replace(b'"pmid": "1', b'"pmid": "2'))
    manifest = _build(
        [str(tmp_path / "in" / "part*.jsonl*")],
        dict_file,
        tmp_path / "out",
        read={"format": "jsonl", "id_field": "pmid", "text_field": "body"},
    )
    assert manifest["counts"]["rows"] == 8
    rows = _rows(tmp_path / "out")
    assert sorted((r["doc_id"], r["source"]) for r in rows if r["doc_id"][0] in "12") == [
        ("1001", "part1.jsonl.gz"),
        ("1002", "part1.jsonl.gz"),
        ("1002", "part2.jsonl"),
        ("1004", "part1.jsonl.gz"),
        ("2001", "part2.jsonl"),
        ("2004", "part2.jsonl"),
    ]


def test_build_silver_pubtator_doc_ids_are_pmids(dict_file: Path, tmp_path: Path) -> None:
    manifest = _build(
        [str(CORPORA / "sample.pubtator")], dict_file, tmp_path / "out", read={"format": "pubtator"}
    )
    rows = {r["doc_id"]: r for r in _rows(tmp_path / "out")}
    assert sorted(rows) == ["227508", "439781", "8701013"]
    famotidine = rows["8701013"]
    assert [(s["start"], s["end"], s["label"]) for s in famotidine["spans"]] == [
        (0, 10, "Chemical"),
        (22, 30, "Disease"),
        (32, 42, "Chemical"),
    ]
    assert manifest["counts"]["balanced"] is True


def test_build_silver_rerun_replaces_outputs_of_another_shard_count(
    dict_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    corpus = [str(CORPORA / "abstracts.txt")]
    _build(corpus, dict_file, out, shards=3)
    _build(corpus, dict_file, out, shards=1)
    assert sorted(p.name for p in out.iterdir()) == [
        "_binder_output.json",
        "_dead_letters",
        "_manifest.json",
        "part-00000-of-00001.parquet",
    ]
    (out / "notes.md").write_text("a file of the user's, among the outputs")
    with pytest.raises(ConfigError, match=r"notes\.md.*--overwrite"):
        _build(corpus, dict_file, out, shards=2)
    assert (out / "notes.md").exists() and (out / "part-00000-of-00001.parquet").exists()


def test_build_silver_removes_staged_pieces_of_an_interrupted_run(
    dict_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    (out / "_staging").mkdir(parents=True)
    (out / "_staging" / "00001-stale.arrow").write_bytes(b"stale")
    _build([str(CORPORA / "abstracts.txt")], dict_file, out, shards=1)
    assert sorted(p.name for p in out.iterdir()) == [
        "_binder_output.json",
        "_dead_letters",
        "_manifest.json",
        "part-00000-of-00001.parquet",
    ]


def test_dictionary_info_reads_labels_and_fingerprint(dict_file: Path) -> None:
    from dictionaries import load_compiled

    info = dictionary_info(str(dict_file))
    assert info.labels == ("Chemical", "Disease")
    assert info.fingerprint == load_compiled(dict_file).fingerprint


def test_build_silver_names_a_missing_dictionary(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.dict: no such compiled dictionary"):
        _build([str(CORPORA / "abstracts.txt")], tmp_path / "nope.dict", tmp_path / "out")


def test_silver_config_rejects_bad_options() -> None:
    with pytest.raises(ConfigError, match=r"SilverConfig.shards must be in \[1, 100000\], got 0"):
        SilverConfig(("a",), "d", "o", shards=0)
    with pytest.raises(ConfigError, match="--overlap must be one of"):
        SilverConfig(("a",), "d", "o", overlap="some")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="--heldout-dict is the --dict itself"):
        SilverConfig(("a",), "d", "o", heldout_dictionary="d")


def test_shard_for_is_stable() -> None:
    assert [shards.shard_for(d, 4) for d in ["a", "b", "1001", "sha1:00"]] == [
        3,
        1,
        1,
        3,
    ]


def test_pipeline_counts_documents_spans_and_dead_letters_as_beam_metrics(
    dict_file: Path, tmp_path: Path
) -> None:
    from apache_beam.metrics.metric import MetricsFilter

    from pipelines.silver.pipeline import LabelDocuments
    from pipelines.silver.transforms import METRICS_NAMESPACE

    path = CORPORA / "abstracts.txt"
    config = SilverConfig((str(path),), str(dict_file), str(tmp_path))
    pipeline = _pipeline()
    docs, _, _ = pipeline | ReadCorpus([InputFile(str(path), path.stat().st_size)], config.read)
    _ = docs | LabelDocuments(config, shards_schema(), str(tmp_path / "_staging"))
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))["counters"]
    assert {c.key.metric.name: c.committed for c in counters} == {
        "input_records": 5,
        "documents": 4,
        "dead_letters/empty_text": 1,
        "spans/Chemical": 3,
        "spans/Disease": 3,
    }
