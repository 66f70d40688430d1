"""Gold converters on the real data sets in ../shared/data (counts from their SOURCE.md files)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from binder_core.contract.schema import iter_documents
from pipelines.gold.convert import ConvertConfig, convert_gold

pytestmark = pytest.mark.shared_data


def label_counts(out: Path) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for doc in iter_documents(out):
        for s in doc["spans"]:
            assert doc["text"][s["start"] : s["end"]].strip() == doc["text"][s["start"] : s["end"]]
            counts[s["label"]] += 1
    return dict(sorted(counts.items()))


def test_convert_bc5cdr_test_pubtator_counts(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "bc5cdr" / "pubtator" / "CDR_TestSet.PubTator.txt"
    result = convert_gold([path], tmp_path, ConvertConfig("pubtator"))
    assert result.documents == 500
    assert label_counts(tmp_path) == {"Chemical": 5385, "Disease": 4424}
    assert result.manifest["files"][0]["relations_skipped"] == 1066
    first = next(iter_documents(tmp_path))
    assert first["doc_id"] == "8701013"
    assert first["text"].startswith("Famotidine-associated delirium. A series of six cases. Famo")


def test_convert_ncbi_original_skips_the_known_duplicate(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "ncbi_disease" / "original" / "NCBItrainset_corpus.txt"
    result = convert_gold([path], tmp_path, ConvertConfig("pubtator"))
    assert result.documents == 592
    assert result.manifest["counts"]["duplicate_documents_skipped"] == 1
    assert sum(result.spans_per_label.values()) == 5145 - 11  # PMID 8528200 has 11 mentions


def test_convert_conll2003_testa_iob1_counts(shared_data: Path, tmp_path: Path) -> None:
    result = convert_gold(
        [shared_data / "conll2003" / "eng.testa"], tmp_path, ConvertConfig("conll")
    )
    assert result.documents == 216
    assert result.manifest["files"][0]["iob_scheme"] == "iob1"
    assert label_counts(tmp_path) == {"LOC": 1837, "MISC": 922, "ORG": 1341, "PER": 1842}


@pytest.mark.parametrize(
    ("rel", "sentences", "expected"),
    [
        ("ncbi_disease/iob_mtl/test.tsv", 940, {"Disease": 960}),
        ("bc5cdr/iob_mtl/test.tsv", 4797, {"Chemical": 5385, "Disease": 4424}),
    ],
)
def test_convert_iob_mtl_iob2_counts(
    shared_data: Path, tmp_path: Path, rel: str, sentences: int, expected: dict[str, int]
) -> None:
    result = convert_gold([shared_data / rel], tmp_path, ConvertConfig("conll", scheme="iob2"))
    assert result.documents == sentences
    assert label_counts(tmp_path) == expected


def test_convert_genia_nested_keeps_every_mention(shared_data: Path, tmp_path: Path) -> None:
    result = convert_gold(
        [shared_data / "genia_nested" / "test.json"], tmp_path, ConvertConfig("binder-jsonl")
    )
    assert result.documents == 1854
    assert label_counts(tmp_path) == {
        "DNA": 1262,
        "RNA": 109,
        "cell_line": 445,
        "cell_type": 606,
        "protein": 3084,
    }
    nested = sum(
        any(o is not s and o["start"] <= s["start"] and s["end"] <= o["end"] for o in doc["spans"])
        for doc in iter_documents(tmp_path)
        for s in doc["spans"]
    )
    assert nested > 500  # SOURCE.md: 583 entities strictly contain another one
