"""The development suite: its pure parts by hand, and one run on the shipped sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.experiments.merge_rules import compare, runs
from benchmarks.experiments.suite import (
    cpu_has_bf16,
    folder_name,
    format_table,
    main,
    option_args,
    pilot_steps,
    score_columns,
)
from benchmarks.experiments.suite_tasks import cap_lines, conll_sentences, without_sentences
from binder_core.contract.schema import Origin, make_span
from tests.test_train_loop import one_thread

__all__ = ["one_thread"]


def test_pilot_steps_shrink_without_native_bf16() -> None:
    fast = "processor : 0\nflags : fpu sse avx512f avx512_bf16 amx_tile\n"
    assert cpu_has_bf16(fast) and pilot_steps(fast) == 300
    assert not cpu_has_bf16("flags : fpu sse avx2\n") and pilot_steps("flags : avx2") == 100
    assert pilot_steps("") == 100


def test_option_args_give_mention_replacement_the_task_dictionary() -> None:
    assert option_args("--replace-mentions 0.3", Path("d.dict")) == [
        "--replace-mentions", "0.3", "--mention-dictionary", "d.dict"]  # fmt: skip
    assert option_args("--mask-mentions 0.2", Path("d.dict")) == ["--mask-mentions", "0.2"]
    assert folder_name("--mask-mentions 0.2") == "mask-mentions_0.2"


def test_conll_sentences_and_without_sentences(tmp_path: Path) -> None:
    tsv = tmp_path / "dev.tsv"
    tsv.write_text("-DOCSTART-\tO\n\nIL-2\tB-protein\ngene\tO\nexpression\tO\n\nOK\tO\n")
    assert conll_sentences(tsv) == ["IL-2 gene expression", "OK"]
    docs = [("a", "We saw IL-2 gene expression here ."), ("b", "OK then .")]
    assert list(without_sentences(docs, conll_sentences(tsv), min_chars=5)) == [docs[1]]
    assert cap_lines(["x\n", "\n", "y\n", "z\n"], tmp_path / "c.txt", 2) == 2
    assert (tmp_path / "c.txt").read_text() == "x\ny\n"


def _s(start: int, end: int, label: str, margin: float = 4.0, uncertain: bool = False) -> dict:
    score = 1 / (1 + 2.718281828459045**-margin)
    return make_span(start, end, label, origin=Origin.MODEL, score=score, uncertain=uncertain)


def test_score_columns_scores_each_output_against_gold() -> None:
    gold = {"d1": [_s(0, 5, "A"), _s(10, 20, "B")], "d2": [_s(0, 4, "A")]}
    dictionary = {"d1": [_s(0, 5, "A"), _s(10, 14, "B"), _s(30, 33, "A", uncertain=True)]}
    predicted = {"d1": [_s(10, 20, "B", margin=4.0)], "d2": [_s(0, 4, "A")]}
    scores = score_columns(gold, dictionary, predicted, ["A", "B"])
    # dictionary: 1 of 2 right, 1 of 3 found; model: 2 of 2 right, 2 of 3 found
    assert scores["dictionary"]["f1"] == pytest.approx(0.4)
    assert scores["model"]["f1"] == pytest.approx(0.8)
    # the default rule, every overlap to the dictionary: B 10-14 replaces the right 10-20
    assert scores["merge"]["f1"] == pytest.approx(2 * (2 / 3) * (2 / 3) / (4 / 3))
    # trust: the model reproduces 0 of 2 dictionary spans: trust log(1/3) < 4, "B" 10-20 wins;
    # "A" 0-5 overlaps no prediction and is added: all three right
    assert scores["trust"]["f1"] == 1.0
    table = format_table([{"task": "t", "variant": "base", "steps": 3, "scores": scores}])
    assert table.splitlines()[-1].split() == ["t", "base", "3", "0.4000", "0.8000", "0.6667",
                                              "1.0000", "NO"]  # fmt: skip


def test_merge_rules_compare_scores_each_rule_on_the_same_predictions(tmp_path: Path) -> None:
    gold = {"d1": [_s(0, 5, "A"), _s(10, 20, "B")], "d2": [_s(0, 4, "A")]}
    dictionary = {"d1": [_s(0, 5, "A"), _s(10, 14, "B")]}
    predicted = {"d1": [_s(10, 20, "B", margin=2.5)], "d2": [_s(0, 4, "A")]}
    f1 = compare(gold, dictionary, predicted)
    assert f1["dictionary only"] == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))
    assert f1["model only"] == pytest.approx(0.8)
    # margin 2.5 beats a trust of 1 or 2 (B 10-20 replaces B 10-14), not 3 or 5
    assert f1["trust=1"] == f1["trust=2"] == f1["trust"] == f1["model"] == 1.0
    assert f1["trust=3"] == f1["trust=5"] == f1["dictionary"] == pytest.approx(2 / 3)
    run = tmp_path / "ncbi" / "run_mask-mentions_0.2"
    run.mkdir(parents=True)
    (run / "dev_predictions.jsonl").write_text("")
    assert runs(tmp_path) == [("ncbi", "mask-mentions_0.2", tmp_path / "ncbi")]


def test_suite_runs_the_sample_end_to_end(
    tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "suite"
    args = ["--tasks", "sample", "--steps", "3", "--out", str(out), "--model", str(tiny_bert),
            "--train-args", "--batch-size 4 --max-seq-length 32 --window-overlap 8 "
            "--max-span-width 8", "--option", "--mask-mentions 0.3"]  # fmt: skip
    assert main([*args, "--prepare-only"]) == 0
    assert not (out / "results.jsonl").exists() and (out / "sample" / "silver_dev").is_dir()
    assert main(args) == 0  # the prepared data is reused
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [(r["task"], r["variant"], r["steps"]) for r in rows] == [
        ("sample", "base", 3), ("sample", "mask-mentions_0.3", 3)]  # fmt: skip
    assert (
        "--mask-mentions 0.3" in rows[1]["command"] and "--mask-mentions" not in rows[0]["command"]
    )
    for row in rows:
        assert set(row["scores"]) == {"dictionary", "model", "merge", "trust"}
    # the dictionary's column does not depend on the model, and is its silver eval's F1
    assert rows[0]["scores"]["dictionary"] == rows[1]["scores"]["dictionary"]
    assert rows[0]["scores"]["dictionary"]["f1"] > 0.3
    printed = capsys.readouterr().out.splitlines()
    assert printed[-4].split()[:3] == ["task", "variant", "steps"]
    assert [line.split()[1] for line in printed[-2:]] == ["base", "--mask-mentions"]
