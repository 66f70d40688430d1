"""``binder silver predict``: the model inside Beam, locally and on the portable runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from binder_core.contract.schema import iter_documents, open_dataset
from cli.main import app
from tests.conftest import SERVING_LABELS, TINY_CORPUS
from tests.test_cli_silver_build import beam_job_service

__all__ = ["beam_job_service"]  # the fixture, re-used here

runner = CliRunner()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Eight good records, a broken JSON line and an empty text: 10 records, 2 dead letters."""
    lines = [json.dumps({"id": f"d{i}", "text": text}) for i, text in enumerate(TINY_CORPUS[:8])]
    lines.insert(3, '{"id": "broken", "text": ')
    lines.append(json.dumps({"id": "empty", "text": ""}))
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _predict(model: Path, corpus: Path, out: Path, *extra: str) -> dict[str, Any]:
    result = runner.invoke(
        app,
        ["silver", "predict", str(corpus), "--model", str(model), "--out", str(out),
         "--format", "jsonl", "--shards", "2", "--json", *extra],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest: dict[str, Any] = json.loads(result.stdout)
    return manifest


def _spans(out: Path) -> dict[str, list[tuple[int, int, str, float]]]:
    return {
        doc["doc_id"]: [(s["start"], s["end"], s["label"], s["score"]) for s in doc["spans"]]
        for doc in iter_documents(out)
    }


def _expected(model: Path) -> dict[str, list[tuple[int, int, str, float]]]:
    from binder_core.inference.backends import load_predictor

    predicted = load_predictor(model).predict(list(TINY_CORPUS[:8]))
    return {
        f"d{i}": [(s["start"], s["end"], s["label"], s["score"]) for s in spans]
        for i, spans in enumerate(predicted)
    }


def _same(got: dict[str, list[Any]], expected: dict[str, list[Any]]) -> None:
    assert sorted(got) == sorted(expected)
    for doc_id, spans in expected.items():
        assert [s[:3] for s in got[doc_id]] == [s[:3] for s in spans], doc_id
        for a, b in zip(got[doc_id], spans, strict=True):
            assert a[3] == pytest.approx(b[3], abs=1e-4)


@pytest.mark.parametrize("which", ["onnx", "torch"])
def test_silver_predict_local_writes_the_contract_and_counts_add_up(
    which: str, tiny_model_dir: Path, tiny_export_dir: Path, corpus: Path, tmp_path: Path
) -> None:
    model = tiny_export_dir if which == "onnx" else tiny_model_dir
    out = tmp_path / "preds"
    manifest = _predict(model, corpus, out)
    counts = manifest["counts"]
    assert (counts["input_records"], counts["rows"], counts["dead_letters"]) == (10, 8, 2)
    assert counts["balanced"] is True
    assert counts["dead_letters_by_reason"] == {"broken_json": 1, "empty_text": 1}
    assert manifest["model"]["kind"] == which and manifest["labels"] == list(SERVING_LABELS)
    assert sorted(p.name for p in out.glob("*.parquet")) == [
        "part-00000-of-00002.parquet", "part-00001-of-00002.parquet",
    ]  # fmt: skip
    _, meta = open_dataset(out)
    assert meta.labels == SERVING_LABELS
    docs = list(iter_documents(out))
    assert {s["origin"] for d in docs for s in d["spans"]} == {"model"}
    assert counts["spans"] == sum(len(d["spans"]) for d in docs) > 0
    assert counts["spans_by_origin"] == {"model": counts["spans"]}
    _same(_spans(out), _expected(model))
    dead = (out / "_dead_letters" / "dead_letters.jsonl").read_text().splitlines()
    assert len(dead) == 2


def test_silver_predict_output_feeds_silver_augment(
    tiny_export_dir: Path, corpus: Path, tmp_path: Path
) -> None:
    from dictionaries import Entry, compile_dictionary, save_compiled

    dict_file = tmp_path / "tiny.dict"
    entries = [Entry("cisplatin", "Chemical", "C1", "t"), Entry("delirium", "Disease", "D1", "t")]
    save_compiled(compile_dictionary(entries), dict_file)
    silver = tmp_path / "silver"
    built = runner.invoke(
        app,
        ["silver", "build", str(corpus), "--dict", str(dict_file), "--out", str(silver),
         "-f", "jsonl", "--shards", "2", "--json"],
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    preds = tmp_path / "preds"
    manifest = _predict(tiny_export_dir, corpus, preds)
    augmented = tmp_path / "augmented"
    result = runner.invoke(
        app, ["silver", "augment", str(silver), str(preds), str(augmented), "--json"]
    )
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)["counts"]
    assert counts["documents"] == 8
    assert counts["predicted_spans"] == manifest["counts"]["spans"]
    added = [s for d in iter_documents(augmented) for s in d["spans"] if s["origin"] == "model"]
    assert len(added) == counts["added"] + counts["added_uncertain"] > 0


def test_silver_predict_unknown_option_without_runner_is_an_error(
    tiny_export_dir: Path, corpus: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        ["silver", "predict", str(corpus), "--model", str(tiny_export_dir), "--out",
         str(tmp_path / "o"), "--project", "p"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Beam options need --runner" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_silver_predict_submits_a_real_job_on_the_portable_runner(
    beam_job_service: tuple[int, int], tiny_export_dir: Path, corpus: Path, tmp_path: Path
) -> None:
    job_port, pool_port = beam_job_service
    out = tmp_path / "preds"
    manifest = _predict(
        tiny_export_dir, corpus, out,
        "--runner=PortableRunner", f"--job_endpoint=localhost:{job_port}",
        "--environment_type", "EXTERNAL", f"--environment_config=localhost:{pool_port}",
    )  # fmt: skip
    assert "PortableRunner" in manifest["runner"]
    assert manifest["counts"]["balanced"] is True
    assert (manifest["counts"]["rows"], manifest["counts"]["dead_letters"]) == (8, 2)
    _same(_spans(out), _expected(tiny_export_dir))


def test_silver_predict_link_dict_gives_concept_ids(
    tiny_export_dir: Path, corpus: Path, tmp_path: Path
) -> None:
    from binder_core.inference.backends import load_predictor
    from dictionaries import Entry, compile_dictionary, load_compiled, save_compiled
    from dictionaries.linking.spans import span_linker

    dict_file = tmp_path / "names.dict"
    names = ["cisplatin", "delirium", "hearing loss", "aspirin", "gastric ulcer", "lithium"]
    entries = [Entry(name, label, f"{label[:1]}{i}", "t")
               for i, name in enumerate(names) for label in SERVING_LABELS]  # fmt: skip
    save_compiled(compile_dictionary(entries), dict_file)
    out = tmp_path / "preds"
    manifest = _predict(tiny_export_dir, corpus, out, "--link-dict", str(dict_file))
    assert manifest["options"]["link_dictionary"] == str(dict_file)
    link = span_linker(dict_file, load_compiled(dict_file))
    texts = list(TINY_CORPUS[:8])
    predicted = load_predictor(tiny_export_dir).predict(texts)
    fields = ("start", "end", "concept_id", "matched_term", "link_score")

    def stored(span: dict[str, Any]) -> tuple[Any, ...]:  # Parquet keeps a float32 link score
        link_score = pa.scalar(span["link_score"], pa.float32()).as_py()
        return (*(span[f] for f in fields[:-1]), link_score)

    expected = {f"d{i}": [stored(s) for s in link(text, spans)]
                for i, (text, spans) in enumerate(zip(texts, predicted, strict=True))}  # fmt: skip
    got = {d["doc_id"]: [tuple(s[f] for f in fields) for s in d["spans"]]
           for d in iter_documents(out)}  # fmt: skip
    assert got == expected
    assert any(s[2] for spans in got.values() for s in spans)  # some spans got an id
    # abstentions say so: no id, a score below the threshold, above 0 where a name was near
    assert any(not s[2] and s[4] > 0.0 for spans in got.values() for s in spans)


def test_silver_predict_link_dict_is_checked_before_the_run(
    tiny_export_dir: Path, corpus: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        ["silver", "predict", str(corpus), "--model", str(tiny_export_dir), "--out",
         str(tmp_path / "o"), "--format", "jsonl", "--link-dict", str(tmp_path / "none.dict")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "no compiled dictionary here" in result.output
