"""Silver stats and silver-vs-gold evaluation on tiny hand-made Parquet data sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from binder_core.contract.errors import ConfigError, InputError, SchemaError
from binder_core.contract.schema import (
    ANY_LABEL,
    Origin,
    document_schema,
    make_span,
    shard_name,
    write_documents,
)
from pipelines.datasets.evaluate import EvalConfig, silver_eval
from pipelines.datasets.stats import silver_stats, write_stats_html, write_stats_pngs

D1 = "Aspirin causes gastric ulcer."
D2 = "No entities."
D3 = "Extra doc."
D4 = "Pain."


def silver_docs() -> list[dict[str, Any]]:
    exact, fuzzy = Origin.DICT_EXACT, Origin.DICT_FUZZY
    return [
        {
            "doc_id": "d1",
            "text": D1,
            "source": "s",
            "spans": [
                make_span(0, 7, "Chemical", origin=exact, matched_term="aspirin", concept_id="C1"),
                make_span(
                    15, 28, "Disease", origin=fuzzy, matched_term="gastric ulcers", score=0.9
                ),
                make_span(23, 28, "Disease", origin=exact, matched_term="ulcer", uncertain=True),
            ],
        },
        {
            "doc_id": "d2",
            "text": D2,
            "source": "s",
            "spans": [make_span(0, 2, "Gene", origin=exact, matched_term="NO")],
        },
        {
            "doc_id": "d3",
            "text": D3,
            "source": "s",
            "spans": [make_span(0, 5, "Chemical", origin=exact, matched_term="a&b <x>")],
        },
    ]


def gold_docs() -> list[dict[str, Any]]:
    gold = Origin.GOLD
    return [
        {
            "doc_id": "d1",
            "text": D1,
            "spans": [
                make_span(0, 7, "Chemical", origin=gold),
                make_span(15, 28, "Disease", origin=gold),
            ],
        },
        {"doc_id": "d2", "text": D2, "spans": []},
        {"doc_id": "d4", "text": D4, "spans": [make_span(0, 4, "Disease", origin=gold)]},
    ]


def write_set(path: Path, docs: list[dict[str, Any]], labels: tuple[str, ...], fp: str) -> Path:
    write_documents(docs, path / shard_name(0, 1), document_schema(labels, fp))
    return path


@pytest.fixture
def silver_dir(tmp_path: Path) -> Path:
    return write_set(tmp_path / "silver", silver_docs(), ("Chemical", "Disease", "Gene"), "fp1")


@pytest.fixture
def gold_dir(tmp_path: Path) -> Path:
    return write_set(tmp_path / "gold", gold_docs(), ("Chemical", "Disease"), "")


# ----------------------------------------------------------------------------------------- stats
def test_silver_stats_counts(silver_dir: Path) -> None:
    stats = silver_stats(silver_dir, top_k=2)
    d = stats.to_dict()
    assert d["labels"] == ["Chemical", "Disease", "Gene"]
    assert (d["documents"], d["documents_with_spans"], d["spans"]) == (3, 3, 5)
    assert d["spans_per_label"] == {"Chemical": 2, "Disease": 2, "Gene": 1}
    assert (d["uncertain"], d["uncertain_per_label"]) == (
        1,
        {"Chemical": 0, "Disease": 1, "Gene": 0},
    )
    assert d["origins"] == {"dict_exact": 4, "dict_fuzzy": 1}
    # d1 covers [0, 7) + [15, 28) = 20 chars (the nested [23, 28) once); d2 2; d3 5
    assert (d["characters_covered"], d["characters"]) == (27, len(D1) + len(D2) + len(D3))
    assert d["character_coverage"] == 27 / 51
    assert d["document_coverage"] == 1.0
    assert (d["spans_per_document_mean"], d["spans_per_document_max"]) == (5 / 3, 3)
    assert d["spans_per_document_histogram"] == {
        "0": 0, "1": 2, "2": 0, "3": 1, "4-5": 0, "6-10": 0, "11-20": 0, "21-50": 0, "51+": 0
    }  # fmt: skip
    lengths = d["span_length_words_histogram"]
    assert (lengths["1"], lengths["2"], sum(lengths.values())) == (4, 1, 5)
    # per-document coverage: d1 20/29 = .69 -> "0.65"; d2 2/12 -> "0.15"; d3 5/10 -> "0.50"
    assert {k: v for k, v in d["coverage_histogram"].items() if v} == {
        "0.15": 1,
        "0.50": 1,
        "0.65": 1,
    }
    assert d["top_terms"] == {
        "Chemical": [["a&b <x>", 1], ["aspirin", 1]],
        "Disease": [["gastric ulcers", 1], ["ulcer", 1]],
        "Gene": [["NO", 1]],
    }


def test_silver_stats_gold_terms_are_surfaces(gold_dir: Path) -> None:
    assert silver_stats(gold_dir).top_terms == {
        "Chemical": [("Aspirin", 1)],
        "Disease": [("Pain", 1), ("gastric ulcer", 1)],
    }


def test_silver_stats_wrong_schema_is_a_one_line_error(tmp_path: Path) -> None:
    pq.write_table(pa.table({"doc_id": ["a"], "text": ["b"]}), tmp_path / "x.parquet")
    with pytest.raises(SchemaError, match="not a binder-ner Parquet file") as info:
        silver_stats(tmp_path)
    assert "\n" not in str(info.value)


def test_stats_charts_are_pngs_and_html_is_self_contained(silver_dir: Path, tmp_path: Path) -> None:
    stats = silver_stats(silver_dir)
    paths = write_stats_pngs(stats, tmp_path / "png")
    assert sorted(p.name for p in paths) == ["coverage.png", "label_counts.png", "span_length.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for p in paths)
    page = write_stats_html(stats, tmp_path / "r" / "stats.html").read_text("utf-8")
    assert page.count('src="data:image/png;base64,') == 3
    assert "a&amp;b &lt;x&gt;" in page and "<x>" not in page
    assert 'src="http' not in page


# ------------------------------------------------------------------------------------------ eval
def test_silver_eval_default_counts_uncertain_and_missing_gold(
    silver_dir: Path, gold_dir: Path
) -> None:
    report = silver_eval(silver_dir, gold_dir)
    # d1: Chemical tp 1; Disease tp 1, fp 1 (uncertain [23, 28)); d4 missing: Disease fn 1
    assert (report["tp"], report["fp"], report["fn"]) == (2, 1, 1)
    assert (report["precision"], report["recall"], report["f1"]) == (2 / 3, 2 / 3, 2 / 3)
    assert report["per_label"]["Disease"]["fp"] == 1
    assert report["labels"] == ["Chemical", "Disease"]
    assert report["documents"] == {
        "gold": 3,
        "matched": 2,
        "scored": 3,
        "gold_only": 1,
        "silver_only": 1,
        "silver_duplicates": 0,
        "gold_only_examples": ["d4"],
        "silver_only_examples": ["d3"],
    }
    assert report["spans"] == {
        "gold": 3,
        "silver": 5,
        "silver_uncertain": 1,
        "uncertain_excluded": 0,
        "silver_other_labels": 1,
        "silver_any_label": 0,
    }
    assert report["uncertain"] == {
        "gold_missed": 0,
        "gold_missed_covered": 0,
        "spans": 1,
        "spans_not_gold": 1,
    }
    assert report["options"] == {"uncertain": "include", "missing": "false-negatives"}


@pytest.mark.parametrize("policy", ["include", "exclude"])
def test_silver_eval_any_label_spans_are_never_predictions(
    tmp_path: Path, gold_dir: Path, policy: str
) -> None:
    unsure = Origin.DICT_UNCERTAIN
    silver = [
        {
            "doc_id": "d1",
            "text": D1,
            "spans": [
                make_span(0, 7, ANY_LABEL, origin=unsure, uncertain=True),  # gold Chemical
                make_span(8, 14, ANY_LABEL, origin=unsure, uncertain=True),  # "causes"
                make_span(15, 28, "Disease", origin=Origin.DICT_EXACT),
            ],
        },
        {
            "doc_id": "d4",
            "text": D4,
            "spans": [make_span(0, 4, "Disease", origin=unsure, uncertain=True)],
        },
    ]
    path = write_set(tmp_path / "s", silver, ("Chemical", "Disease"), "f")
    report = silver_eval(path, gold_dir, EvalConfig(uncertain=policy))  # type: ignore[arg-type]
    tp, fp, fn = (1, 0, 2) if policy == "exclude" else (2, 0, 1)
    assert (report["tp"], report["fp"], report["fn"]) == (tp, fp, fn)
    assert report["spans"]["silver_any_label"] == 2
    assert report["uncertain"] == {
        "gold_missed": 2,  # aspirin (d1) and Pain (d4): no certain span
        "gold_missed_covered": 2,  # by the ANY_LABEL span and the uncertain Disease span
        "spans": 3,
        "spans_not_gold": 1,  # "causes"
    }


def test_silver_eval_exclude_uncertain(silver_dir: Path, gold_dir: Path) -> None:
    report = silver_eval(silver_dir, gold_dir, EvalConfig(uncertain="exclude"))
    assert (report["tp"], report["fp"], report["fn"]) == (2, 0, 1)
    assert report["spans"]["uncertain_excluded"] == 1


def test_silver_eval_skip_missing_gold_documents(silver_dir: Path, gold_dir: Path) -> None:
    report = silver_eval(silver_dir, gold_dir, EvalConfig(missing="skip"))
    assert (report["tp"], report["fp"], report["fn"]) == (2, 1, 0)
    assert report["documents"]["scored"] == 2


def test_silver_eval_explicit_labels(silver_dir: Path, gold_dir: Path) -> None:
    report = silver_eval(silver_dir, gold_dir, EvalConfig(labels=("Chemical",)))
    assert (report["tp"], report["fp"], report["fn"]) == (1, 0, 0)
    assert list(report["per_label"]) == ["Chemical"]


def test_silver_eval_repeated_silver_id_is_scored_once(tmp_path: Path, gold_dir: Path) -> None:
    docs = silver_docs()
    silver = write_set(tmp_path / "s2", [docs[0], docs[0]], ("Chemical", "Disease"), "f")
    report = silver_eval(silver, gold_dir, EvalConfig(missing="skip"))
    assert (report["tp"], report["fp"], report["documents"]["silver_duplicates"]) == (2, 1, 1)


def test_silver_eval_different_text_is_an_error(tmp_path: Path, gold_dir: Path) -> None:
    silver = write_set(
        tmp_path / "s3", [{"doc_id": "d1", "text": "other", "spans": []}], ("Chemical",), "f"
    )
    with pytest.raises(InputError, match="document 'd1' has a different text"):
        silver_eval(silver, gold_dir)


def test_silver_eval_repeated_gold_id_is_an_error(tmp_path: Path, silver_dir: Path) -> None:
    gold = write_set(tmp_path / "g2", gold_docs()[:1] * 2, ("Chemical",), "")
    with pytest.raises(InputError, match="document id 'd1' appears twice"):
        silver_eval(silver_dir, gold)


def test_silver_eval_missing_folder_is_an_input_error(tmp_path: Path, gold_dir: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        silver_eval(tmp_path / "nope", gold_dir)


def test_eval_config_rejects_unknown_policies() -> None:
    with pytest.raises(ConfigError, match="uncertain must be one of"):
        EvalConfig(uncertain="ignore")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="missing must be one of"):
        EvalConfig(missing="drop")  # type: ignore[arg-type]
