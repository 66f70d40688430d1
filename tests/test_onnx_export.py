"""``binder export`` and the ONNX runtime path: the same spans as torch, without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from binder_core.contract.errors import ConfigError
from cli.main import app
from tests.conftest import SERVING_LABELS, TINY_CORPUS

pytest.importorskip("onnxruntime")

REPO = Path(__file__).resolve().parents[1]
LONG = " ".join(["Naloxone reversed the effects of morphine in rats."] * 5)  # several windows
TEXTS = [*TINY_CORPUS, "", LONG]
runner = CliRunner()


def _keys(docs: list[list[tuple]]) -> list[list[tuple]]:
    return [[p[:3] for p in doc] for doc in docs]


def test_export_writes_a_self_contained_folder(tiny_export_dir: Path) -> None:
    import numpy as np

    from binder_core.inference.export_dir import is_export_dir, read_export

    names = {p.name for p in tiny_export_dir.iterdir()}
    assert {"model.onnx", "vectors.npz", "tokenizer.json", "binder_export.json", "README.md"} <= (
        names
    )
    assert "model.safetensors" not in names
    meta = read_export(tiny_export_dir)
    assert meta.info.labels == SERVING_LABELS
    assert meta.export.precision == "fp32"
    assert meta.export.max_abs_diff is not None and meta.export.max_abs_diff <= 1e-4
    assert (meta.model.max_span_width_tokens, meta.info.data_config.max_seq_length) == (4, 16)
    with np.load(tiny_export_dir / "vectors.npz", allow_pickle=False) as vectors:
        assert vectors["type_vectors"].shape == (2, 16)
        assert vectors["width_vectors"].shape == (4, 16)
    assert is_export_dir(tiny_export_dir) and not is_export_dir(tiny_export_dir.parent)
    assert "## This export" in (tiny_export_dir / "README.md").read_text()


@pytest.mark.parametrize("decoding", ["flat", "nested"])
def test_onnx_predictions_equal_torch(
    tiny_model_dir: Path, tiny_export_dir: Path, decoding: str
) -> None:
    from binder_core.inference.backends import load_predictor

    torch_side = load_predictor(tiny_model_dir, amp="no")
    onnx_side = load_predictor(tiny_export_dir)
    assert (torch_side.backend, onnx_side.backend) == ("torch", "onnx")
    expected = torch_side.predict_spans(TEXTS, decoding=decoding, batch_size=3)
    got = onnx_side.predict_spans(TEXTS, decoding=decoding, batch_size=5)
    assert sum(len(doc) for doc in expected) > 40  # an untrained model predicts plenty
    assert _keys(got) == _keys(expected)
    for doc_got, doc_expected in zip(got, expected, strict=True):
        for p, q in zip(doc_got, doc_expected, strict=True):
            assert p.score == pytest.approx(q.score, abs=1e-4)
    assert got[len(TINY_CORPUS)] == []  # the empty text


def test_onnx_predictor_tags_a_subset_of_its_labels(tiny_export_dir: Path) -> None:
    from binder_core.inference.backends import load_predictor

    predictor = load_predictor(tiny_export_dir)
    everything = predictor.predict_spans(TINY_CORPUS[:3], decoding="nested")
    diseases = predictor.predict_spans(TINY_CORPUS[:3], decoding="nested", labels=["Disease"])
    expected = [[p for p in doc if p.label == "Disease"] for doc in everything]
    assert _keys(diseases) == _keys(expected)
    for doc_got, doc_expected in zip(diseases, expected, strict=True):
        for p, q in zip(doc_got, doc_expected, strict=True):
            assert p.score == pytest.approx(q.score, abs=1e-5)
    with pytest.raises(ConfigError, match=r"unknown entity type\(s\) \['Gene'\]"):
        predictor.predict(["x"], labels=["Gene"])


def test_backend_choice_must_fit_the_folder(tiny_model_dir: Path, tiny_export_dir: Path) -> None:
    from binder_core.inference.backends import load_predictor, resolve_backend

    assert resolve_backend(tiny_export_dir) == "onnx"
    assert resolve_backend(tiny_model_dir, "torch") == "torch"
    with pytest.raises(ConfigError, match="write one with `binder export"):
        load_predictor(tiny_model_dir, backend="onnx")
    with pytest.raises(ConfigError, match="needs the model folder it was exported from"):
        load_predictor(tiny_export_dir, backend="torch")
    with pytest.raises(ConfigError, match="for torch models"):
        load_predictor(tiny_export_dir, amp="bf16")


def test_onnx_runtime_path_never_imports_torch(tiny_export_dir: Path, tmp_path: Path) -> None:
    """The whole predict path (load, tag, write Parquet) in a fresh interpreter: no torch, no
    transformers in sys.modules afterwards."""
    source = tmp_path / "in.txt"
    source.write_text("\n".join(TINY_CORPUS[:3]) + "\n")
    code = f"""
import sys
from binder_core.inference.backends import load_predictor
from binder_core.inference.predict import predict_file
predictor = load_predictor({str(tiny_export_dir)!r})
list(predict_file(predictor, {str(source)!r}, {str(tmp_path / "out.parquet")!r}))
heavy = sorted(m for m in ("torch", "transformers") if m in sys.modules)
assert not heavy, heavy
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_cli_export_then_predict_and_evaluate_match_torch(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    from binder_core.contract.schema import Origin, document_schema, make_span, write_documents

    export = tmp_path / "export"
    result = runner.invoke(app, ["export", str(tiny_model_dir), str(export), "--format", "onnx"])
    assert result.exit_code == 0, result.output
    assert "fp32" in result.output
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(TEXTS)))
    outputs = {}
    for name, model in (("torch", tiny_model_dir), ("onnx", export)):
        out = tmp_path / f"{name}.jsonl"
        result = runner.invoke(app, ["predict", str(model), str(source), str(out)])
        assert result.exit_code == 0, result.output
        assert f"({name})" in result.output
        outputs[name] = [json.loads(line) for line in out.read_text().splitlines()]
    for a, b in zip(outputs["torch"], outputs["onnx"], strict=True):
        assert [(s["start"], s["end"], s["label"]) for s in a["spans"]] == [
            (s["start"], s["end"], s["label"]) for s in b["spans"]
        ]
        for s, t in zip(a["spans"], b["spans"], strict=True):
            assert s["score"] == pytest.approx(t["score"], abs=1e-4)

    gold = tmp_path / "gold"
    docs = [
        {"doc_id": "g0", "text": TINY_CORPUS[1], "source": "t",
         "spans": [make_span(0, 9, "Chemical", origin=Origin.GOLD)]},
    ]  # fmt: skip
    write_documents(docs, gold / "part.parquet", document_schema(SERVING_LABELS))
    scores = {}
    for name, model in (("torch", tiny_model_dir), ("onnx", export)):
        result = runner.invoke(app, ["evaluate", str(model), str(gold), "--json"])
        assert result.exit_code == 0, result.output
        scores[name] = json.loads(result.stdout)
    assert scores["onnx"]["backend"] == "onnx"
    for key in ("precision", "recall", "f1", "tp", "fp", "fn"):
        assert scores["onnx"].get(key) == scores["torch"].get(key), key


def test_cli_predict_backend_mismatch_is_one_line_error(
    tiny_export_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "in.txt").write_text("aspirin\n")
    result = runner.invoke(
        app,
        ["predict", str(tiny_export_dir), str(tmp_path / "in.txt"), str(tmp_path / "o.jsonl"),
         "--backend", "torch"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1


def test_export_int8_runs_and_says_so(tiny_model_dir: Path, tmp_path: Path) -> None:
    from binder_core.inference.backends import load_predictor
    from binder_core.serving.export import export_onnx
    from binder_core.serving.export_config import ExportConfig

    meta = export_onnx(tiny_model_dir, tmp_path / "int8", ExportConfig(quantize="int8"))
    assert meta.export.precision == "int8"
    predictor = load_predictor(tmp_path / "int8")
    out = predictor.predict(TEXTS, decoding="nested")
    assert len(out) == len(TEXTS) and out[len(TINY_CORPUS)] == []
    assert sum(len(doc) for doc in out) > 0
    for doc, text in zip(out, TEXTS, strict=True):
        for span in doc:
            assert 0 <= span["start"] < span["end"] <= len(text)
