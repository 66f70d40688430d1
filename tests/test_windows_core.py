"""Windows: word splitting, token mapping, sliding windows and span placement."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binder_core.contract.errors import ConfigError, InputError
from binder_core.data.config import DataConfig
from binder_core.data.windows import (
    TokenizedDocument,
    TokenSpan,
    build_window,
    char_spans_to_tokens,
    check_tokenizer,
    count_wide_spans,
    document_token_spans,
    document_windows,
    split_words,
    tokenize_documents,
    trim_offsets,
    window_meta,
    window_ranges,
    windows_for_texts,
)


@pytest.fixture(scope="module")
def bert_tokenizer(tiny_bert: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_bert)


@pytest.fixture(scope="module")
def roberta_tokenizer() -> Any:
    """A tiny byte-level BPE tokenizer with RoBERTa's <s> ... </s> special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True)
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(
        ["Cisplatin induced nephrotoxicity and hearing loss in mice."] * 3, trainer
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        cls_token="<s>",
        sep_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        mask_token="<mask>",
    )


def _toy_document(num_tokens: int) -> TokenizedDocument:
    """Token i is the one-character word at characters [2i, 2i + 1) of "a b c ..."."""
    offsets = np.asarray([(2 * i, 2 * i + 1) for i in range(num_tokens)], dtype=np.int64)
    return TokenizedDocument(
        input_ids=np.arange(100, 100 + num_tokens, dtype=np.int64),
        offsets=offsets.reshape(-1, 2),
        word_start=np.ones(num_tokens, dtype=np.bool_),
        word_end=np.ones(num_tokens, dtype=np.bool_),
    )


# --- config -------------------------------------------------------------------------------------


def test_data_config_defaults_round_trip() -> None:
    config = DataConfig()
    assert config.to_dict() == {
        "max_seq_length": 256,
        "pad_to_multiple": 1,
        "window_overlap_tokens": 64,
        "shuffle_buffer_size": 1000,
        "seed": 42,
        "unknown_labels": "error",
        "uncertain_spans": "exclude",
    }
    assert DataConfig.from_dict(config.to_dict()) == config
    assert (config.content_length, config.stride_tokens) == (254, 190)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_seq_length": 2},
        {"max_seq_length": 10, "window_overlap_tokens": 8},
        {"max_seq_length": 100, "pad_to_multiple": 32},
        {"window_overlap_tokens": -1},
        {"shuffle_buffer_size": 0},
        {"seed": -1},
        {"max_seq_length": True},
        {"unknown_labels": "drop"},
    ],
)
def test_data_config_rejects_bad_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        DataConfig(**kwargs)


def test_data_config_from_dict_rejects_unknown_keys() -> None:
    with pytest.raises(ConfigError, match="unknown option\\(s\\) \\['stride'\\]"):
        DataConfig.from_dict({"stride": 3})
    # the span width lived here in earlier versions; it is the model's now and is dropped
    assert DataConfig.from_dict({"max_span_width_tokens": 30}) == DataConfig()


# --- words and offsets --------------------------------------------------------------------------


def test_split_words_exact() -> None:
    assert split_words("") == []
    assert split_words("Famotidine-associated  delirium (1,3).") == [
        (0, 10), (10, 11), (11, 21), (23, 31), (32, 33), (33, 34), (34, 35), (35, 36),
        (36, 37), (37, 38),
    ]  # fmt: skip
    assert split_words("Straße café") == [(0, 6), (7, 11)]


def test_trim_offsets_drops_leading_and_trailing_space() -> None:
    text = "ab \n cd"
    assert trim_offsets(text, [(0, 2), (2, 5), (2, 7), (4, 4)]).tolist() == [
        [0, 2], [5, 5], [5, 7], [4, 4],
    ]  # fmt: skip


def test_char_spans_to_tokens_exact() -> None:
    # tokens: [0,3) [3,5) empty@5 [6,9) [10,12)
    offsets = np.asarray([[0, 3], [3, 5], [5, 5], [6, 9], [10, 12]], dtype=np.int64)
    starts = np.asarray([0, 4, 5, 6, 9, 0, 9, 12])
    ends = np.asarray([5, 5, 9, 9, 12, 12, 10, 13])
    first, last = char_spans_to_tokens(offsets, starts, ends)
    # [5, 9) starts in the gap before token 3; [9, 10) covers no token; [12, 13) neither.
    assert first.tolist() == [0, 1, 3, 3, 4, 0, -1, -1]
    assert last.tolist() == [1, 1, 3, 3, 4, 4, -1, -1]


def test_char_spans_to_tokens_without_tokens() -> None:
    first, last = char_spans_to_tokens(
        np.zeros((0, 2), dtype=np.int64), np.asarray([0]), np.asarray([1])
    )
    assert (first.tolist(), last.tolist()) == ([-1], [-1])


def test_tokenize_documents_marks_first_and_last_subword(bert_tokenizer: Any) -> None:
    (doc,) = tokenize_documents(["Famotidine-associated delirium"], bert_tokenizer)
    pieces = bert_tokenizer.convert_ids_to_tokens(doc.input_ids.tolist())
    words = {(0, 10), (10, 11), (11, 21), (22, 30)}
    for i, (start, end) in enumerate(doc.offsets.tolist()):
        starts_word = any(ws == start for ws, _ in words) and not pieces[i].startswith("##")
        ends_word = any(we == end for _, we in words) and (
            i + 1 == len(pieces) or not pieces[i + 1].startswith("##")
        )
        assert doc.word_start[i] == starts_word, (i, pieces[i])
        assert doc.word_end[i] == ends_word, (i, pieces[i])
    assert int(doc.word_start.sum()) == 4
    assert tokenize_documents([], bert_tokenizer) == []


def test_check_tokenizer_rejects_slow_tokenizer() -> None:
    class Slow:
        is_fast = False

    with pytest.raises(ConfigError, match="not a fast tokenizer"):
        check_tokenizer(Slow())


# --- windows ------------------------------------------------------------------------------------


def test_window_ranges_exact() -> None:
    config = DataConfig(max_seq_length=6, window_overlap_tokens=2)
    assert window_ranges(0, config) == [(0, 0)]
    assert window_ranges(4, config) == [(0, 4)]
    assert window_ranges(5, config) == [(0, 4), (2, 5)]
    assert window_ranges(10, config) == [(0, 4), (2, 6), (4, 8), (6, 10)]


@settings(max_examples=200, deadline=None)
@given(
    num_tokens=st.integers(0, 3000),
    max_seq_length=st.integers(3, 300),
    overlap_fraction=st.floats(0.0, 0.99),
)
def test_window_ranges_cover_every_token(
    num_tokens: int, max_seq_length: int, overlap_fraction: float
) -> None:
    overlap = int(overlap_fraction * (max_seq_length - 2))
    config = DataConfig(max_seq_length=max_seq_length, window_overlap_tokens=overlap)
    ranges = window_ranges(num_tokens, config)
    covered = np.zeros(num_tokens, dtype=np.int64)
    for start, end in ranges:
        assert 0 <= start <= end <= num_tokens
        assert end - start <= max_seq_length - 2
        covered[start:end] += 1
    assert (covered >= 1).all()
    assert ranges[0][0] == 0 and ranges[-1][1] == num_tokens
    for (s0, e0), (s1, _) in itertools.pairwise(ranges):
        assert s1 > s0 and e0 - s1 == overlap  # consecutive windows share exactly the overlap


def test_build_window_cut_span_is_positive_only_where_whole() -> None:
    doc = _toy_document(10)
    config = DataConfig(max_seq_length=6, window_overlap_tokens=2)
    spans = [TokenSpan(label_id=1, start=3, end=4, uncertain=False)]
    windows = document_windows("d", 0, "a " * 10, doc, spans, config, cls_id=2, sep_id=3)
    assert [w.meta.token_start for w in windows] == [0, 2, 4, 6]
    gold = [w.gold_spans.tolist() for w in windows]
    assert gold == [[], [[1, 2, 3]], [], []]
    # windows that hold only one end: that boundary token is uncertain, not a negative
    assert [w.uncertain_starts.tolist() for w in windows] == [[[1, 4]], [], [], []]
    assert [w.uncertain_ends.tolist() for w in windows] == [[], [], [[1, 1]], []]
    assert all(w.uncertain_spans.tolist() == [] for w in windows)
    first = windows[0]
    assert first.input_ids.tolist() == [2, 100, 101, 102, 103, 3]
    assert first.offsets.tolist() == [[0, 0], [0, 1], [2, 3], [4, 5], [6, 7], [0, 0]]
    assert first.start_candidates.tolist() == [False, True, True, True, True, False]


def test_build_window_uncertain_span_fills_uncertain_rows() -> None:
    doc = _toy_document(4)
    spans = [TokenSpan(0, 0, 1, uncertain=True), TokenSpan(0, 2, 2, uncertain=False)]
    config = DataConfig(max_seq_length=8, window_overlap_tokens=0)
    meta = window_meta("d", 0, "a b c d", doc, [(0, 4)], 0, 0)
    window = build_window(doc, (0, 4), spans, 2, 3, meta)
    assert window.gold_spans.tolist() == [[0, 3, 3]]
    assert window.uncertain_spans.tolist() == [[0, 1, 2]]
    assert window.uncertain_starts.tolist() == [[0, 1]]
    assert window.uncertain_ends.tolist() == [[0, 2]]
    assert window_ranges(4, config) == [(0, 4)]


def test_window_meta_exact() -> None:
    doc = _toy_document(10)
    config = DataConfig(max_seq_length=6, window_overlap_tokens=2)
    windows = document_windows("d7", 3, "a " * 10, doc, [], config, 2, 3, first_window_index=5)
    assert windows[1].meta._asdict() == {
        "doc_id": "d7",
        "doc_index": 3,
        "text_len": 20,
        "window_in_doc": 1,
        "windows_in_doc": 4,
        "token_start": 2,
        "char_start": 4,
        "char_end": 11,
        "window_index": 6,
    }


def test_document_token_spans_checks_labels_and_offsets() -> None:
    doc = _toy_document(3)
    text = "a b c"
    spans = [
        {"start": 2, "end": 5, "label": "Disease", "uncertain": False},
        {"start": 0, "end": 1, "label": "Gene", "uncertain": True},
    ]
    with pytest.raises(InputError, match=r"shard\.parquet: document 'd1': span label 'Gene'"):
        document_token_spans("d1", text, spans, doc, {"Disease": 0}, source="shard.parquet")
    kept = document_token_spans("d1", text, spans, doc, {"Disease": 0}, unknown_labels="ignore")
    assert kept == [TokenSpan(0, 1, 2, False)]
    with pytest.raises(InputError, match="outside its text of length 5"):
        document_token_spans(
            "d1", text, [{"start": 4, "end": 9, "label": "Disease", "uncertain": False}],
            doc, {"Disease": 0},
        )  # fmt: skip


def test_document_token_spans_logs_span_without_tokens(caplog: pytest.LogCaptureFixture) -> None:
    doc = _toy_document(2)  # tokens at [0,1) and [2,3); character 1 is a space
    span = {"start": 1, "end": 2, "label": "X", "uncertain": False}
    assert document_token_spans("d", "a b", [span], doc, {"X": 0}) == []
    assert "covers no token" in caplog.text


def test_windows_for_text_long_document_covers_every_token(bert_tokenizer: Any) -> None:
    from tests.conftest import TINY_CORPUS

    text = " ".join(TINY_CORPUS * 2)
    config = DataConfig(max_seq_length=24, window_overlap_tokens=5)
    (doc,) = tokenize_documents([text], bert_tokenizer)
    windows = windows_for_texts([text], bert_tokenizer, config)
    assert len(windows) > 5
    content: list[int] = []
    for window in windows:
        assert len(window.input_ids) <= 24
        assert window.input_ids[0] == bert_tokenizer.cls_token_id
        assert window.input_ids[-1] == bert_tokenizer.sep_token_id
        start = window.meta.token_start
        content.extend(range(start, start + len(window.input_ids) - 2))
        assert (
            window.input_ids[1:-1].tolist()
            == doc.input_ids[start : start + len(window.input_ids) - 2].tolist()
        )
    assert sorted(set(content)) == list(range(len(doc.input_ids)))
    assert [w.meta.window_index for w in windows] == list(range(len(windows)))


def test_windows_for_texts_numbers_documents_and_windows(bert_tokenizer: Any) -> None:
    config = DataConfig(max_seq_length=8, window_overlap_tokens=2)
    windows = windows_for_texts(["Lithium carbonate can cause diabetes insipidus.", ""],
                                bert_tokenizer, config, doc_ids=["a", "b"])  # fmt: skip
    assert [(w.meta.doc_id, w.meta.window_in_doc) for w in windows][-1] == ("b", 0)
    assert windows[-1].input_ids.tolist() == [
        bert_tokenizer.cls_token_id, bert_tokenizer.sep_token_id,
    ]  # fmt: skip
    assert [w.meta.window_index for w in windows] == list(range(len(windows)))


def test_windows_roberta_style_special_tokens(roberta_tokenizer: Any) -> None:
    text = "Cisplatin  induced\nnephrotoxicity in mice."
    config = DataConfig(max_seq_length=6, window_overlap_tokens=1)
    windows = windows_for_texts([text], roberta_tokenizer, config)
    for window in windows:
        assert window.input_ids[0] == roberta_tokenizer.cls_token_id == 0
        assert window.input_ids[-1] == roberta_tokenizer.sep_token_id == 2
        for (start, end), is_start in zip(
            window.offsets[1:-1].tolist(), window.start_candidates[1:-1], strict=True
        ):
            assert text[start:end] == text[start:end].strip()  # no whitespace in offsets
            if is_start:
                assert start in {s for s, _ in split_words(text)}
    (doc,) = tokenize_documents([text], roberta_tokenizer)
    pieces = roberta_tokenizer.convert_ids_to_tokens(doc.input_ids.tolist())
    assert pieces[:3] == ["Cisplat", "in", "Ġ"]  # "Ġ" is the second space: an empty token
    assert doc.offsets[:4].tolist() == [[0, 7], [7, 9], [10, 10], [11, 15]]
    starts = [
        text[s:e] for (s, e), w in zip(doc.offsets.tolist(), doc.word_start, strict=True) if w
    ]
    ends = [text[s:e] for (s, e), w in zip(doc.offsets.tolist(), doc.word_end, strict=True) if w]
    assert starts == ["Cisplat", "indu", "nep", "in", "mice", "."]
    assert ends == ["in", "ced", "oxicity", "in", "mice", "."]


def test_count_wide_spans_exact() -> None:
    spans = np.asarray([[0, 1, 1], [1, 1, 2], [0, 2, 4], [1, 3, 9]], dtype=np.int64)
    assert count_wide_spans(spans, 2) == 2  # widths 1, 2, 3, 7
    assert count_wide_spans(spans, 7) == 0
    assert count_wide_spans(np.zeros((0, 3), dtype=np.int64), 1) == 0
