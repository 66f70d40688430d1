"""Corpus readers: line splitting, byte ranges, record parsing and every dead-letter reason."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.schema import content_doc_id
from pipelines.corpus import readers
from pipelines.corpus.readers import (
    ByteRange,
    DeadLetter,
    Document,
    InputFile,
    RawRecord,
    expand_inputs,
    iter_records,
    plan_ranges,
    read_lines,
)
from pipelines.corpus.records import parse_pubtator_block, parse_record
from pipelines.silver.config import ReadConfig

CORPORA = Path(__file__).parent / "fixtures" / "corpora"


def _records(path: Path, config: ReadConfig) -> list[RawRecord]:
    return list(iter_records(ByteRange(str(path), 0, None, 1), config))


def _parse_all(path: Path, config: ReadConfig) -> list[Document | DeadLetter]:
    return [parse_record(r, config) for r in _records(path, config)]


def test_read_lines_strips_newlines_and_crlf() -> None:
    stream = io.BytesIO(b"a\r\nbb\n\nlast")
    assert list(read_lines(stream, None, 100)) == [(b"a", 1), (b"bb", 2), (b"", 0), (b"last", 4)]


def test_read_lines_empty_stream_gives_nothing() -> None:
    assert list(read_lines(io.BytesIO(b""), None, 100)) == []


def test_read_lines_marks_overlong_lines_without_keeping_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(readers, "_CHUNK_BYTES", 4)
    stream = io.BytesIO(b"ok\n" + b"x" * 25 + b"\nok2\n" + b"y" * 11)
    assert list(read_lines(stream, None, 10)) == [(b"ok", 2), (None, 25), (b"ok2", 3), (None, 11)]


def test_read_lines_stops_at_the_byte_limit() -> None:
    assert list(read_lines(io.BytesIO(b"ab\ncd\nef\n"), 6, 100)) == [(b"ab", 2), (b"cd", 2)]


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.sampled_from([b"a", b"\xc3\xa9", b"\n", b"\r\n", b" "]), max_size=40),
    chunk=st.integers(min_value=1, max_value=7),
)
def test_read_lines_matches_split_for_any_chunk_size(data: list[bytes], chunk: int) -> None:
    blob = b"".join(data)
    expected = blob.split(b"\n")
    if expected[-1] == b"":
        expected.pop()
    expected = [line.removesuffix(b"\r") for line in expected]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(readers, "_CHUNK_BYTES", chunk)
        got = [line for line, _ in read_lines(io.BytesIO(blob), None, 1000)]
    assert got == expected


@settings(max_examples=40, deadline=None)
@given(
    lines=st.lists(st.sampled_from(["", "a", "bb b", "ccc|t|x", "d\td"]), max_size=30),
    split=st.integers(min_value=1, max_value=12),
    fmt=st.sampled_from(["text", "pubtator"]),
)
def test_plan_ranges_reads_the_same_records_as_one_range(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], split: int, fmt: str
) -> None:
    path = tmp_path_factory.mktemp("ranges") / "corpus.txt"
    path.write_text("".join(line + "\n" for line in lines))
    config = ReadConfig(format=fmt, split_bytes=split)  # type: ignore[arg-type]
    ranges = plan_ranges(InputFile(str(path), path.stat().st_size), config)
    split_records = [r for br in ranges for r in iter_records(br, config)]
    assert split_records == _records(path, config)
    assert ranges[0].start == 0 and ranges[-1].end is None


def test_plan_ranges_gives_line_numbers_of_range_starts(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_bytes(b"aaaa\nbbbb\ncccc\ndddd\n")
    # 20 bytes in ranges of at most 10: two ranges, cut at the first line start after byte 10
    ranges = plan_ranges(InputFile(str(path), 20), ReadConfig(split_bytes=10))
    assert ranges == [
        ByteRange(str(path), 0, 10, 1),
        ByteRange(str(path), 10, None, 3),
    ]


def test_plan_ranges_cuts_equal_shares_in_multiples_of_the_workers(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_bytes(b"".join(b"%03d\n" % i for i in range(100)))  # 100 lines of 4 bytes
    size = path.stat().st_size
    three = plan_ranges(InputFile(str(path), size), ReadConfig(split_bytes=150))
    assert [(r.start, r.first_line) for r in three] == [(0, 1), (136, 35), (268, 68)]
    four = plan_ranges(InputFile(str(path), size), ReadConfig(split_bytes=150), multiple=2)
    assert [(r.start, r.first_line) for r in four] == [(0, 1), (100, 26), (200, 51), (300, 76)]


def test_plan_ranges_keeps_compressed_files_whole(tmp_path: Path) -> None:
    path = tmp_path / "c.txt.gz"
    path.write_bytes(gzip.compress(b"a\n" * 100))
    assert plan_ranges(InputFile(str(path), 10_000), ReadConfig(split_bytes=1)) == [
        ByteRange(str(path), 0, None, 1)
    ]


def test_parse_record_text_lines_get_content_ids_and_empty_lines_are_dead_letters() -> None:
    config = ReadConfig(format="text")
    got = _parse_all(CORPORA / "abstracts.txt", config)
    path = str(CORPORA / "abstracts.txt")
    line1 = "Famotidine-associated delirium was reported in six patients."
    assert got[0] == Document(content_doc_id(line1), line1, "abstracts.txt")
    assert got[2] == DeadLetter("empty_text", path, 3, "empty line", "")
    assert [type(g).__name__ for g in got] == ["Document"] * 2 + ["DeadLetter"] + ["Document"] * 2
    assert got[4].text == "Caffeine is a stimulant; Straße café İstanbul."  # type: ignore[union-attr]


def test_parse_record_jsonl_uses_configured_id_and_text_fields() -> None:
    config = ReadConfig(format="jsonl", id_field="pmid", text_field="body")
    got = _parse_all(CORPORA / "abstracts.jsonl", config)
    text3 = "Aspirin without an id gets a content hash."
    assert got == [
        Document(
            "1001", "Cisplatin induced nephrotoxicity and hearing loss in mice.", "abstracts.jsonl"
        ),
        Document("1002", "Naloxone reversed the effects of morphine in rats.", "abstracts.jsonl"),
        Document(content_doc_id(text3), text3, "abstracts.jsonl"),
        Document(
            "1004", "Hypertension and hypokalemia are common side effects.", "abstracts.jsonl"
        ),
    ]


def test_parse_record_pubtator_gives_pmid_and_title_space_abstract() -> None:
    got = _parse_all(CORPORA / "sample.pubtator", ReadConfig(format="pubtator"))
    assert got == [
        Document(
            "8701013",
            "Famotidine-associated delirium. Famotidine is a histamine H2-receptor antagonist.",
            "sample.pubtator",
        ),
        Document(
            "439781",
            "Indomethacin induced hypotension. After a dose of indomethacin, blood pressure fell.",
            "sample.pubtator",
        ),
        Document("227508", "Naloxone reverses the effect of clonidine. ", "sample.pubtator"),
    ]
    assert [
        r.line for r in _records(CORPORA / "sample.pubtator", ReadConfig(format="pubtator"))
    ] == [
        1,
        6,
        12,
    ]


def test_parse_pubtator_block_splits_documents_without_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "tight.pubtator"
    path.write_text("1|t|A.\n1|a|B.\n2|t|C.\n2\t0\t2\tC.\tX\t-1\n")
    assert _parse_all(path, ReadConfig(format="pubtator")) == [
        Document("1", "A. B.", "tight.pubtator"),
        Document("2", "C. ", "tight.pubtator"),
    ]


def test_parse_pubtator_block_reports_what_is_wrong() -> None:
    assert (
        parse_pubtator_block("1\t0\t2\tab\tX")
        == "first line is not 'PMID|t|title': '1\\t0\\t2\\tab\\tX'"
    )
    assert parse_pubtator_block("1|t|T\n2|a|A") == "abstract line has PMID '2', title line has '1'"


def _record(data: bytes | None, size: int | None = None, line: int = 7) -> RawRecord:
    return RawRecord("/c/x.jsonl", line, data, len(data or b"") if size is None else size)


@pytest.mark.parametrize(
    ("data", "reason", "detail"),
    [
        (
            b'{"text": "a"',
            "broken_json",
            "invalid JSON: Expecting ',' delimiter: line 1 column 13 (char 12)",
        ),
        (b"[1, 2]", "broken_json", "a JSON list, not an object"),
        (b'{"text": "caf\xe9"}', "invalid_utf8", "not UTF-8: invalid continuation byte at byte 13"),
        (b'{"text": "  "}', "empty_text", "field 'text' is empty"),
        (b"   ", "empty_text", "blank line"),
        (
            b'{"body": "x", "id": 1}',
            "missing_text_field",
            "no 'text' field (fields: ['body', 'id']); set --text-field",
        ),
        (b'{"text": 3}', "missing_text_field", "field 'text' is a int, not a string"),
        (
            b'{"text": "x", "id": [1]}',
            "bad_id_field",
            "field 'id' is a list; ids must be strings or integers",
        ),
        (
            b'{"text": "caf\\u00e9 \\ud800"}',
            "invalid_utf8",
            "field 'text' holds an unpaired surrogate escape ('\\ud800') at character 5: not text "
            "UTF-8 can hold",
        ),
        (
            b'{"text": "x", "id": "\\udc00"}',
            "bad_id_field",
            "field 'id' holds an unpaired surrogate escape ('\\udc00') at character 0: not text "
            "UTF-8 can hold",
        ),
    ],
)
def test_parse_record_jsonl_dead_letter_reasons(data: bytes, reason: str, detail: str) -> None:
    got = parse_record(_record(data), ReadConfig(format="jsonl"))
    assert isinstance(got, DeadLetter)
    assert (got.reason, got.path, got.line, got.detail) == (reason, "/c/x.jsonl", 7, detail)


def test_parse_record_over_the_size_limit_is_a_dead_letter() -> None:
    config = ReadConfig(format="text", max_doc_bytes=10)
    assert parse_record(_record(None, size=50), config) == DeadLetter(
        "too_large",
        "/c/x.jsonl",
        7,
        "record of 50 bytes is over the limit of 10 bytes (raise --max-doc-bytes to keep it)",
        "",
    )


def test_parse_record_strips_a_byte_order_mark_on_line_one() -> None:
    got = parse_record(_record("\ufeffhello".encode(), line=1), ReadConfig(format="text"))
    assert got == Document(content_doc_id("hello"), "hello", "x.jsonl")


def test_iter_records_reads_gzip_like_plain(tmp_path: Path) -> None:
    plain = (CORPORA / "abstracts.jsonl").read_bytes()
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(plain))
    config = ReadConfig(format="jsonl")
    got = [(r.line, r.data) for r in _records(tmp_path / "a.jsonl.gz", config)]
    assert got == [(i + 1, line) for i, line in enumerate(plain.splitlines())]


def test_expand_inputs_sorts_globs_and_skips_hidden_files(tmp_path: Path) -> None:
    for name in ("b.txt", "a.txt.gz", ".hidden.txt", "c.json"):
        (tmp_path / name).write_bytes(b"x\n")
    got = expand_inputs([str(tmp_path / "*.txt*"), str(tmp_path / "b.txt")])
    assert got == [InputFile(str(tmp_path / "a.txt.gz"), 2), InputFile(str(tmp_path / "b.txt"), 2)]


def test_expand_inputs_names_a_pattern_that_matches_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\*\.txt: no file matches"):
        expand_inputs([str(tmp_path / "nope*.txt")])


def test_expand_inputs_asks_for_a_glob_when_given_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"is a folder; pass the files or a quoted glob"):
        expand_inputs([str(tmp_path)])


def test_read_config_rejects_bad_values() -> None:
    with pytest.raises(ConfigError, match="unknown corpus format 'xml'"):
        ReadConfig(format="xml")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"ReadConfig\.max_doc_bytes must be >= 1, got 0"):
        ReadConfig(max_doc_bytes=0)
    with pytest.raises(ConfigError, match="both 'x'"):
        ReadConfig(id_field="x", text_field="x")


@pytest.mark.shared_data
def test_pubtator_corpus_text_equals_gold_conversion(shared_data: Path) -> None:
    from pipelines.gold.pubtator import parse_pubtator

    path = shared_data / "bc5cdr" / "pubtator" / "CDR_TestSet.PubTator.txt"
    config = ReadConfig(format="pubtator")
    docs = [parse_record(r, config) for r in _records(path, config)]
    with path.open(encoding="utf-8") as f:
        gold = list(parse_pubtator(((i + 1, ln.rstrip("\n")) for i, ln in enumerate(f)), str(path)))
    assert len(docs) == 500
    assert [(d.doc_id, d.text) for d in docs] == [(g["doc_id"], g["text"]) for g in gold]  # type: ignore[union-attr]
    assert json.dumps(gold[0]["spans"][0]["label"]) == '"Chemical"'
