"""A compressed corpus that ends early: the records before the cut, then one dead letter that
names the file and the line, a manifest that lists the file, and a non-zero exit."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from binder_core.contract.errors import InputError
from cli.main import app
from pipelines.corpus.damaged_input import check_partial_files, partial_files
from pipelines.corpus.readers import ByteRange, DeadLetter, Document, iter_records
from pipelines.corpus.records import parse_record
from pipelines.silver.config import ReadConfig

JSONL = "".join(json.dumps({"id": str(i), "text": f"Aspirin {i}."}) + "\n" for i in range(3))
PUBTATOR = "1|t|Aspirin.\n1|a|Pain.\n\n2|t|Delirium.\n2|a|Famotidine.\n\n"


def _cut_gzip(path: Path, text: str, keep: int) -> Path:
    """``text`` gzipped in one block, cut so that its first ``keep`` bytes still decompress."""
    data = gzip.compress(text.encode(), compresslevel=0)  # stored: byte i of text is findable
    start = data.index(text[:8].encode())
    path.write_bytes(data[: start + keep])
    return path


def _parsed(path: Path, config: ReadConfig) -> list[Document | DeadLetter]:
    return [parse_record(r, config) for r in iter_records(ByteRange(str(path), 0, None, 1), config)]


def test_iter_records_turns_the_record_at_the_cut_into_a_truncated_file_letter(
    tmp_path: Path,
) -> None:
    path = _cut_gzip(tmp_path / "c.jsonl.gz", JSONL, len(JSONL) - 5)
    got = _parsed(path, ReadConfig(format="jsonl"))
    assert [type(g).__name__ for g in got] == ["Document", "Document", "DeadLetter"]
    assert got[2] == DeadLetter(
        "truncated_file",
        str(path),
        3,
        "compressed file ends early (the data stops inside a compressed stream) at line 3: read "
        "up to line 2, the rest of the file is lost; download or copy it again",
        JSONL.splitlines()[2][:-4],
    )


def test_iter_records_adds_a_letter_when_the_cut_falls_between_records(tmp_path: Path) -> None:
    path = _cut_gzip(tmp_path / "c.txt.gz", "one\ntwo\n", len("one\ntwo\n"))
    got = _parsed(path, ReadConfig(format="text"))
    assert [g.text if isinstance(g, Document) else (g.reason, g.line) for g in got] == [
        "one",
        "two",
        ("truncated_file", 3),
    ]


def test_iter_records_never_keeps_half_a_pubtator_document(tmp_path: Path) -> None:
    # the data stops after a whole line of document 2, which lacks its blank line: cut
    path = _cut_gzip(tmp_path / "c.pubtator.gz", PUBTATOR, PUBTATOR.index("2|a|"))
    got = _parsed(path, ReadConfig(format="pubtator"))
    assert got[0] == Document("1", "Aspirin. Pain.", "c.pubtator.gz")
    assert isinstance(got[1], DeadLetter) and (got[1].reason, got[1].line) == ("truncated_file", 4)
    assert got[1].record == "2|t|Delirium."
    assert len(got) == 2


def test_iter_records_reads_a_whole_gzip_as_before(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl.gz"
    path.write_bytes(gzip.compress(JSONL.encode()))
    got = _parsed(path, ReadConfig(format="jsonl"))
    assert [g.doc_id for g in got if isinstance(g, Document)] == ["0", "1", "2"]
    assert len(got) == 3


def test_partial_files_lists_the_damaged_files_of_the_dead_letters() -> None:
    letters = [
        {"reason": "broken_json", "path": "a", "line": 1, "detail": "x"},
        {"reason": "corrupt_file", "path": "c.gz", "line": 9, "detail": "y"},
        {"reason": "truncated_file", "path": "b.gz", "line": 4, "detail": "z"},
    ]
    assert partial_files(letters) == [
        {"path": "b.gz", "reason": "truncated_file", "line": 4, "detail": "z"},
        {"path": "c.gz", "reason": "corrupt_file", "line": 9, "detail": "y"},
    ]


def test_check_partial_files_refuses_unless_allowed() -> None:
    manifest = {"partial_files": [{"path": "b.gz", "reason": "truncated_file", "line": 4}]}
    check_partial_files(manifest, allowed=True)
    check_partial_files({"partial_files": []}, allowed=False)
    with pytest.raises(InputError, match=r"read only in part: b.gz \(truncated at line 4\)"):
        check_partial_files(manifest, allowed=False)


@pytest.fixture(scope="module")
def half_gzip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 2,000-record ``.jsonl.gz`` cut at half its compressed size, and a dictionary."""
    from dictionaries import Entry, compile_dictionary, save_compiled

    root = tmp_path_factory.mktemp("half")
    lines = "".join(
        json.dumps({"id": str(i), "text": f"Aspirin dose {i * 7919 % 10007} given."}) + "\n"
        for i in range(2000)
    )
    data = gzip.compress(lines.encode())
    corpus = root / "corpus.jsonl.gz"
    corpus.write_bytes(data[: len(data) // 2])
    dictionary = root / "d.dict"
    save_compiled(compile_dictionary([Entry("aspirin", "Chemical", "D1", "t")]), dictionary)
    return corpus, dictionary


def test_silver_build_names_a_half_gzip_as_truncated_and_exits_2(
    half_gzip: tuple[Path, Path], tmp_path: Path
) -> None:
    corpus, dictionary = half_gzip
    out = tmp_path / "silver"
    args = ["silver", "build", str(corpus), "--dict", str(dictionary), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--format", "jsonl"])
    assert result.exit_code == 2
    manifest = json.loads((out / "_manifest.json").read_text("utf-8"))
    [partial] = manifest["partial_files"]
    assert (partial["path"], partial["reason"]) == (str(corpus), "truncated_file")
    counts = manifest["counts"]
    assert counts["balanced"] and counts["dead_letters_by_reason"] == {"truncated_file": 1}
    assert counts["rows"] == partial["line"] - 1 and counts["rows"] > 100
    assert "truncated_file" in result.output and "truncated file" in result.output  # the table
    assert (
        result.output.strip()
        .splitlines()[-1]
        .startswith(f"error: 1 input file(s) read only in part: {corpus} (truncated at line")
    )


def test_silver_build_accepts_a_partial_file_when_asked(
    half_gzip: tuple[Path, Path], tmp_path: Path
) -> None:
    corpus, dictionary = half_gzip
    out = tmp_path / "silver"
    args = ["silver", "build", str(corpus), "--dict", str(dictionary), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--format", "jsonl", "--allow-partial-files"])
    assert result.exit_code == 0, result.output
    assert "truncated file" in result.output
    manifest = json.loads((out / "_manifest.json").read_text("utf-8"))
    assert [p["reason"] for p in manifest["partial_files"]] == ["truncated_file"]
    assert "allow_partial_files" not in manifest["options"]  # it changes no row
