"""``binder data convert`` through typer's CliRunner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from binder_core.contract.schema import iter_documents
from cli.main import app

GOLD = Path(__file__).parent / "fixtures" / "gold"
runner = CliRunner()


def test_data_convert_pubtator_prints_table_and_writes_parquet(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["data", "convert", str(GOLD / "mini.PubTator.txt"), str(tmp_path), "--format", "pubtator"],
    )
    assert result.exit_code == 0, result.output
    assert "2 gold documents" in result.stdout
    assert [d["doc_id"] for d in iter_documents(tmp_path)] == ["100", "200"]


def test_data_convert_json_prints_the_manifest(tmp_path: Path) -> None:
    shutil.copy(GOLD / "mini.tsv", tmp_path / "other.tsv")  # same stem would repeat doc ids
    result = runner.invoke(
        app,
        ["data", "convert", str(GOLD / "mini.conll"), str(tmp_path / "other.tsv"),
         str(tmp_path / "out"),
         "--format", "conll", "--label-map", "LOC=Place", "--keep-label", "Place",
         "--shards", "2", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    assert manifest["counts"]["spans_per_label"] == {"Place": 3}
    assert manifest["counts"]["documents"] == 5
    assert manifest["shards"] == ["part-00000-of-00002.parquet", "part-00001-of-00002.parquet"]
    assert [f["iob_scheme"] for f in manifest["files"]] == ["iob1", "iob2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad_offsets.PubTator.txt", "--format", "pubtator"], "bad_offsets.PubTator.txt:4: "),
        (["mini.conll", "--format", "conll", "--scheme", "iob2"], "mini.conll:3: tag 'I-ORG'"),
        (["bad.jsonl", "--format", "binder-jsonl"], "bad.jsonl:2: broken JSON"),
        (["mini.tsv", "--format", "conll", "--label-map", "nope"], "--label-map 'nope'"),
    ],
)
def test_data_convert_bad_input_is_one_line_and_nonzero(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["data", "convert", str(GOLD / args[0]), str(tmp_path), *args[1:]])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_data_convert_needs_an_output_folder() -> None:
    result = runner.invoke(app, ["data", "convert", str(GOLD / "mini.tsv"), "--format", "conll"])
    assert result.exit_code == 2
    assert "give at least one INPUT and then OUT_DIR" in result.stderr


@pytest.mark.shared_data
def test_data_convert_bc5cdr_test_set(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "bc5cdr" / "pubtator" / "CDR_TestSet.PubTator.txt"
    result = runner.invoke(
        app, ["data", "convert", str(source), str(tmp_path), "--format", "pubtator", "--json"]
    )
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)["counts"]
    assert counts["documents"] == 500
    assert counts["spans_per_label"] == {"Chemical": 5385, "Disease": 4424}


def test_data_texts_makes_a_corpus_that_silver_build_joins_to_gold(tmp_path: Path) -> None:
    gold = tmp_path / "gold"
    convert = ["data", "convert", str(GOLD / "mini.conll"), str(gold), "--format", "conll"]
    assert runner.invoke(app, convert).exit_code == 0
    corpus = tmp_path / "texts.jsonl"
    result = runner.invoke(app, ["data", "texts", str(gold), str(corpus)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    docs = list(iter_documents(gold))
    assert lines == [{"id": d["doc_id"], "text": d["text"]} for d in docs]
    assert f"{len(docs)} documents" in result.output
