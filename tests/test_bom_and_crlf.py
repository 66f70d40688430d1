"""Files saved by spreadsheet programs and Windows editors: UTF-8 with a byte-order mark and
CRLF line ends read as the same file without them, wherever binder-ner reads text."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from binder_core.contract.schema import content_doc_id, iter_documents
from binder_core.data.type_descriptions import read_type_descriptions
from binder_core.inference.predict import InputDocument, read_inputs
from cli.main import app
from dictionaries import load_compiled, load_source, match
from pipelines.corpus.readers import ByteRange, Document, iter_records
from pipelines.corpus.records import parse_record
from pipelines.gold.convert import ConvertConfig, read_gold_file
from pipelines.silver.config import ReadConfig

BOM = "\ufeff"


def _windows(path: Path, text: str) -> Path:
    """``text`` as a spreadsheet program saves it: a byte-order mark first, CRLF line ends."""
    path.write_bytes((BOM + text.replace("\n", "\r\n")).encode("utf-8"))
    return path


def test_dict_compile_reads_a_table_with_a_bom_and_crlf(tmp_path: Path) -> None:
    table = _windows(
        tmp_path / "terms.tsv", "term\tlabel\naspirin\tChemical\nheart failure\tDisease\n"
    )
    out = tmp_path / "d.dict"
    result = CliRunner().invoke(app, ["dict", "compile", str(out), "--source", f"kb={table}"])
    assert result.exit_code == 0, result.output
    spans = match("Aspirin for heart failure.", load_compiled(out))
    assert [(s.start, s.end, s.label) for s in spans] == [(0, 7, "Chemical"), (12, 25, "Disease")]


@pytest.mark.parametrize(
    ("fmt", "name", "text", "options"),
    [
        ("autoner", "a.txt", "Chemical\taspirin\nDisease\theart failure\n", {}),
        ("terms", "t.txt", "aspirin\nheart failure\n", {"label": "Chemical"}),
        ("kb", "k.csv", "term,label\naspirin,Chemical\nheart failure,Disease\n", {}),
    ],
)
def test_load_source_drops_the_bom_in_every_text_format(
    tmp_path: Path, fmt: str, name: str, text: str, options: dict[str, str]
) -> None:
    path = _windows(tmp_path / name, text)
    terms = [entry.term for entry in load_source(fmt, path, **options)]
    assert terms == ["aspirin", "heart failure"]


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        ("text", "Aspirin helps.\nSecond line.\n", ["Aspirin helps.", "Second line."]),
        ("jsonl", '{"id": "1", "text": "Aspirin."}\n', ["Aspirin."]),
        ("pubtator", "7|t|Aspirin.\n7|a|Helps.\n\n", ["Aspirin. Helps."]),
    ],
)
def test_corpus_readers_drop_the_bom_and_crlf(
    tmp_path: Path, fmt: str, text: str, expected: list[str]
) -> None:
    config = ReadConfig(format=fmt)  # type: ignore[arg-type]
    for name in ("c.txt", "c.txt.gz"):
        path = _windows(tmp_path / name, text)
        if name.endswith(".gz"):
            path.write_bytes(gzip.compress(path.read_bytes()))
        records = iter_records(ByteRange(str(path), 0, None, 1), config)
        docs = [parse_record(r, config) for r in records]
        assert [d.text for d in docs if isinstance(d, Document)] == expected


def test_silver_build_reads_a_corpus_with_a_bom_and_crlf(tmp_path: Path) -> None:
    from dictionaries import Entry, compile_dictionary, save_compiled

    save_compiled(compile_dictionary([Entry("aspirin", "Chemical", "D1", "t")]), tmp_path / "d")
    corpus = _windows(tmp_path / "c.jsonl", '{"id": "1", "text": "Aspirin."}\n')
    args = ["silver", "build", str(corpus), "--dict", str(tmp_path / "d"), "--format", "jsonl"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    [doc] = iter_documents(tmp_path / "s")
    assert (doc["doc_id"], doc["text"], len(doc["spans"])) == ("1", "Aspirin.", 1)


@pytest.mark.parametrize(
    ("fmt", "name", "text"),
    [
        ("pubtator", "g.txt", "7|t|Aspirin.\n7|a|Helps.\n7\t0\t7\tAspirin\tChemical\tD1\n\n"),
        ("conll", "g.conll", "Aspirin B-Chemical\nhelps O\n\n"),
        ("binder-jsonl", "g.jsonl", json.dumps({"text": "Aspirin helps.", "entity_types":
         ["Chemical"], "entity_start_chars": [0], "entity_end_chars": [7]}) + "\n"),
    ],
)  # fmt: skip
def test_gold_converters_drop_the_bom_and_crlf(
    tmp_path: Path, fmt: str, name: str, text: str
) -> None:
    docs, _ = read_gold_file(_windows(tmp_path / name, text), ConvertConfig(format=fmt))  # type: ignore[arg-type]
    [doc] = docs
    assert doc["text"].startswith("Aspirin") and "\r" not in doc["text"]
    assert [(s["start"], s["end"], s["label"]) for s in doc["spans"]] == [(0, 7, "Chemical")]


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".jsonl"])
def test_type_descriptions_drop_the_bom(tmp_path: Path, suffix: str) -> None:
    text = {
        ".json": '{"Chemical": "a chemical"}\n',
        ".yaml": "Chemical: a chemical\n",
        ".jsonl": '{"name": "Chemical", "description": "a chemical"}\n',
    }[suffix]
    path = _windows(tmp_path / f"types{suffix}", text)
    assert read_type_descriptions(path) == {"Chemical": "a chemical"}


def test_predict_inputs_drop_the_bom_and_crlf(tmp_path: Path) -> None:
    path = _windows(tmp_path / "in.txt", "Aspirin helps.\nSecond.\n")
    assert list(read_inputs(path)) == [
        InputDocument(content_doc_id("Aspirin helps."), "Aspirin helps.", "in.txt"),
        InputDocument(content_doc_id("Second."), "Second.", "in.txt"),
    ]
