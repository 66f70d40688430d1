"""``binder train | evaluate | predict`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cli.main import app
from dictionaries import load_compiled
from dictionaries.linking.index_file import linker_for
from tests.test_train_loop import LABELS, one_thread, tiny_documents, write_tiny_data, write_types

__all__ = ["one_thread"]  # the autouse fixture, re-used here

runner = CliRunner()
TRAIN_ARGS = [
    "--max-steps", "60", "--batch-size", "4", "--lr", "3e-3", "--head-lr", "1e-2",
    "--warmup-ratio", "0", "--seed", "7", "--max-seq-length", "32", "--window-overlap", "8",
    "--max-span-width", "8", "--eval-every", "0", "--save-every", "0", "--log-every", "5",
]  # fmt: skip


@pytest.fixture(scope="module")
def trained_run(tiny_bert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained through the CLI once for this module's tests."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("cli_model")
    data = write_tiny_data(root / "data")
    result = runner.invoke(
        app,
        ["train", "--train", str(data), "--dev", str(data), "--out", str(root / "run"),
         "--model", str(tiny_bert), "--types", str(write_types(root / "types.json")),
         *TRAIN_ARGS],
    )  # fmt: skip
    torch.set_num_threads(before)
    assert result.exit_code == 0, result.output
    assert "best dev f1 1.0000 at step 60" in result.output
    return root / "run"


def test_cli_evaluate_json_prints_one_object(trained_run: Path) -> None:
    data = trained_run.parent / "data"
    result = runner.invoke(app, ["evaluate", str(trained_run), str(data), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert (scores["precision"], scores["recall"], scores["f1"]) == (1.0, 1.0, 1.0)
    assert scores["per_label"]["Chemical"]["support"] == 4
    assert scores["per_label"]["Disease"]["support"] == 5
    assert (scores["documents"], scores["decoding"]) == (4, "flat")


def test_cli_evaluate_nested_and_table(trained_run: Path) -> None:
    data = trained_run.parent / "data"
    result = runner.invoke(app, ["evaluate", str(trained_run), str(data), "--decoding", "nested"])
    assert result.exit_code == 0, result.output
    assert "micro" in result.output and "Disease" in result.output


def test_cli_predict_jsonl_to_jsonl(trained_run: Path, tmp_path: Path) -> None:
    docs = tiny_documents()
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"pmid": f"p{i}", "body": d["text"]}) + "\n"
                              for i, d in enumerate(docs)))  # fmt: skip
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["predict", str(trained_run), str(source), str(out),
                                 "--text-field", "body", "--id-field", "pmid"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["doc_id"] for r in rows] == ["p0", "p1", "p2", "p3"]
    got = [[(s["start"], s["end"], s["label"]) for s in r["spans"]] for r in rows]
    assert got == [[(s["start"], s["end"], s["label"]) for s in d["spans"]] for d in docs]


def test_cli_predict_text_to_parquet_uses_the_contract(trained_run: Path, tmp_path: Path) -> None:
    from binder_core.contract.schema import content_doc_id, open_dataset

    texts = [d["text"] for d in tiny_documents()[:2]] + [""]
    source = tmp_path / "in.txt"
    source.write_text("\n".join(texts) + "\n")
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["predict", str(trained_run), str(source), str(out)])
    assert result.exit_code == 0, result.output
    _, meta = open_dataset(out)
    assert meta.labels == LABELS
    rows = pq.read_table(out).to_pylist()
    assert [r["doc_id"] for r in rows] == [content_doc_id(t) for t in texts]
    assert [len(r["spans"]) for r in rows] == [2, 3, 0]
    assert {s["origin"] for r in rows for s in r["spans"]} == {"model"}


def test_cli_train_wrong_schema_is_one_line_error(tiny_bert: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    pq.write_table(pa.table({"text": ["a b"]}), bad / "part-0.parquet")
    result = runner.invoke(app, ["train", "--train", str(bad), "--out", str(tmp_path / "run"),
                                 "--model", str(tiny_bert)])  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "not a binder-ner Parquet file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_train_missing_model_is_one_line_error(tmp_path: Path) -> None:
    data = write_tiny_data(tmp_path / "data")
    result = runner.invoke(app, ["train", "--train", str(data), "--out", str(tmp_path / "run"),
                                 "--model", str(tmp_path / "no_model")])  # fmt: skip
    assert result.exit_code == 2
    assert "pass a local Hugging Face model directory" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_train_unknown_type_is_one_line_error(tiny_bert: Path, tmp_path: Path) -> None:
    data = write_tiny_data(tmp_path / "data")
    result = runner.invoke(app, ["train", "--train", str(data), "--out", str(tmp_path / "run"),
                                 "--model", str(tiny_bert), "--labels", "Gene"])  # fmt: skip
    assert result.exit_code == 2
    assert "unknown entity type(s) ['Gene']" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_evaluate_unknown_type_in_data_is_one_line_error(
    trained_run: Path, tmp_path: Path
) -> None:
    from binder_core.contract.schema import Origin, document_schema, make_span, write_documents

    doc = {"doc_id": "g", "text": "BRCA1 mutations.", "source": "t",
           "spans": [make_span(0, 5, "Gene", origin=Origin.GOLD)]}  # fmt: skip
    write_documents([doc], tmp_path / "gene" / "part.parquet", document_schema(["Gene"]))
    result = runner.invoke(app, ["evaluate", str(trained_run), str(tmp_path / "gene"), "--json"])
    assert result.exit_code == 2
    assert "unknown entity type(s) ['Gene']" in result.stderr


def test_cli_evaluate_missing_run_is_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(tmp_path / "nothing"), str(tmp_path), "--json"])
    assert result.exit_code == 2
    assert "no saved model here" in result.stderr


def test_cli_self_training_round_predict_augment_retrain(trained_run: Path, tmp_path: Path) -> None:
    """predict on the silver set itself, augment it, and train again on the result."""
    from binder_core.contract.schema import iter_documents

    data = trained_run.parent / "data"
    preds = tmp_path / "preds.parquet"
    assert runner.invoke(app, ["predict", str(trained_run), str(data), str(preds)]).exit_code == 0
    augmented = tmp_path / "augmented"
    result = runner.invoke(
        app, ["silver", "augment", str(data), str(preds), str(augmented), "--json"]
    )
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)["counts"]
    assert counts["documents"] == 4
    assert counts["predicted_spans"] == counts["agreed_with_dictionary"] == 9  # learned exactly
    assert counts["spans_written"] == 9
    assert [d["spans"] for d in iter_documents(augmented)] == [
        d["spans"] for d in iter_documents(data)
    ]
    again = runner.invoke(
        app,
        ["train", "--train", str(augmented), "--out", str(tmp_path / "run2"),
         "--model", json.loads((trained_run / "train_config.json").read_text())["model"]["encoder"],
         "--types", str(trained_run.parent / "types.json"),
         "--max-steps", "2", *TRAIN_ARGS[2:]],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "tokens/s" in again.output and "peak memory" in again.output


CONCEPTS = {"Famotidine": "D015738", "delirium": "D003693", "Cisplatin": "D002945",
            "hearing loss": "D034381"}  # fmt: skip


def _linking_dictionary(tmp_path: Path) -> Path:
    """Names for four of the gold concepts; "cisplatinum" and "hearing losses" differ from the
    text, so only the linker grounds the model's "Cisplatin" and "hearing loss"."""
    table = tmp_path / "kb.tsv"
    rows = ["term\tlabel\tid", "famotidine\tChemical\tD015738", "delirium\tDisease\tD003693",
            "cisplatinum\tChemical\tD002945", "hearing losses\tDisease\tD034381"]  # fmt: skip
    table.write_text("\n".join(rows) + "\n")
    out = tmp_path / "kb.dict"
    args = ["dict", "compile", str(out), "--source", f"kb={table}", "--kb-id-column", "id"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def test_cli_evaluate_dictionary_reports_concept_f1_per_system(
    trained_run: Path, tmp_path: Path
) -> None:
    from tests.test_train_loop import write_tiny_data

    docs = tiny_documents()
    for doc in docs:
        for span in doc["spans"]:
            span["concept_id"] = CONCEPTS.get(doc["text"][span["start"] : span["end"]], "")
    gold = write_tiny_data(tmp_path / "gold", docs)
    dictionary = _linking_dictionary(tmp_path)
    args = ["evaluate", str(trained_run), str(gold), "--json", "--dictionary", str(dictionary)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    systems = json.loads(result.stdout)["systems"]
    f1 = {name: round(s["f1"], 4) for name, s in systems.items()}
    # the dictionary finds famotidine and delirium only: precision 1, recall 2/9
    assert f1 == {"model": 1.0, "model_concept": 1.0, "dictionary": 0.3636,
                  "dictionary_concept": 0.3636, "hybrid": 1.0, "hybrid_concept": 1.0}  # fmt: skip
    result = runner.invoke(app, [*args, "--no-link"])
    assert result.exit_code == 0, result.output
    systems = json.loads(result.stdout)["systems"]
    assert "model_concept" not in systems and systems["hybrid"]["f1"] == 1.0


def test_cli_predict_dictionary_links_model_spans(trained_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("Cisplatin induced nephrotoxicity and hearing loss in mice.\n")
    out = tmp_path / "out.jsonl"
    dictionary = _linking_dictionary(tmp_path)
    result = runner.invoke(
        app, ["predict", str(trained_run), str(source), str(out), "--dictionary", str(dictionary)]
    )
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in out.read_text().splitlines()]
    got = [(s["label"], s["concept_id"], s["matched_term"], s["origin"]) for s in row["spans"]]
    assert got == [
        ("Chemical", "D002945", "cisplatinum", "model"),
        ("Disease", "", "", "model"),  # nephrotoxicity: no name near it, abstained
        ("Disease", "D034381", "hearing losses", "model"),
    ]
    # each span's link score is its link's cosine: at least the threshold where it grounded
    linker = linker_for(dictionary, load_compiled(dictionary))
    spans = [(s["start"], s["end"], s["label"]) for s in row["spans"]]
    links = linker.link_in_document(row["text"], spans)
    assert [s["link_score"] for s in row["spans"]] == [link.score for link in links]
    threshold = linker.index.config.threshold
    assert [s["link_score"] >= threshold for s in row["spans"]] == [True, False, True]


def test_cli_evaluate_hybrid_lets_the_model_correct_a_weak_dictionary(
    trained_run: Path, tmp_path: Path
) -> None:
    """The dictionary agrees with the model on one span, cuts two names short ("hearing",
    "Lithium") and adds one false "patients". The model reproduces 1 of 2 Chemical and 0 of 2
    Disease matches (trust log(2/2) = 0 and log(1/3) = -1.1, both raised to the floor 1), so
    each confident prediction wins its overlap: 9 right + "patients" = P 0.9, R 1. Under
    ``--hybrid dictionary`` the two short matches replace the model's right spans: 7 of 10
    right, R 7/9."""
    from dictionaries import Entry, compile_dictionary, save_compiled

    entries = [("aspirin", "Chemical"), ("Lithium", "Chemical"), ("hearing", "Disease"),
               ("patients", "Disease")]  # fmt: skip
    path = tmp_path / "weak.dict"
    save_compiled(compile_dictionary([Entry(t, k, "", "test", "exact") for t, k in entries]), path)
    data = trained_run.parent / "data"
    scores = {}
    for rule in ("trust", "dictionary"):
        args = ["evaluate", str(trained_run), str(data), "--json", "--dictionary", str(path)]
        result = runner.invoke(app, [*args, "--hybrid", rule])
        assert result.exit_code == 0, result.output
        scores[rule] = json.loads(result.stdout)
    trust = scores["trust"]
    assert (trust["precision"], trust["recall"]) == (0.9, 1.0)
    assert trust["hybrid_trust"] == {"Chemical": 1.0, "Disease": 1.0}
    fixed = scores["dictionary"]
    assert (fixed["precision"], fixed["recall"]) == (0.7, pytest.approx(7 / 9))
    assert "hybrid_trust" not in fixed


def test_cli_train_replaces_mentions_from_a_dictionary(tiny_bert: Path, tmp_path: Path) -> None:
    from dictionaries import Entry, compile_dictionary, save_compiled

    path = tmp_path / "chem.dict"
    entries = [Entry(term, "Chemical", "", "t", "exact") for term in ("aspirin", "lithium")]
    save_compiled(compile_dictionary(entries), path)
    data = write_tiny_data(tmp_path / "data")
    types = write_types(tmp_path / "types.json")
    args = ["train", "--train", str(data), "--out", str(tmp_path / "run"), "--model",
            str(tiny_bert), "--types", str(types), *TRAIN_ARGS]  # fmt: skip
    args[args.index("--max-steps") + 1] = "4"
    options = ["--replace-mentions", "0.5", "--mention-dictionary", str(path),
               "--mask-mentions", "0.2", "--encoder-anchor", "1"]  # fmt: skip
    result = runner.invoke(app, [*args, *options])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "run" / "train_config.json").read_text())
    assert (saved["replace_mentions"], saved["mask_mentions"], saved["encoder_anchor"]) == (
        0.5, 0.2, 1.0)  # fmt: skip
    assert saved["mention_dictionary"] == str(path)
    refused = runner.invoke(app, [*args, "--replace-mentions", "1.5"])
    assert refused.exit_code == 2 and "1.5" in refused.output
