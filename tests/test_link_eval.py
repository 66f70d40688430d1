"""Linking accuracy against gold concept ids (``pipelines.datasets.link_evaluate``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from binder_core.contract.concepts import gold_ids
from cli.main import app
from dictionaries import Entry, compile_dictionary
from dictionaries.linking.index_file import build_link_index, link_index_path
from dictionaries.linking.linker import Linker, exact_test
from pipelines.datasets.link_evaluate import evaluate_linking

GOLD = Path(__file__).parent / "fixtures" / "gold"
runner = CliRunner()


def _span(start: int, end: int, label: str, concept_id: str) -> dict[str, Any]:
    return {"start": start, "end": end, "label": label, "concept_id": concept_id}


def test_gold_ids_splits_composites_and_drops_none() -> None:
    assert gold_ids("D001|D002") == {"D001", "D002"}
    assert gold_ids("D001+OMIM:1234, D003") == {"D001", "OMIM:1234", "D003"}
    assert gold_ids("-1") == gold_ids("") == frozenset()


def test_evaluate_linking_counts_held_exact_and_composites() -> None:
    compiled = compile_dictionary(
        [
            Entry("gastric ulcer", "Disease", "D013276", "kb"),
            Entry("aspirin", "Chemical", "D001241", "kb"),
            Entry("heart failure", "Disease", "D006333", "kb"),
        ]
    )
    linker = Linker(build_link_index(compiled))
    text = "Aspirin gave gastric ulcers and renal failure; heart failure (HF) and HF recurred."
    doc = {
        "doc_id": "d1",
        "text": text,
        "spans": [
            _span(0, 7, "Chemical", "D001241"),  # exact, right
            _span(13, 27, "Disease", "D013276|D014456"),  # not exact, composite, right
            _span(32, 45, "Disease", "D007674"),  # concept not held
            _span(47, 60, "Disease", "D006333"),  # exact, right
            _span(70, 72, "Disease", "D006333"),  # short form: linked by its long form
            _span(76, 84, "Disease", "-1"),  # no gold id
            _span(0, 7, "*", "D001241"),  # any-label spans are not mentions
        ],
    }
    report = evaluate_linking([doc], linker, exact_test(compiled)).to_dict()
    assert report["mentions"] == 4
    assert report["accuracy@1"] == report["accuracy@5"] == 1.0
    assert report["abstained"] == 0.0
    assert report["exact"]["mentions"] == 2
    assert report["not_exact"]["mentions"] == 2
    assert report["per_label"]["Chemical"]["mentions"] == 1
    assert report["not_held"] == {"mentions": 1, "abstained": 1.0}
    assert report["no_gold_id"] == 1
    assert report["documents"] == 1
    assert report["errors"] == []


def test_evaluate_linking_reports_wrong_links_as_errors() -> None:
    compiled = compile_dictionary(
        [Entry("hepatitis", "Disease", "D1", "kb"), Entry("liver injury", "Disease", "D2", "kb")]
    )
    linker = Linker(build_link_index(compiled))
    doc = {"doc_id": "d", "text": "hepatitides", "spans": [_span(0, 11, "Disease", "D2")]}
    report = evaluate_linking([doc], linker, exact_test(compiled))
    assert report.to_dict()["accuracy@1"] == 0.0
    assert report.errors == [
        {
            "doc_id": "d",
            "surface": "hepatitides",
            "label": "Disease",
            "gold": "D2",
            "linked": "D1",
            "name": "hepatitis",
            "score": report.errors[0]["score"],
            "abstain": "",
        }
    ]


def test_cli_link_evaluate_json(tmp_path: Path) -> None:
    table = tmp_path / "kb.tsv"
    table.write_text(
        "term\tlabel\tid\naspirin\tChemical\tD001241\nulcer, gastric\tDisease\tD013276\n",
        encoding="utf-8",
    )
    dictionary = tmp_path / "d.dict"
    result = runner.invoke(
        app,
        ["dict", "compile", str(dictionary), "--source", f"kb={table}", "--kb-id-column", "id",
         "--link-index"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert link_index_path(dictionary).is_file()
    gold = tmp_path / "gold"
    convert = ["data", "convert", str(GOLD / "mini.PubTator.txt"), str(gold), "-f", "pubtator"]
    result = runner.invoke(app, convert)
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["link", "evaluate", str(gold), "--dict", str(dictionary), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["mentions"] == 3
    assert report["accuracy@1"] == 1.0
    assert (report["exact"]["mentions"], report["not_exact"]["mentions"]) == (2, 1)
    assert report["no_gold_id"] == 2
    assert report["threshold"] == 0.45
    result = runner.invoke(app, ["link", "evaluate", str(gold), "--dict", str(dictionary)])
    assert result.exit_code == 0, result.output
    assert "not exact" in result.output and "no gold id: 2" in result.output


def test_cli_link_evaluate_missing_dictionary_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["link", "evaluate", str(tmp_path), "--dict", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "no compiled dictionary here" in result.output
