"""The encoders users bring: each family trained, saved, reloaded, exported and run in spaCy.

One tiny random encoder per family (:mod:`tests.encoder_families`: BERT, RoBERTa, DeBERTa-v2,
ELECTRA, XLM-R and, where transformers has it, ModernBERT), each with a tokenizer of its own
kind. Every family overfits the same five documents, whose offsets tell the tokenizers apart
(leading spaces, "'s", a two-byte first character, two spaces inside a mention), and must then
predict exactly their mentions: after a reload, from its ONNX export and in the spaCy component.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from binder_core.data.config import DataConfig
from binder_core.model.config import ModelConfig
from tests.encoder_families import FAMILY_DOCS, available_families, build_tiny_encoder
from tests.test_train_loop import (
    gold_spans,
    one_thread,
    run_to_end,
    tiny_config,
    tiny_documents,
    write_tiny_data,
)

__all__ = ["one_thread"]  # the autouse fixture, re-used here

DOCS = tiny_documents(FAMILY_DOCS)
TEXTS = [d["text"] for d in DOCS]
GOLD = gold_spans(DOCS)
STEPS = 60
DATA = DataConfig(max_seq_length=32, window_overlap_tokens=8)
"""Windows of 30 content tokens: the longer documents are cut in two for most tokenizers."""


def _model_config(encoder: Path, **overrides: Any) -> ModelConfig:
    values: dict[str, Any] = dict(
        encoder=str(encoder), projection_dim=32, width_embedding_dim=16,
        max_span_width_tokens=16, dropout=0.0,
    )  # fmt: skip
    return ModelConfig(**{**values, **overrides})


def _keys(docs: list[list[Any]]) -> list[list[tuple[int, int, str]]]:
    return [[(p.start, p.end, p.label) for p in doc] for doc in docs]


@dataclass(frozen=True)
class Trained:
    """A family's run: its folder, the step losses, the final dev scores, the model in memory."""

    run: Path
    losses: list[float]
    dev: dict[str, Any]
    model: Any


@pytest.fixture(scope="module", params=available_families())
def family(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def encoder(family: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_encoder(family, tmp_path_factory.mktemp(f"encoder-{family}"))


@pytest.fixture(scope="module")
def trained(family: str, encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    import torch

    root = tmp_path_factory.mktemp(f"train-{family}")
    write_tiny_data(root / "data", DOCS)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        events = run_to_end(
            tiny_config(encoder, root, model=_model_config(encoder), max_steps=STEPS, data=DATA)
        )
    finally:
        torch.set_num_threads(before)
    losses = [e.loss for e in events if e.kind == "step"]
    evals = [e.metrics for e in events if e.kind == "eval"]
    return Trained(root / "run", losses, evals[-1], events[-1].model)


@pytest.fixture(scope="module")
def exported(trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained model exported with the tracing exporter (seconds, where dynamo takes tens
    of seconds; each family's dynamo export is checked by a slow test)."""
    pytest.importorskip("onnxruntime")
    from binder_core.serving.export import ExportConfig, export_onnx

    out = tmp_path_factory.mktemp("export") / "export"
    export_onnx(trained.run, out, ExportConfig(exporter="torchscript"))
    return out


def test_family_encoder_passes_the_encoder_check(family: str, encoder: Path) -> None:
    from transformers import AutoTokenizer

    from binder_core.model.encoders import TESTED_FAMILIES, check_encoder, load_encoder_config

    config = load_encoder_config(str(encoder))
    assert config.model_type == family and family in TESTED_FAMILIES
    check_encoder(str(encoder), config, AutoTokenizer.from_pretrained(encoder), DATA)


def test_family_windows_are_framed_as_the_tokenizer_frames_a_text(encoder: Path) -> None:
    """A one-window text gets exactly the ids the tokenizer's own template gives it."""
    from transformers import AutoTokenizer

    from binder_core.data.windows import windows_for_texts

    tokenizer = AutoTokenizer.from_pretrained(encoder)
    short = ["Cisplatin induced nephrotoxicity.", "a disease or disorder"]
    windows = windows_for_texts(short, tokenizer, DataConfig(max_seq_length=128))
    assert [w.input_ids.tolist() for w in windows] == tokenizer(short)["input_ids"]


def test_family_mentions_map_to_whole_tokens(encoder: Path) -> None:
    """Each gold mention starts at the first character of a word-start token and ends at the
    last character of a word-end token (trimmed of the spaces that byte-level BPE and
    Metaspace tokens carry), so the model can learn it and give back its exact offsets."""
    import numpy as np
    from transformers import AutoTokenizer

    from binder_core.data.windows import char_spans_to_tokens, tokenize_documents

    tokenizer = AutoTokenizer.from_pretrained(encoder)
    for doc, tokens in zip(DOCS, tokenize_documents(TEXTS, tokenizer), strict=True):
        starts = np.asarray([s["start"] for s in doc["spans"]])
        ends = np.asarray([s["end"] for s in doc["spans"]])
        first, last = char_spans_to_tokens(tokens.offsets, starts, ends)
        assert tokens.offsets[first, 0].tolist() == starts.tolist()
        assert tokens.offsets[last, 1].tolist() == ends.tolist()
        assert tokens.word_start[first].all() and tokens.word_end[last].all()
        text = doc["text"]
        for start, end in tokens.offsets.tolist():
            assert text[start:end] == text[start:end].strip()


def test_family_trains_saves_reloads_and_predicts_its_mentions(trained: Trained) -> None:
    import torch

    from binder_core.inference.backends import load_predictor
    from binder_core.inference.torch_backend import Predictor
    from binder_core.model.model_dir import read_model_meta

    assert len(trained.losses) == STEPS
    assert trained.losses[-1] < 0.1 * trained.losses[0]
    assert (trained.dev["precision"], trained.dev["recall"]) == (1.0, 1.0)
    _, info = read_model_meta(trained.run / "best")
    reloaded = load_predictor(trained.run, amp="no")
    in_memory = Predictor(
        trained.model.eval(), reloaded.tokenizer, info.labels, info.type_descriptions,
        info.data_config, torch.device("cpu"), amp_dtype=None, decoding=info.decoding,
    )  # fmt: skip
    expected = in_memory.predict_spans(TEXTS)
    got = reloaded.predict_spans(TEXTS)
    assert _keys(got) == _keys(expected) == GOLD
    for doc_got, doc_expected in zip(got, expected, strict=True):
        for p, q in zip(doc_got, doc_expected, strict=True):
            assert p.score == pytest.approx(q.score, abs=1e-5)


def _assert_onnx_matches_torch(run: Path, export: Path) -> None:
    from binder_core.inference.backends import load_predictor
    from binder_core.inference.export_dir import read_export

    diff = read_export(export).export.max_abs_diff
    assert diff is not None and diff <= 1e-4
    torch_side, onnx_side = load_predictor(run, amp="no"), load_predictor(export)
    assert onnx_side.backend == "onnx"
    for decoding in ("flat", "nested"):
        expected = torch_side.predict_spans(TEXTS, decoding=decoding)
        got = onnx_side.predict_spans(TEXTS, decoding=decoding, batch_size=2)
        assert _keys(got) == _keys(expected)
        for doc_got, doc_expected in zip(got, expected, strict=True):
            for p, q in zip(doc_got, doc_expected, strict=True):
                assert p.score == pytest.approx(q.score, abs=1e-4)
    assert _keys(onnx_side.predict_spans(TEXTS, decoding="flat")) == GOLD


def test_family_onnx_export_predicts_as_torch(trained: Trained, exported: Path) -> None:
    _assert_onnx_matches_torch(trained.run, exported)


@pytest.mark.slow
@pytest.mark.parametrize(
    # BERT's dynamo export is tested in test_onnx_export.py
    "family",
    [f for f in available_families() if f != "bert"],
    indirect=True,
)
def test_family_dynamo_export_predicts_as_torch(
    family: str, trained: Trained, tmp_path: Path
) -> None:
    """torch's default exporter (``torch.export``) on each family's graph."""
    pytest.importorskip("onnxscript")
    from binder_core.serving.export import export_onnx

    export_onnx(trained.run, tmp_path / "export")
    _assert_onnx_matches_torch(trained.run, tmp_path / "export")


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_family_spacy_component_sets_the_mentions(
    trained: Trained, exported: Path, backend: str
) -> None:
    spacy = pytest.importorskip("spacy")
    import binder_core.serving.spacy_component  # noqa: F401  (registers the factory)

    nlp = spacy.blank("en")
    model = trained.run / "best" if backend == "torch" else exported
    nlp.add_pipe("binder_ner", config={"model": str(model), "alignment_mode": "strict"})
    docs = list(nlp.pipe(TEXTS, batch_size=2))
    assert [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs] == GOLD
    assert all(0.5 < e._.binder_score < 1.0 for doc in docs for e in doc.ents)


def test_family_gradient_checkpointing_keeps_the_losses(
    family: str, encoder: Path, tmp_path: Path
) -> None:
    """Checkpointing (what large encoders on a GPU need) recomputes, never changes, a step."""
    write_tiny_data(tmp_path / "data", DOCS)
    losses = {}
    for checkpointing in (False, True):
        config = tiny_config(
            encoder, tmp_path, out_dir=str(tmp_path / f"run-{checkpointing}"), max_steps=2,
            dev_dir=None, data=DATA, amp="no",
            model=_model_config(encoder, gradient_checkpointing=checkpointing),
        )  # fmt: skip
        losses[checkpointing] = [e.loss for e in run_to_end(config) if e.kind == "step"]
    assert losses[True] == pytest.approx(losses[False], rel=1e-5)
    assert len(losses[True]) == 2
