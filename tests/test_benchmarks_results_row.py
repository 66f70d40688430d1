"""``benchmarks.results_row``: one results row from the files an experiment run wrote."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.results_row import row, summary_record


def test_row_reads_the_training_summary_and_the_scores(tmp_path: Path) -> None:
    records = [
        {"kind": "train", "step": 10, "loss": 1.0},
        {"kind": "summary", "step": 20, "best_step": 10, "train_seconds": 12.5,
         "tokens_per_second": 300.0, "peak_rss_mb": 900.0},
    ]  # fmt: skip
    (tmp_path / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    test = {
        "precision": 0.5, "recall": 0.25, "f1": 1 / 3,
        "per_label": {"Disease": {"f1": 0.4}},
        "nested": {"recall": 0.5, "found": 1, "support": 2},
    }  # fmt: skip
    fields = row("run-a", tmp_path, test, {"f1": 0.7}).split("\t")
    assert fields[:6] == ["run-a", "dict_F1=0.7000", "P=0.5000", "R=0.2500", "F1=0.3333",
                          "Disease=0.4000"]  # fmt: skip
    assert fields[6] == "nested_recall=0.5000 (1/2)"
    assert fields[7:11] == ["train=12.5s", "300.0 tok/s", "peak=900.0MB", "best_step=10/20"]
    assert summary_record(tmp_path)["step"] == 20


def test_row_marks_a_run_without_summary(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text('{"kind": "train", "step": 1}\n')
    test = {"precision": 1.0, "recall": 1.0, "f1": 1.0, "per_label": {}}
    assert "?" in row("r", tmp_path, test, None)
