"""``binder silver stats`` and ``binder silver eval`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from cli.main import app
from tests.test_pipelines_report import gold_docs, silver_docs, write_set

runner = CliRunner()


def make_sets(tmp_path: Path) -> tuple[Path, Path]:
    silver = write_set(tmp_path / "silver", silver_docs(), ("Chemical", "Disease", "Gene"), "fp")
    gold = write_set(tmp_path / "gold", gold_docs(), ("Chemical", "Disease"), "")
    return silver, gold


def test_silver_eval_json_is_one_object_with_micro_scores(tmp_path: Path) -> None:
    silver, gold = make_sets(tmp_path)
    result = runner.invoke(app, ["silver", "eval", str(silver), str(gold), "--json"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1
    report = json.loads(result.stdout)
    assert (report["precision"], report["recall"], report["f1"]) == (2 / 3, 2 / 3, 2 / 3)
    assert sorted(report["per_label"]) == ["Chemical", "Disease"]


def test_silver_eval_options_reach_the_library(tmp_path: Path) -> None:
    silver, gold = make_sets(tmp_path)
    result = runner.invoke(
        app,
        ["silver", "eval", str(silver), str(gold), "--json", "--uncertain", "exclude",
         "--missing", "skip", "--label", "Disease"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["tp"], report["fp"], report["fn"]) == (1, 0, 0)
    assert report["options"] == {"uncertain": "exclude", "missing": "skip"}


def test_silver_eval_table(tmp_path: Path) -> None:
    silver, gold = make_sets(tmp_path)
    result = runner.invoke(app, ["silver", "eval", str(silver), str(gold)])
    assert result.exit_code == 0, result.output
    assert "micro" in result.stdout and "0.6667" in result.stdout
    assert "1 only in gold" in result.stdout


def test_silver_eval_wrong_schema_is_one_line_and_nonzero(tmp_path: Path) -> None:
    silver, _ = make_sets(tmp_path)
    pq.write_table(pa.table({"x": [1]}), tmp_path / "plain.parquet")
    result = runner.invoke(app, ["silver", "eval", str(silver), str(tmp_path / "plain.parquet")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "plain.parquet: not a binder-ner Parquet file" in result.stderr


def test_silver_stats_json_and_pictures(tmp_path: Path) -> None:
    silver, _ = make_sets(tmp_path)
    html, png = tmp_path / "stats.html", tmp_path / "png"
    result = runner.invoke(
        app, ["silver", "stats", str(silver), "--json", "--html", str(html), "--png", str(png)]
    )
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert (stats["documents"], stats["spans"], stats["uncertain"]) == (3, 5, 1)
    assert html.read_text("utf-8").count("data:image/png;base64,") == 3
    assert sorted(p.name for p in png.iterdir()) == [
        "coverage.png",
        "label_counts.png",
        "span_length.png",
    ]


def test_silver_stats_table(tmp_path: Path) -> None:
    silver, _ = make_sets(tmp_path)
    result = runner.invoke(app, ["silver", "stats", str(silver)])
    assert result.exit_code == 0, result.output
    assert "Spans per label" in result.stdout and "aspirin (1)" in result.stdout


def test_silver_stats_missing_folder_is_one_line_and_nonzero(tmp_path: Path) -> None:
    result = runner.invoke(app, ["silver", "stats", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "nope: no such file or directory" in result.stderr
