"""Predictor API and prediction I/O, on an untrained tiny model (no training needed)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.schema import content_doc_id
from tests.test_train_loop import DESCRIPTIONS, LABELS, one_thread

__all__ = ["one_thread"]


@pytest.fixture(scope="module")
def model_dir(tiny_bert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import AutoTokenizer

    from binder_core.data.config import DataConfig
    from binder_core.model.bi_encoder import BinderModel
    from binder_core.model.config import ModelConfig
    from binder_core.model.model_dir import ModelInfo
    from binder_core.model.saved_model import save_pretrained

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("predict_model") / "model"
    model = BinderModel.from_pretrained_encoder(
        ModelConfig(encoder=str(tiny_bert), projection_dim=16, width_embedding_dim=8,
                    max_span_width_tokens=4)
    )  # fmt: skip
    info = ModelInfo(
        labels=LABELS,
        type_descriptions=DESCRIPTIONS,
        data_config=DataConfig(max_seq_length=16, window_overlap_tokens=4),
    )
    save_pretrained(model, AutoTokenizer.from_pretrained(tiny_bert), info, out)
    return out


def test_predictor_caches_type_vectors(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from binder_core.inference.torch_backend import Predictor

    predictor = Predictor.from_pretrained(model_dir, device="cpu")
    calls: list[int] = []
    original = predictor.model.encode_types

    def counting(*args: Any) -> Any:
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(predictor.model, "encode_types", counting)
    predictor.predict(["Cisplatin induced nephrotoxicity."])
    predictor.predict(["Lithium carbonate can cause diabetes insipidus."], decoding="nested")
    assert len(calls) == 1
    predictor.predict(["aspirin"], labels=["Disease"])
    assert len(calls) == 2


def test_predictor_predict_long_text_and_empty_inputs(model_dir: Path) -> None:
    from binder_core.inference.torch_backend import Predictor

    predictor = Predictor.from_pretrained(model_dir, device="cpu")
    assert predictor.predict([]) == []
    long_text = " ".join(["Naloxone reversed the effects of morphine in rats."] * 6)
    out = predictor.predict(["", long_text], decoding="nested", batch_size=2)
    assert out[0] == []
    for span in out[1]:
        assert 0 <= span["start"] < span["end"] <= len(long_text)
        assert span["label"] in LABELS and span["origin"] == "model"
    assert out[1] == sorted(out[1], key=lambda s: (s["start"], s["end"], s["label"]))


def test_predictor_flat_output_has_no_overlaps(model_dir: Path) -> None:
    from binder_core.inference.torch_backend import Predictor

    text = "Haloperidol-induced dyskinesia was not observed in patients with hypertension."
    spans = Predictor.from_pretrained(model_dir, device="cpu").predict([text], decoding="flat")[0]
    for left, right in itertools.pairwise(spans):
        assert left["end"] <= right["start"]


def test_predictor_rejects_bad_options(model_dir: Path) -> None:
    from binder_core.inference.torch_backend import Predictor

    predictor = Predictor.from_pretrained(model_dir, device="cpu")
    with pytest.raises(ConfigError, match="decoding must be one of"):
        predictor.predict(["x"], decoding="greedy")
    with pytest.raises(ConfigError, match=r"unknown entity type\(s\) \['Gene'\]"):
        predictor.predict(["x"], labels=["Gene"])


def test_from_pretrained_missing_path_is_input_error(tmp_path: Path) -> None:
    from binder_core.inference.torch_backend import Predictor

    with pytest.raises(InputError, match="no saved model here"):
        Predictor.from_pretrained(tmp_path)


def test_read_inputs_text_and_jsonl(tmp_path: Path) -> None:
    from binder_core.inference.predict import InputDocument, read_inputs

    text = tmp_path / "docs.txt"
    text.write_text("first doc\n\nthird doc\n")
    assert list(read_inputs(text)) == [
        InputDocument(content_doc_id("first doc"), "first doc", "docs.txt"),
        InputDocument(content_doc_id(""), "", "docs.txt"),
        InputDocument(content_doc_id("third doc"), "third doc", "docs.txt"),
    ]
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text(json.dumps({"id": 7, "text": "a"}) + "\n" + json.dumps({"text": "b"}) + "\n")
    assert list(read_inputs(jsonl)) == [
        InputDocument("7", "a", "docs.jsonl"),
        InputDocument(content_doc_id("b"), "b", "docs.jsonl"),
    ]


def test_read_inputs_broken_jsonl_names_the_line(tmp_path: Path) -> None:
    from binder_core.inference.predict import read_inputs

    path = tmp_path / "docs.jsonl"
    path.write_text('{"text": "ok"}\n{"text": \n')
    with pytest.raises(InputError, match=r"docs.jsonl:2: not a JSON line"):
        list(read_inputs(path))
    path.write_text('{"body": "ok"}\n')
    with pytest.raises(InputError, match=r"docs.jsonl:1: no string field 'text'"):
        list(read_inputs(path))
    path.write_text('{"text": "ok"}\n{"text": "x \\ud800"}\n')  # JSON's escape of a lone surrogate
    with pytest.raises(InputError, match=r"docs.jsonl:2: field 'text' holds an unpaired surrogate"):
        list(read_inputs(path))


def test_predict_file_rejects_unknown_output_suffix(model_dir: Path, tmp_path: Path) -> None:
    from binder_core.inference.predict import predict_file
    from binder_core.inference.torch_backend import Predictor

    (tmp_path / "in.txt").write_text("aspirin\n")
    with pytest.raises(ConfigError, match=r"output must end in \.jsonl or \.parquet"):
        list(
            predict_file(
                Predictor.from_pretrained(model_dir), tmp_path / "in.txt", tmp_path / "out.csv"
            )
        )
    assert not (tmp_path / "out.csv").exists()


def test_predictor_many_types_give_the_few_types_spans_and_scores(model_dir: Path) -> None:
    import torch

    from binder_core.data.collate import collate_inputs
    from binder_core.data.windows import windows_for_texts
    from binder_core.inference.decoding import decode_batch, merge_windows
    from binder_core.inference.torch_backend import Predictor

    base = Predictor.from_pretrained(model_dir, device="cpu")
    names = [f"T{i}" for i in range(1000)]
    descriptions = {name: f"entity kind {i} of the corpus" for i, name in enumerate(names)}
    predictor = Predictor(
        base.model, base.tokenizer, names, descriptions, base.data_config, base.device
    )
    texts = [
        "Cisplatin induced nephrotoxicity and hearing loss in mice.",
        " ".join(["Naloxone reversed the effects of morphine in rats."] * 3),  # 3 windows
    ]
    few = predictor.predict_spans(texts, decoding="nested", labels=names[:10])
    many = predictor.predict_spans(texts, decoding="nested", batch_size=3)
    subset = [[p for p in doc if p.label in set(names[:10])] for doc in many]
    assert sum(len(doc) for doc in few) > 100  # an untrained model predicts plenty
    assert [[p[:3] for p in doc] for doc in subset] == [[p[:3] for p in doc] for doc in few]
    for doc_few, doc_many in zip(few, subset, strict=True):
        for p, q in zip(doc_few, doc_many, strict=True):
            assert q.score == pytest.approx(p.score, abs=1e-4)

    # The same spans as decoding the model's dense (B, K, L, W) scores.
    windows = windows_for_texts(texts, base.tokenizer, base.data_config)
    batch, metas = collate_inputs(windows, base.model.config.max_span_width_tokens, 0)
    with torch.no_grad():
        scores = base.model(
            batch["input_ids"], batch["attention_mask"], predictor.type_vectors(names[:10])
        )
    dense: list[list[Any]] = [[] for _ in texts]
    per_window = decode_batch(
        scores.span, batch["span_mask"], batch["offsets"], names[:10], max_span_width_tokens=4
    )
    for meta, predictions in zip(metas, per_window, strict=True):
        dense[meta.doc_index].extend(predictions)
    assert [[p[:3] for p in merge_windows(doc)] for doc in dense] == [
        [p[:3] for p in doc] for doc in few
    ]


def test_predictor_min_margin_keeps_only_confident_spans(model_dir: Path) -> None:
    from binder_core.inference.torch_backend import Predictor

    text = ["Cisplatin induced nephrotoxicity and hearing loss in mice."]
    everything = Predictor.from_pretrained(model_dir, device="cpu").predict_spans(
        text, decoding="nested"
    )[0]
    confident = Predictor.from_pretrained(model_dir, device="cpu", min_margin=1.0).predict_spans(
        text, "nested"
    )[0]
    assert confident == [p for p in everything if p.score > 1.0]
    assert 0 < len(confident) < len(everything)
    with pytest.raises(ConfigError, match="min_margin must be >= 0"):
        Predictor.from_pretrained(model_dir, device="cpu", min_margin=-1.0)


def test_candidate_span_vectors_equal_the_models_band(model_dir: Path) -> None:
    """What prediction builds from the span head's terms, cell by cell, is the model's band."""
    import numpy as np
    import torch

    from binder_core.data.batching import window_inputs
    from binder_core.data.windows import windows_for_texts
    from binder_core.inference.decoding import (
        allowed_cells,
        band_cell_vectors,
        decode_batch_parts,
        decode_batch_vectors,
    )
    from binder_core.inference.torch_backend import Predictor

    predictor = Predictor.from_pretrained(model_dir, device="cpu")
    model = predictor.model
    texts = ["Cisplatin induced nephrotoxicity and hearing loss in mice.", "Aspirin."]
    windows = windows_for_texts(texts, predictor.tokenizer, predictor.data_config)
    inputs = window_inputs(windows, 4, 0)
    with torch.no_grad():
        hidden = model.encode_text(
            torch.from_numpy(inputs["input_ids"]), torch.from_numpy(inputs["attention_mask"])
        )
        band = model.span_vectors(hidden).numpy()  # (B, L, W, d)
        starts, ends = (x.numpy() for x in model.span_parts(hidden))
        widths = model.width_vectors().numpy()
    b, i, w = np.argwhere(allowed_cells(inputs["span_mask"], 4)).T
    cells = band_cell_vectors(starts, ends, widths)(b, i, w)
    np.testing.assert_allclose(cells, band[b, i, w], atol=1e-6)
    types = predictor.span_type_matrix(predictor.labels)
    args = (inputs["span_mask"], types, inputs["offsets"], predictor.labels, 4)
    from_parts = decode_batch_parts(starts, ends, widths, *args)
    from_band = decode_batch_vectors(band, *args)
    assert [[p[:3] for p in x] for x in from_parts] == [[p[:3] for p in x] for x in from_band]
    assert sum(len(x) for x in from_parts) > 0
