"""``pipelines.silver.augment`` and ``binder silver augment``: counts add up, dictionary wins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.schema import (
    document_schema,
    iter_documents,
    make_span,
    open_dataset,
    write_documents,
)
from cli.main import app
from pipelines.silver.augment import augment_silver, augment_spans

runner = CliRunner()
TEXT = "aspirin caused severe headache and nausea in mice"


def _dict(start: int, end: int, label: str, uncertain: bool = False) -> dict:
    return make_span(start, end, label, origin="dict_exact", uncertain=uncertain)


def _pred(start: int, end: int, label: str, score: float) -> dict:
    return make_span(start, end, label, origin="model", score=score)


def test_augment_spans_sorts_each_prediction_into_one_fate() -> None:
    silver = [_dict(0, 7, "Chemical"), _dict(35, 41, "Disease", uncertain=True)]
    predicted = [
        _pred(0, 7, "Chemical", 0.99),  # agrees
        _pred(22, 30, "Disease", 0.95),  # new, confident
        _pred(15, 30, "Disease", 0.70),  # overlaps the confident one: lower score loses
        _pred(35, 41, "Chemical", 0.97),  # overlaps an uncertain dictionary span
        _pred(45, 49, "Chemical", 0.60),  # new, not confident -> uncertain
    ]
    spans, counts = augment_spans(silver, predicted, min_score=0.9)
    assert counts == {
        "agreed_with_dictionary": 1,
        "overlapping_dictionary": 2,
        "added": 1,
        "added_uncertain": 1,
    }
    added = {(s["start"], s["end"], s["label"], s["uncertain"]) for s in spans[2:]}
    assert added == {(22, 30, "Disease", False), (45, 49, "Chemical", True)}
    assert all(s["origin"] == "model" for s in spans[2:])
    assert spans[:2] == silver


def _write(path: Path, docs: list[dict], labels: list[str], fingerprint: str = "") -> Path:
    write_documents(docs, path, document_schema(labels, fingerprint))
    return path


def _docs(spans_per_doc: list[list[dict]]) -> list[dict]:
    return [
        {"doc_id": f"d{i}", "text": TEXT, "source": "s", "spans": spans}
        for i, spans in enumerate(spans_per_doc)
    ]


def test_augment_silver_writes_every_document_and_balances_counts(tmp_path: Path) -> None:
    silver = _write(
        tmp_path / "silver" / "part-00000-of-00001.parquet",
        _docs([[_dict(0, 7, "Chemical")], []]),
        ["Chemical", "Disease"],
        "fp",
    )
    preds = _write(
        tmp_path / "preds.parquet",
        _docs(
            [
                [_pred(0, 7, "Chemical", 0.99), _pred(22, 30, "Disease", 0.95)],
                [_pred(35, 41, "Disease", 0.5)],
            ]
        ),
        ["Chemical", "Disease"],
    )
    result = augment_silver(silver.parent, preds, tmp_path / "out", min_score=0.9)
    counts = result.manifest["counts"]
    assert counts["documents"] == 2 == result.documents
    assert counts["predicted_spans"] == 3 == sum(result.counts.values())
    assert counts["spans_written"] == 3
    out = list(iter_documents(tmp_path / "out"))
    assert [len(d["spans"]) for d in out] == [2, 1]
    assert out[1]["spans"][0]["uncertain"] is True
    _, meta = open_dataset(tmp_path / "out")
    assert meta.dictionary_fingerprint == "fp"
    assert json.loads((tmp_path / "out" / "_manifest.json").read_text())["min_score"] == 0.9


def test_augment_silver_rejects_predictions_of_another_data_set(tmp_path: Path) -> None:
    silver = _write(tmp_path / "silver.parquet", _docs([[], []]), ["Chemical"])
    short = _write(tmp_path / "short.parquet", _docs([[]]), ["Chemical"])
    with pytest.raises(InputError, match="found the end of the file"):
        augment_silver(silver, short, tmp_path / "out")
    other = _write(tmp_path / "other.parquet", _docs([[]]), ["Gene"])
    with pytest.raises(ConfigError, match="Gene"):
        augment_silver(silver, other, tmp_path / "out")
    with pytest.raises(ConfigError, match="min-score"):
        augment_silver(silver, silver, tmp_path / "out", min_score=2)


def test_cli_augment_prints_counts_and_one_line_errors(tmp_path: Path) -> None:
    silver = _write(tmp_path / "silver.parquet", _docs([[_dict(0, 7, "Chemical")]]), ["Chemical"])
    preds = _write(tmp_path / "p.parquet", _docs([[_pred(45, 49, "Chemical", 0.95)]]), ["Chemical"])
    result = runner.invoke(app, ["silver", "augment", str(silver), str(preds), str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "added" in result.stdout and "1 documents" in result.stdout
    bad = runner.invoke(app, ["silver", "augment", str(silver), str(tmp_path / "x"), str(tmp_path)])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_augment_a_confident_prediction_types_the_broad_lexicon_span_it_overlaps() -> None:
    from binder_core.contract.schema import ANY_LABEL, Origin, make_span
    from pipelines.silver.augment import BROAD_REPLACED, augment_spans

    broad = make_span(0, 9, ANY_LABEL, origin=Origin.DICT_UNCERTAIN, uncertain=True)
    typed = make_span(20, 28, "Disease", origin=Origin.DICT_EXACT)
    predicted = [
        make_span(0, 9, "Chemical", origin=Origin.MODEL, score=0.95),  # confident: replaces
        make_span(21, 25, "Chemical", origin=Origin.MODEL, score=0.99),  # loses to the dictionary
    ]
    spans, counts = augment_spans([broad, typed], predicted, min_score=0.9)
    assert [(s["start"], s["end"], s["label"], s["uncertain"]) for s in spans] == [
        (20, 28, "Disease", False),
        (0, 9, "Chemical", False),
    ]
    assert (
        counts[BROAD_REPLACED] == 1
        and counts["added"] == 1
        and counts["overlapping_dictionary"] == 1
    )
    unsure = [make_span(2, 6, "Chemical", origin=Origin.MODEL, score=0.6)]
    spans, counts = augment_spans([broad], unsure, min_score=0.9)
    assert len(spans) == 2 and counts[BROAD_REPLACED] == 0 and counts["added_uncertain"] == 1
