"""Schema version 2 (``link_score`` in every span) and the upgrade of version-1 files on read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from binder_core.contract.errors import SchemaError
from binder_core.contract.schema import (
    META_VERSION,
    SCHEMA_VERSION,
    SPAN_TYPE,
    SPANS_TYPE,
    check_schema,
    document_schema,
    iter_documents,
    iter_shard,
    make_span,
    open_dataset,
    upgrade_spans,
    write_documents,
)
from dictionaries import Entry, compile_dictionary, match

V1_SPAN = pa.struct([f for f in SPAN_TYPE if f.name != "link_score"])
V1_SPANS = pa.list_(pa.field("item", V1_SPAN, nullable=False))
TEXT = "Aspirin and ulcer; gastric ulcer in BRCA1 carriers."


def _v1_schema(labels: list[str], version: bytes = b"1") -> pa.Schema:
    current = document_schema(labels, "fp1")
    columns = [current.field(n) for n in ("doc_id", "text", "source")]
    metadata = {**(current.metadata or {}), META_VERSION: version}
    return pa.schema([*columns, pa.field("spans", V1_SPANS, nullable=False)], metadata=metadata)


def _v1_span(start: int, end: int, label: str, concept_id: str, origin: str) -> dict[str, Any]:
    span = make_span(start, end, label, origin=origin, concept_id=concept_id)
    del span["link_score"]
    return span


def _write_v1(path: Path, docs: list[dict[str, Any]], labels: list[str]) -> Path:
    pq.write_table(pa.Table.from_pylist(docs, schema=_v1_schema(labels)), path)
    return path


V1_DOCS = [
    {
        "doc_id": "d1",
        "text": TEXT,
        "source": "s",
        "spans": [
            _v1_span(0, 7, "Chemical", "D001", "dict_exact"),  # the dictionary's own id
            _v1_span(12, 17, "Disease", "", "dict_exact"),  # a term without an id
            _v1_span(19, 32, "Disease", "D002", "dict_fuzzy"),
            _v1_span(19, 32, "*", "", "dict_uncertain"),
            _v1_span(36, 41, "Gene", "G1", "abbreviation"),
        ],
    },
    {"doc_id": "d2", "text": "", "source": "s", "spans": []},
    {
        "doc_id": "d3",
        "text": TEXT,
        "source": "s",
        "spans": [
            _v1_span(0, 7, "Chemical", "D001", "gold"),  # gold ids were never linked
            _v1_span(12, 17, "Disease", "D003", "model"),  # its cosine was never stored
        ],
    },
]
UPGRADED_SCORES = {"d1": [1.0, 0.0, 1.0, 0.0, 1.0], "d2": [], "d3": [0.0, 0.0]}


def test_check_schema_reads_version_1_and_the_current_version() -> None:
    assert SCHEMA_VERSION == 2
    assert check_schema(_v1_schema(["Chemical"]), "old.parquet").schema_version == 1
    assert check_schema(document_schema(["Chemical"]), "new.parquet").schema_version == 2


@pytest.mark.parametrize("version", [b"0", b"3", b"two"])
def test_check_schema_refuses_other_versions(version: bytes) -> None:
    schema = _v1_schema(["Chemical"], version)
    with pytest.raises(SchemaError, match=f"schema version {version.decode()}, this binder-ner"):
        check_schema(schema, "other.parquet")


def test_check_schema_refuses_columns_of_another_version() -> None:
    current_columns = document_schema(["Chemical"])
    labelled_v1 = current_columns.with_metadata({**current_columns.metadata, META_VERSION: b"1"})
    with pytest.raises(SchemaError, match="columns do not match the binder-ner schema v1"):
        check_schema(labelled_v1, "mixed.parquet")
    with pytest.raises(SchemaError, match="columns do not match the binder-ner schema v2"):
        check_schema(_v1_schema(["Chemical"], b"2"), "mixed.parquet")


@pytest.mark.parametrize("batch_size", [1, 256])
def test_iter_documents_upgrades_a_version_1_file(tmp_path: Path, batch_size: int) -> None:
    path = _write_v1(tmp_path / "old.parquet", V1_DOCS, ["Chemical", "Disease", "Gene"])
    _, meta = open_dataset(path)
    assert (meta.labels, meta.dictionary_fingerprint) == (("Chemical", "Disease", "Gene"), "fp1")
    docs = list(iter_documents(path, batch_size=batch_size))
    assert [d["doc_id"] for d in docs] == ["d1", "d2", "d3"]
    for doc, old in zip(docs, V1_DOCS, strict=True):
        scores = [s.pop("link_score") for s in doc["spans"]]
        assert scores == UPGRADED_SCORES[doc["doc_id"]]
        assert doc == old  # every other value as stored


def test_iter_shard_of_a_version_1_file_without_the_spans_column(tmp_path: Path) -> None:
    path = _write_v1(tmp_path / "old.parquet", V1_DOCS, ["Chemical"])
    assert list(iter_shard(path, columns=["doc_id"])) == [
        {"doc_id": "d1"},
        {"doc_id": "d2"},
        {"doc_id": "d3"},
    ]


def test_upgrade_spans_of_a_sliced_column() -> None:
    column = pa.array([d["spans"] for d in V1_DOCS], type=V1_SPANS)
    upgraded = upgrade_spans(column.slice(1, 2))
    upgraded.validate(full=True)
    assert upgraded.type == SPANS_TYPE
    assert [[s["link_score"] for s in spans] for spans in upgraded.to_pylist()] == [[], [0.0, 0.0]]


def test_a_version_1_silver_file_reads_as_the_version_2_file_of_the_same_matches(
    tmp_path: Path,
) -> None:
    """An upgraded silver shard equals a rebuilt one: no rebuild is needed."""
    compiled = compile_dictionary(
        [
            Entry("aspirin", "Chemical", "D001", "t"),
            Entry("ulcer", "Disease", "", "t"),
            Entry("gastric ulcer", "Disease", "D002", "t"),
        ]
    )
    spans = [m._asdict() for m in match(TEXT, compiled)]
    assert [(s["matched_term"], s["link_score"]) for s in spans] == [
        ("aspirin", 1.0),
        ("ulcer", 0.0),
        ("gastric ulcer", 1.0),
    ]
    doc = {"doc_id": "d1", "text": TEXT, "source": "s", "spans": spans}
    new = tmp_path / "new.parquet"
    write_documents([doc], new, document_schema(["Chemical", "Disease"], "fp1"))
    old_spans = [{k: v for k, v in s.items() if k != "link_score"} for s in spans]
    old = _write_v1(tmp_path / "old.parquet", [{**doc, "spans": old_spans}], ["Chemical"])
    assert list(iter_documents(old)) == list(iter_documents(new))


def test_split_of_a_version_1_data_set_writes_the_current_version(tmp_path: Path) -> None:
    from pipelines.datasets.split import split_dataset

    src = tmp_path / "old"
    src.mkdir()
    _write_v1(src / "part-00000-of-00001.parquet", V1_DOCS, ["Chemical", "Disease", "Gene"])
    split_dataset(src, tmp_path / "out", {"all": 1.0})
    written = tmp_path / "out" / "all"
    _, meta = open_dataset(written)
    assert (meta.labels, meta.dictionary_fingerprint) == (("Chemical", "Disease", "Gene"), "fp1")
    assert pq.read_schema(next(written.glob("*.parquet"))).metadata[META_VERSION] == b"2"
    docs = {d["doc_id"]: d for d in iter_documents(written)}
    assert {k: [s["link_score"] for s in d["spans"]] for k, d in docs.items()} == UPGRADED_SCORES


def test_augment_of_version_1_silver_and_predictions_writes_the_current_version(
    tmp_path: Path,
) -> None:
    from pipelines.silver.augment import augment_silver

    labels = ["Chemical", "Disease", "Gene"]
    silver, predictions = tmp_path / "silver", tmp_path / "predictions"
    silver.mkdir()
    predictions.mkdir()
    _write_v1(silver / "part-00000-of-00001.parquet", V1_DOCS, labels)
    carriers = _v1_span(TEXT.index("carriers"), len(TEXT) - 1, "Gene", "", "model")
    predicted = [{**doc, "spans": [carriers] if doc["text"] else []} for doc in V1_DOCS]
    _write_v1(predictions / "part-00000-of-00001.parquet", predicted, labels)
    out = tmp_path / "round2"
    augment_silver(silver, predictions, out, min_score=0.5)
    written = next(out.glob("*.parquet"))
    assert pq.read_schema(written).metadata[META_VERSION] == b"2"
    docs = {d["doc_id"]: d for d in iter_documents(out)}
    added = [s for s in docs["d1"]["spans"] if s["origin"] == "model"]
    assert [(s["label"], s["link_score"]) for s in added] == [("Gene", 0.0)]
    silver_scores = [s["link_score"] for s in docs["d1"]["spans"] if s["origin"] != "model"]
    assert sorted(silver_scores) == sorted(UPGRADED_SCORES["d1"])
