"""The benchmark scripts' core functions on hand-made miniatures (no shared data, no Beam)."""

from __future__ import annotations

import gzip
import itertools
import json
import pickle
import sys
from pathlib import Path

import pytest

from benchmarks.bench_compile import (
    generate_terms,
    library_compile,
    raw_steps,
    read_terms,
    timed_load,
    variants,
    write_table,
)
from benchmarks.bench_silver import (
    MESH_TERMS,
    PipelineResult,
    ScanResult,
    build_raw_automaton,
    check_data,
    format_rounds,
    format_table,
    line_parts,
    match_scan_file,
    median_figures,
    mesh_entries,
    raw_scan_file,
    raw_scan_parallel,
    run_measured,
    span_differences,
    summarize,
    word_boundary_spans,
)
from dictionaries import compile_dictionary, load_source
from dictionaries.records import Entry

ENTRIES = [
    Entry("renal failure", "Disease", "D1", "t"),
    Entry("failure", "Disease", "D2", "t"),
    Entry("CT", "Chemical", "C1", "t"),  # an acronym: matched case-sensitively
    Entry("was", "Chemical", "C2", "t"),  # on the stopword list: dropped at compile time
    Entry("non-Hodgkin lymphoma", "Disease", "D3", "t"),
]
TEXT = "Renal failure was seen on ct and CT; non\u2013Hodgkin lymphoma."


def _automaton() -> object:
    return build_raw_automaton({e.term.lower() for e in ENTRIES})


def test_word_boundary_spans_leftmost_longest_on_word_boundaries() -> None:
    automaton = build_raw_automaton(["renal failure", "failure", "ace"])
    text = "acute renal failure; surface ace-inhibitor, failures"
    assert word_boundary_spans(text, automaton) == [(6, 19), (29, 32)]


def test_word_boundary_spans_empty_text() -> None:
    assert word_boundary_spans("", _automaton()) == []


def test_raw_scan_file_counts_documents_and_spans(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    lines = [{"id": "a", "text": TEXT}, {"id": "b", "text": "No match here."}]
    corpus.write_text("".join(json.dumps(d) + "\n" for d in lines), encoding="utf-8")
    result = raw_scan_file(corpus, _automaton())
    # renal failure, was, ct, ct (the en dash keeps "non–hodgkin lymphoma" out of the raw scan)
    assert (result.documents, result.spans) == (2, 4)
    assert result.megabytes == corpus.stat().st_size / 1e6


def test_match_scan_file_uses_the_library_matcher(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "a", "text": TEXT}) + "\n", encoding="utf-8")
    result = match_scan_file(corpus, compile_dictionary(ENTRIES))
    # renal failure, CT (upper case only), non–Hodgkin lymphoma (dash folded)
    assert (result.documents, result.spans) == (1, 3)


def test_span_differences_names_each_reason() -> None:
    assert span_differences([TEXT], compile_dictionary(ENTRIES), _automaton()) == {
        "found by both": 2,
        "pipeline only: Unicode/dash/space folding": 1,
        "raw only: acronym rule (case-sensitive term, other case in text)": 1,
        "raw only: term dropped at compile time (stopword)": 1,
    }


def test_raw_scan_parallel_splits_the_lines_and_adds_up(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    lines = [{"id": str(i), "text": TEXT if i % 2 else "No match."} for i in range(7)]
    corpus.write_text("".join(json.dumps(d) + "\n" for d in lines), encoding="utf-8")
    parts = line_parts(corpus, 3)
    assert parts[0][0] == 0 and parts[-1][1] == corpus.stat().st_size
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
    data = corpus.read_bytes()
    assert all(start == 0 or data[start - 1 : start] == b"\n" for start, _ in parts)
    one = raw_scan_file(corpus, _automaton())
    split = raw_scan_parallel(corpus, _automaton(), 3)
    assert (split.documents, split.spans, split.megabytes) == (7, one.spans, one.megabytes)


def test_summarize_ratio_is_per_core_throughput_over_mean_raw() -> None:
    raw = [ScanResult(10, 100.0, 10.0, 8.0, 50), ScanResult(10, 100.0, 5.0, 4.0, 50)]
    pipe = PipelineResult(2, 10, 0, 48, 100.0, 20.0, 30.0, 500.0)
    matcher = ScanResult(10, 100.0, 20.0, 20.0, 48)
    one = PipelineResult(1, 10, 0, 48, 100.0, 30.0, 30.0, 400.0)
    startup = PipelineResult(1, 1, 0, 1, 0.001, 5.0, 4.0, 300.0)
    parallel = {2: ScanResult(10, 100.0, 5.0, 12.0, 50)}
    summary = summarize(raw, [one, pipe], startup, matcher, parallel)
    assert summary["raw_mb_per_s_mean"] == 15.0  # (10 + 20) / 2
    assert summary["raw_scan_speedup"] == {"2": 1.5}  # mean 7.5 s over 5 s
    run = summary["pipelines"][1]
    assert run["mb_per_s_per_core"] == 2.5  # 100 MB / 20 s / 2 workers
    assert run["ratio_per_core_to_raw"] == pytest.approx(2.5 / 15.0)
    assert run["ratio_net_of_startup"] == pytest.approx(100.0 / 15.0 / 2 / 15.0)  # 20 s - 5 s
    assert run["speedup_vs_one_worker"] == pytest.approx(1.5)  # 30 s / 20 s
    assert run["speedup_share_of_raw"] == pytest.approx(1.0)  # 1.5x of the raw scan's 1.5x
    assert summary["pipelines"][0]["speedup_vs_one_worker"] == pytest.approx(1.0)
    assert summary["pipelines"][0]["speedup_share_of_raw"] is None
    assert summary["matcher_ratio_to_raw"] == pytest.approx(5.0 / 15.0)
    table = format_table(raw, summary, matcher).splitlines()
    # CPU ratios: raw mean (100/8 + 100/4) / 2 = 18.75 MB per CPU-second;
    # pipeline 100/30 / 18.75 = 0.18, matcher 100/20 / 18.75 = 0.27.
    assert table[-1] == (
        "| silver build, 2 worker(s) | 10 | 100.0 | 20.0 | 30.0 | 5.00 | 2.50 | 48 | 0.17x "
        "| 0.18x | 0.22x | 1.50x |"
    )
    assert table[-3] == "| raw scan, 2 processes at once | | | | | | | | | | | 1.50x |"
    assert table[-4] == (
        "| dictionaries.match, in process | 10 | 100.0 | 20.0 | 20.0 | 5.00 | 5.00 | 48 | 0.33x "
        "| 0.27x | | |"
    )


def test_rounds_report_each_round_and_the_medians() -> None:
    raw = [ScanResult(10, 100.0, 10.0, 10.0, 50)] * 2
    startup = PipelineResult(1, 1, 0, 1, 0.001, 2.0, 2.0, 300.0)
    summaries = [
        summarize(
            raw,
            [
                PipelineResult(1, 10, 0, 48, 100.0, one, one, 400.0),
                PipelineResult(2, 10, 0, 48, 100.0, two, two, 400.0),
            ],
            startup,
            None,
            {2: ScanResult(10, 100.0, par, par, 50)},
        )
        for one, two, par in ((20.0, 10.0, 5.0), (25.0, 20.0, 6.25), (40.0, 20.0, 10.0))
    ]
    medians = median_figures(summaries)
    assert medians["rounds"] == 3
    assert medians["raw_scan_speedup"] == {"2": pytest.approx(1.6)}  # of 2.0, 1.6, 1.0
    # one worker: ratios 0.5, 0.4, 0.25; two workers' speed-up 2.0, 1.25, 2.0
    assert medians["pipelines"][0]["ratio_per_core_to_raw"] == pytest.approx(0.4)
    assert medians["pipelines"][1]["speedup_vs_one_worker"] == pytest.approx(2.0)
    lines = format_rounds(summaries).splitlines()
    assert len(lines) == 2 + 3 + 1
    assert lines[-1] == "| median | 0.40x / 1.00x | 0.25x / 2.00x | 1.60x |"


def test_run_measured_returns_stdout_and_usage(tmp_path: Path) -> None:
    measured = run_measured([sys.executable, "-c", "print('hi')"], tmp_path / "log")
    assert measured.stdout == "hi\n"
    assert measured.peak_rss_mb > 0


def test_run_measured_raises_with_the_child_stderr(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        run_measured([sys.executable, "-c", "import sys; sys.exit('boom')"], tmp_path / "log")


def test_check_data_names_the_missing_file(tmp_path: Path) -> None:
    assert check_data(tmp_path, (MESH_TERMS,)) == (
        f"{tmp_path / MESH_TERMS} not found; pass --data-dir (the shared data folder)"
    )


def test_mesh_entries_full_keeps_permuted_terms_and_all_of_tree_d(tmp_path: Path) -> None:
    header = "descriptor_ui\tconcept_ui\tterm_ui\tterm\tdescriptor_name\tconcept_preferred\t"
    header += "record_preferred\tpermuted\tlexical_tag\ttree_numbers\tcategories\n"
    rows = [
        "D1\tM1\tT1\tAspirin\tAspirin\tY\tY\tN\tNON\tD02.1;D27.5\tChemicals and Drugs",
        "D2\tM2\tT2\tInsulin\tInsulin\tY\tY\tN\tNON\tD12.776.1\tChemicals and Drugs",
        "D3\tM3\tT3\tFailure, Renal\tRenal Failure\tN\tN\tY\tNON\tC12.1\tDiseases",
        "D4\tM4\tT4\tArm\tArm\tY\tY\tN\tNON\tA01.1\tAnatomy",
    ]
    path = tmp_path / MESH_TERMS
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress((header + "\n".join(rows) + "\n").encode()))
    assert [e.term for e in mesh_entries(tmp_path, "full")] == [
        "Aspirin",
        "Insulin",
        "Failure, Renal",
    ]
    assert [e.term for e in mesh_entries(tmp_path, "preset")] == ["Aspirin"]


def test_variants_lists_each_spelling_once() -> None:
    assert variants("Renal Failure") == [
        "renal failure",
        "Renal-Failure",
        "Renal Failures",
        "Failure Renal",
    ]
    assert variants("non-Hodgkin") == ["non-hodgkin", "non Hodgkin", "non-Hodgkins"]
    assert variants("5-HT") == ["5-ht", "5 HT", "5-HTs"]
    assert variants("ct") == ["cts"]
    assert variants("abs") == []


def test_generate_terms_adds_rounds_of_variants_until_target() -> None:
    base = [Entry("Ab", "X", "1", "m"), Entry("Ab", "X", "1", "m"), Entry("Ab", "Y", "2", "m")]
    assert [(e.term, e.label) for e in generate_terms(base, 6)] == [
        ("Ab", "X"),
        ("Ab", "Y"),
        ("ab", "X"),
        ("Abs", "X"),
        ("ab", "Y"),
        ("Abs", "Y"),
    ]
    # Stops when no new variant appears: Ab, ab, Abs, abs for each label.
    assert len(generate_terms(base, 100)) == 8


def test_write_table_round_trips_through_the_kb_loader(tmp_path: Path) -> None:
    entries = [Entry('5" cap', "Chemical", "C1", "kb"), Entry("a\tb", "Disease", "D1", "kb")]
    table = tmp_path / "terms.tsv"
    assert write_table(entries, table) == 2
    assert list(load_source("kb", table)) == entries
    assert read_terms(table) == ['5" cap', "a\tb"]


def test_compile_steps_write_loadable_artifacts(tmp_path: Path) -> None:
    table = tmp_path / "terms.tsv"
    write_table([*ENTRIES, Entry("Straße", "Disease", "D4", "t")], table)
    raw = raw_steps(read_terms(table), tmp_path / "raw.pkl")
    assert raw["keys"] == 6.0
    with (tmp_path / "raw.pkl").open("rb") as f:
        assert pickle.load(f).get("strasse") == 5
    library = library_compile(table, tmp_path / "lib.dict")
    assert library["keys"] == 5.0  # "was" is a stopword
    assert timed_load(tmp_path / "lib.dict", raw=False)["keys"] == 5.0
    assert timed_load(tmp_path / "raw.pkl", raw=True)["keys"] == 6.0


def test_main_skips_with_a_message_without_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks import bench_compile, bench_silver

    assert bench_silver.main(["--data-dir", str(tmp_path)]) == 0
    assert bench_compile.main(["--data-dir", str(tmp_path)]) == 0
    missing = f"{tmp_path / MESH_TERMS} not found; pass --data-dir (the shared data folder)\n"
    assert capsys.readouterr().err == (
        f"bench_silver skipped: {missing}bench_compile skipped: {missing}"
    )


def test_silver_stages_times_every_step_and_counts_what_it_wrote(tmp_path: Path) -> None:
    from benchmarks.silver_stages import STEPS, time_stages
    from dictionaries import save_compiled
    from pipelines.silver.labeling_config import LabelingConfig

    corpus = tmp_path / "c.jsonl"
    lines = [{"id": str(i), "text": TEXT} for i in range(5)] + [{"id": "bad"}]
    corpus.write_text("".join(json.dumps(d) + "\n" for d in lines), encoding="utf-8")
    dictionary = tmp_path / "d.dict"
    save_compiled(compile_dictionary(ENTRIES), dictionary)
    seconds, counts = time_stages(corpus, dictionary, LabelingConfig(), shards=2)
    assert list(seconds) == list(STEPS) and all(s >= 0 for s in seconds.values())
    assert counts["documents"] == 5 and counts["dead letters"] == 1 and counts["shards"] == 2
    # renal failure, CT, non-Hodgkin lymphoma in each document (as the library matcher finds)
    assert counts["spans"] == 5 * 3


def test_process_timeline_cores_busy_per_interval() -> None:
    from benchmarks.process_timeline import cpu_per_interval, descendants

    samples = {
        10: [(0.0, 0.0), (0.5, 0.4), (1.0, 0.9), (1.5, 1.0)],  # busy, then idle
        11: [(0.6, 0.0), (1.0, 0.5), (1.5, 1.0)],  # starts in the second interval
    }
    rows = cpu_per_interval(samples, 0.5, 1.5)
    assert rows[0] == [pytest.approx(0.8), None]
    assert rows[1] == [pytest.approx(1.0), pytest.approx(1.0)]
    assert rows[2] == [pytest.approx(0.2), pytest.approx(1.0)]
    table = {1: (0, 0.0), 2: (1, 0.0), 3: (2, 0.0), 4: (0, 0.0)}
    assert descendants(table, 1) == {1, 2, 3}


def test_process_timeline_follows_a_command_and_its_children(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from benchmarks import process_timeline

    code = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'sum(range(10**6))'])"
    assert process_timeline.main(["--interval", "0.05", "--", sys.executable, "-c", code]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("wall ") and printed.count("CPU s") >= 1
