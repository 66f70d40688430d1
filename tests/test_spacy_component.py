"""The spaCy component ``binder_ner``: flat and nested decoding, batching, save and load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from binder_core.contract.errors import ConfigError
from tests.conftest import TINY_CORPUS

spacy = pytest.importorskip("spacy")
import binder_core.serving.spacy_component as component  # noqa: E402  (registers the factory)

REPO = Path(__file__).resolve().parents[1]
TEXTS = TINY_CORPUS[:6]


def _nlp(model: Path, **config: Any) -> Any:
    nlp = spacy.blank("en")
    nlp.add_pipe("binder_ner", config={"model": str(model), **config})
    return nlp


def _expected(model: Path, decoding: str) -> list[list[Any]]:
    from binder_core.inference.backends import load_predictor

    return load_predictor(model).predict_spans(TEXTS, decoding=decoding)


def _aligned(doc: Any, predictions: list[Any]) -> list[tuple[int, int, str]]:
    """Character spans of the predictions after the component's default alignment."""
    spans = [
        doc.char_span(p.start, p.end, label=p.label, alignment_mode="expand") for p in predictions
    ]
    return sorted({(s.start_char, s.end_char, s.label_) for s in spans if s is not None})


def test_factory_is_declared_as_a_spacy_entry_point() -> None:
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    points = config["project"]["entry-points"]["spacy_factories"]
    assert points == {"binder_ner": "binder_core.serving.spacy_component:make_binder_ner"}
    assert "binder_ner" in spacy.blank("en").factory_names


@pytest.mark.parametrize("which", ["torch", "onnx"])
def test_flat_decoding_sets_doc_ents_with_scores(
    which: str, tiny_model_dir: Path, tiny_export_dir: Path
) -> None:
    model = tiny_model_dir if which == "torch" else tiny_export_dir
    nlp = _nlp(model)  # the model's own decoding: flat
    expected = _expected(model, "flat")
    for text, predictions in zip(TEXTS, expected, strict=True):
        doc = nlp(text)
        ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        assert ents  # an untrained model predicts plenty
        # the model's flat spans are word-aligned and do not overlap; a spaCy token may hold
        # several model words (expand), so some spans merge into one entity
        for e in doc.ents:
            assert 0.5 < e._.binder_score < 1.0
            assert e._.binder_concept_id is None
        assert set(ents) <= set(_aligned(doc, predictions))
        assert "binder" not in doc.spans


def test_flat_entity_scores_are_the_model_scores(tiny_model_dir: Path) -> None:
    from binder_core.inference.engine import to_span

    nlp = _nlp(tiny_model_dir, alignment_mode="strict")
    (predictions,) = _expected(tiny_model_dir, "flat")[:1]
    doc = nlp(TEXTS[0])
    scores = {(p.start, p.end, p.label): to_span(p)["score"] for p in predictions}
    assert doc.ents
    for e in doc.ents:
        assert e._.binder_score == pytest.approx(scores[(e.start_char, e.end_char, e.label_)])


def test_nested_decoding_fills_the_span_group(tiny_export_dir: Path) -> None:
    nlp = _nlp(tiny_export_dir, decoding="nested")
    expected = _expected(tiny_export_dir, "nested")
    overlapping = 0
    for text, predictions in zip(TEXTS, expected, strict=True):
        doc = nlp(text)
        group = doc.spans["binder"]
        got = [(s.start_char, s.end_char, s.label_) for s in group]
        assert got == _aligned(doc, predictions)
        assert len(group.attrs["scores"]) == len(group)
        for span, score in zip(group, group.attrs["scores"], strict=True):
            assert span._.binder_score == score
        overlapping += sum(
            1 for a in group for b in group if a is not b and a.start < b.end and b.start < a.end
        )
        assert doc.ents == ()
    assert overlapping > 0  # nested spans, as the flat decoding would never give


def test_same_characters_two_labels_keep_their_own_scores(tiny_export_dir: Path) -> None:
    doc = _nlp(tiny_export_dir, decoding="nested")(TEXTS[1])
    by_chars: dict[tuple[int, int], list[Any]] = {}
    for span in doc.spans["binder"]:
        by_chars.setdefault((span.start_char, span.end_char), []).append(span)
    pairs = [spans for spans in by_chars.values() if len(spans) == 2]
    assert pairs
    for a, b in pairs:
        assert a.label_ != b.label_
    assert any(a._.binder_score != b._.binder_score for a, b in pairs)


def test_existing_entities_win_unless_overwrite(tiny_model_dir: Path) -> None:
    text = TEXTS[1]
    plain = _nlp(tiny_model_dir)(text)
    first = plain.ents[0]

    def ruler_doc(nlp: Any) -> Any:
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(first.start_char, first.end_char, label="RULE")]
        return nlp.get_pipe("binder_ner")(doc)

    kept = ruler_doc(_nlp(tiny_model_dir))
    assert [(e.start_char, e.end_char, e.label_) for e in kept.ents if e.label_ == "RULE"] == [
        (first.start_char, first.end_char, "RULE")
    ]
    assert all(e._.binder_score is None for e in kept.ents if e.label_ == "RULE")
    replaced = ruler_doc(_nlp(tiny_model_dir, overwrite_ents=True))
    assert [e.label_ for e in replaced.ents if e.label_ == "RULE"] == []
    assert [(e.start_char, e.end_char, e.label_) for e in replaced.ents] == [
        (e.start_char, e.end_char, e.label_) for e in plain.ents
    ]


def test_pipe_batches_documents_through_the_model(
    tiny_export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nlp = _nlp(tiny_export_dir, decoding="nested")
    pipe = nlp.get_pipe("binder_ner")
    calls: list[int] = []
    original = pipe.predictor.predict_spans

    def counting(texts: list[str], *args: Any) -> Any:
        calls.append(len(texts))
        return original(texts, *args)

    monkeypatch.setattr(pipe.predictor, "predict_spans", counting)
    one_by_one = [nlp(text) for text in TEXTS]
    assert calls == [1] * len(TEXTS)
    calls.clear()
    batched = list(nlp.pipe(TEXTS, batch_size=4))
    assert calls == [4, 2]
    for a, b in zip(one_by_one, batched, strict=True):
        assert [(s.start, s.end, s.label_) for s in a.spans["binder"]] == [
            (s.start, s.end, s.label_) for s in b.spans["binder"]
        ]


@pytest.mark.parametrize("which", ["torch", "onnx"])
def test_to_disk_and_spacy_load_round_trip(
    which: str, tiny_model_dir: Path, tiny_export_dir: Path, tmp_path: Path
) -> None:
    import shutil

    source = tmp_path / "source_model"
    shutil.copytree(tiny_model_dir if which == "torch" else tiny_export_dir, source)
    nlp = _nlp(source, decoding="nested")
    before = [[(s.start_char, s.end_char, s.label_) for s in d.spans["binder"]]
              for d in nlp.pipe(TEXTS)]  # fmt: skip
    nlp.to_disk(tmp_path / "pipeline")
    shutil.rmtree(source)  # the saved pipeline must not need the original folder
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.pipe_names == ["binder_ner"]
    after = [[(s.start_char, s.end_char, s.label_) for s in d.spans["binder"]]
             for d in loaded.pipe(TEXTS)]  # fmt: skip
    assert after == before
    assert (tmp_path / "pipeline" / "binder_ner" / "model").is_dir()


def test_bad_options_are_config_errors(tiny_model_dir: Path) -> None:
    with pytest.raises(ConfigError, match="alignment_mode must be one of"):
        _nlp(tiny_model_dir, alignment_mode="fuzzy")
    with pytest.raises(ConfigError, match="decoding must be one of"):
        _nlp(tiny_model_dir, decoding="greedy")
    assert component.FACTORY == "binder_ner"


def test_dictionary_links_entities_to_kb_ids(tiny_model_dir: Path, tmp_path: Path) -> None:
    from dictionaries import CompileConfig, Entry, compile_dictionary, save_compiled
    from dictionaries.normalize import normalize_term

    (predictions,) = _expected(tiny_model_dir, "flat")[:1]
    text = TEXTS[0]
    ids = {(normalize_term(text[p.start : p.end]), p.label): f"C{i}" for i, p in
           enumerate(predictions)}  # fmt: skip
    entries = [Entry(key, label, concept, "test") for (key, label), concept in ids.items()]
    dictionary = tmp_path / "names.dict"
    keep_all = CompileConfig(min_length=1, use_stopwords=False, drop_numeric=False)
    save_compiled(compile_dictionary(entries, keep_all), dictionary)
    # the component itself (not through add_pipe), whichever package the entry point names
    nlp = spacy.blank("en")
    linked = component.BinderNER(nlp, "binder_ner", str(tiny_model_dir), alignment_mode="strict",
                                 dictionary=str(dictionary))  # fmt: skip
    doc = linked(nlp.make_doc(text))
    assert doc.ents
    for e in doc.ents:
        # every predicted surface is a name of its own concept: linked exactly
        assert e.kb_id_ == e._.binder_concept_id == ids[normalize_term(e.text), e.label_]
        assert e._.binder_link_score == 1.0
    plain = component.BinderNER(nlp, "binder_ner", str(tiny_model_dir), alignment_mode="strict")(
        nlp.make_doc(text)
    )
    assert {e.kb_id_ for e in plain.ents} == {""}
    assert {e._.binder_link_score for e in plain.ents} == {None}


def test_an_abstained_entity_shows_the_link_score_written_spans_get(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    from binder_core.inference.engine import to_span
    from dictionaries import CompileConfig, Entry, compile_dictionary, load_compiled, save_compiled
    from dictionaries.linking.spans import span_linker

    (predictions,) = _expected(tiny_model_dir, "flat")[:1]
    text = TEXTS[0]
    # one far name per type: every prediction shares little or nothing with the names
    labels = sorted({p.label for p in predictions})
    entries = [Entry(f"{label} zymogen quorum", label, f"C{label}", "t") for label in labels]
    dictionary = tmp_path / "far.dict"
    keep_all = CompileConfig(min_length=1, use_stopwords=False, drop_numeric=False)
    save_compiled(compile_dictionary(entries, keep_all), dictionary)
    nlp = spacy.blank("en")
    linked = component.BinderNER(nlp, "binder_ner", str(tiny_model_dir), alignment_mode="strict",
                                 dictionary=str(dictionary))  # fmt: skip
    doc = linked(nlp.make_doc(text))
    written = span_linker(dictionary, load_compiled(dictionary))(
        text, [to_span(p) for p in predictions]
    )
    link_score = {(s["start"], s["end"], s["label"]): s["link_score"] for s in written}
    assert doc.ents
    for e in doc.ents:
        assert (e.kb_id_, e._.binder_concept_id) == ("", None)  # abstained
        assert e._.binder_link_score == link_score[e.start_char, e.end_char, e.label_]
        assert e._.binder_link_score is not None  # linked, unlike a span never linked
        assert e._.binder_link_score < linked.linker.index.config.threshold
