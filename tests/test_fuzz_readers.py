"""Fuzzed corpora: arbitrary bytes, broken JSON, mixed encodings and malformed PubTator blocks.

For every generated corpus the readers never raise, and every input record ends as a document
or a dead letter: record by record in the readers, and through the whole labeling pipeline
(rows + dead letters = input records, as the manifest counts them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binder_core.contract.schema import iter_documents
from dictionaries import Entry, compile_dictionary, save_compiled
from pipelines.corpus.readers import (
    DeadLetter,
    Document,
    InputFile,
    iter_records,
    plan_ranges,
)
from pipelines.corpus.records import parse_record
from pipelines.silver.config import ReadConfig

FORMATS = ("text", "jsonl", "pubtator")

_json_lines = st.one_of(
    st.dictionaries(
        st.sampled_from(["id", "text", "title", "x"]),
        st.one_of(st.text(max_size=20), st.integers(), st.none(), st.lists(st.integers())),
        max_size=3,
    ).map(json.dumps),
    st.sampled_from(['{"id": 1, "text": "ok"', '{"text": "aspirin"}', "[1, 2]", "null", '"s"',
                     '{"id": "a", "text": ""}', "{", '{"id": "x", "text": "\\ud800"}']),
)  # fmt: skip
_pubtator_lines = st.sampled_from([
    "1|t|Aspirin", "1|a|causes ulcers.", "1\t0\t7\tAspirin\tChemical\tD001241", "2|t|", "x|y|z",
    "1\t0\t99\tAspirin\tChemical", "abc\tdef", "3|a|no title first", "", "1|t|Again",
])  # fmt: skip
_piece = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=30).map(lambda t: t.encode("utf-8")),
    st.text(alphabet="éüßàç abc", max_size=20).map(lambda t: t.encode("latin-1")),
    _json_lines.map(lambda t: t.encode("utf-8")),
    _pubtator_lines.map(lambda t: t.encode("utf-8")),
)
corpora = st.lists(_piece, max_size=25).map(lambda pieces: b"\n".join(pieces))


def _records(path: Path, config: ReadConfig) -> list[object]:
    ranges = plan_ranges(InputFile(str(path), path.stat().st_size), config)
    return [record for byte_range in ranges for record in iter_records(byte_range, config)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=corpora, fmt=st.sampled_from(FORMATS), split=st.integers(min_value=1, max_value=64))
def test_readers_never_raise_and_every_record_is_a_document_or_a_dead_letter(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, fmt: str, split: int
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "corpus"
    path.write_bytes(data)
    config = ReadConfig(format=fmt, split_bytes=split, max_doc_bytes=64)  # type: ignore[arg-type]
    records = _records(path, config)
    assert records == _records(path, ReadConfig(format=fmt, max_doc_bytes=64))  # type: ignore[arg-type]
    for record in records:
        assert isinstance(parse_record(record, config), Document | DeadLetter)  # type: ignore[arg-type]


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=corpora, fmt=st.sampled_from(FORMATS))
def test_labeling_pipeline_counts_add_up_on_fuzzed_corpora(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, fmt: str
) -> None:
    from pipelines.runners.execution import local_execution
    from pipelines.silver.config import LocalRunnerConfig, SilverConfig
    from pipelines.silver.pipeline import build_silver

    root = tmp_path_factory.mktemp("fuzz_pipeline")
    corpus = root / "corpus"
    corpus.write_bytes(data + b"\nAspirin causes ulcers.\n")
    dictionary = root / "d.dict"
    save_compiled(compile_dictionary([Entry("aspirin", "Chemical", "D001241", "test")]), dictionary)
    config = SilverConfig(
        (str(corpus),), str(dictionary), str(root / "out"),
        read=ReadConfig(format=fmt),  # type: ignore[arg-type]
    )  # fmt: skip
    manifest = build_silver(config, local_execution(LocalRunnerConfig(workers=1)))
    counts = manifest["counts"]
    assert counts["balanced"] is True
    dead = sum(counts["dead_letters_by_reason"].values())
    assert counts["rows"] + dead == counts["input_records"] == len(_records(corpus, config.read))
    assert sum(1 for _ in iter_documents(root / "out")) == counts["rows"]
