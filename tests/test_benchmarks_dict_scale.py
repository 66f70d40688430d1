"""bench_dict_scale's core functions on miniatures (no shared data, no subprocess)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.bench_dict_scale import (
    LABELS,
    format_table,
    paired_scan,
    umls_like,
    write_kb,
)
from dictionaries import compile_dictionary, load_source
from dictionaries.records import Entry

WORDS = ["renal", "failure", "acute", "kidney", "injury", "of", "the"]


def test_umls_like_rows_are_distinct_and_one_to_five_words() -> None:
    rows = list(umls_like(WORDS, 200, seed=1))
    assert len(rows) == 200
    assert len({term for term, _, _ in rows}) == 200
    assert all(1 <= len(term.split(" ")) <= 5 for term, _, _ in rows)
    assert all(set(term.split(" ")) <= set(WORDS) for term, _, _ in rows)
    assert {label for _, label, _ in rows} <= set(LABELS)
    assert [concept for _, _, concept in rows[:3]] == ["C00000000", "C00000001", "C00000002"]
    assert list(umls_like(WORDS, 200, seed=1)) == rows  # the seed fixes the table


def test_write_kb_writes_a_table_the_kb_loader_reads(tmp_path: Path) -> None:
    path = tmp_path / "kb.tsv"
    rows = [("renal failure", "ST01", "C00000000"), ("acute injury", "ST02", "C00000001")]
    assert write_kb(path, iter(rows)) == 2
    entries = list(load_source("kb", path))
    assert [(e.term, e.label, e.concept_id) for e in entries] == rows


def test_paired_scan_counts_the_same_spans_with_both_automata() -> None:
    compiled = compile_dictionary(
        [Entry("renal failure", "Disease", "D1", "t"), Entry("kidney", "Organ", "O1", "t")]
    )
    texts = ["Acute renal failure of the kidney.", "", "kidney, kidney"]
    found = paired_scan(compiled, texts, rounds=2, reference=True)
    assert found["spans"] == 4
    rounds = [found[k] for k in ("automaton_mb_s", "reference_mb_s", "automaton_scan_mb_s")]
    assert [len(r) for r in rounds] == [2, 2, 2] and len(found["reference_scan_mb_s"]) == 2
    assert found["corpus_mb"] == sum(len(t) for t in texts) / 1e6


def test_format_table_has_a_column_per_size() -> None:
    row = {
        "strings": 1000,
        "load": {"keys": 990, "seconds": 0.5, "process_s": 1.25, "peak_rss_mb": 100.0},
        "compile": {"seconds": 2.0, "peak_rss_mb": 300.0},
        "artifact_mb": 12.3,
        "scan": {"automaton_mb_s": [2.0, 3.0], "reference_mb_s": [4.0, 3.0]},
        "silver_2_workers": {"seconds": 9.5, "peak_rss_sum_mb": 800.0, "peak_pss_sum_mb": 400.0},
    }
    table = format_table([row, {**row, "strings": 2000}])
    lines = table.splitlines()
    assert lines[0] == "| step | 1,000 strings | 2,000 strings |"
    assert "| keys (distinct after folding) | 990 | 990 |" in lines
    assert "| artifact MB | 12 | 12 |" in lines
    assert any(line.endswith("| 3.00 / 4.00 (0.75x) | 3.00 / 4.00 (0.75x) |") for line in lines)
    assert any(line.endswith("| 9.5 s, 800 / 400 | 9.5 s, 800 / 400 |") for line in lines)
