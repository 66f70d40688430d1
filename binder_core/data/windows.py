"""Documents to token windows: word splitting, one tokenization per document, sliding windows.

Torch-free (numpy only): the CLI can build and check a :class:`DataConfig` without torch, and
the functions here are pure, so they are tested on hand-made documents.

Choices, stated once:

- Words are ``\\w+`` runs or single non-space, non-word characters (:data:`WORD_PATTERN`). A token
  is a candidate start when it is the first token of a word, a candidate end when it is the last.
- Each document is tokenized once (no special tokens), token offsets are trimmed of whitespace,
  and windows of at most ``max_seq_length - 2`` content tokens are cut from it, overlapping by
  ``window_overlap_tokens``. Each window gets the tokenizer's own CLS (position 0) and SEP.
  Together the windows hold every token of the document: nothing is truncated.
- A span (character offsets) maps to the token holding its first non-blank character and the
  token holding its last one. A span is a positive (or an uncertain span) only in windows that
  hold it whole. In a window that holds only part of it, its boundary tokens inside the window
  are marked uncertain for its type (so they are not start/end negatives there), while
  candidate spans that overlap it remain ordinary negatives, as in BINDER's reference code.
- A span labelled :data:`~binder_core.contract.schema.ANY_LABEL` (always uncertain: a broad-lexicon
  match of no known type) becomes one uncertain span per type, so it is a negative for no head
  and no loss. Under ``uncertain_spans = "negative"`` it is dropped like any uncertain span,
  and under ``"positive"`` too: it has no type to be a positive of.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.schema import ANY_LABEL
from binder_core.data.config import DataConfig, UncertainSpans, UnknownLabels
from binder_core.data.tokenization import encode_texts

WORD_PATTERN = re.compile(r"\w+|[^\w\s]")
"""A word: a run of Unicode word characters, or one character that is neither word nor space."""

_LOG = logging.getLogger(__name__)


def split_words(text: str) -> list[tuple[int, int]]:
    """Character spans ``[start, end)`` of the words of ``text`` (see :data:`WORD_PATTERN`)."""
    return [m.span() for m in WORD_PATTERN.finditer(text)]


class TokenizedDocument(NamedTuple):
    """One document, tokenized once without special tokens. n = number of tokens."""

    input_ids: npt.NDArray[np.int64]  # (n,)
    offsets: npt.NDArray[np.int64]  # (n, 2) character [start, end), trimmed of whitespace
    word_start: npt.NDArray[np.bool_]  # (n,) first token of a word
    word_end: npt.NDArray[np.bool_]  # (n,) last token of a word


class TokenSpan(NamedTuple):
    """A labelled span in document token indices, both inclusive."""

    label_id: int
    start: int
    end: int
    uncertain: bool


def check_tokenizer(tokenizer: Any) -> tuple[int, int]:
    """The (cls, sep) token ids; a slow tokenizer or one without them is a ConfigError."""
    if not getattr(tokenizer, "is_fast", False):
        raise ConfigError(
            f"{type(tokenizer).__name__} is not a fast tokenizer; BINDER needs character offsets "
            "(load the tokenizer with AutoTokenizer and a tokenizer.json)"
        )
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    if cls_id is None or sep_id is None:
        raise ConfigError(
            f"{type(tokenizer).__name__} has no CLS/SEP token; use an encoder (BERT, RoBERTa, ...)"
        )
    return int(cls_id), int(sep_id)


def trim_offsets(text: str, offsets: Sequence[tuple[int, int]]) -> npt.NDArray[np.int64]:
    """Shrink each token's ``[start, end)`` so it neither starts nor ends with whitespace.

    Byte-level tokenizers put the preceding space inside the token; a token of spaces only
    becomes empty (start == end) and is never a candidate. Returns (n, 2).
    """
    trimmed = np.zeros((len(offsets), 2), dtype=np.int64)
    for i, (start, end) in enumerate(offsets):
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        trimmed[i] = (start, end)
    return trimmed


def char_spans_to_tokens(
    offsets: npt.NDArray[np.int64], starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Map character spans to inclusive token spans; -1 where a span covers no token.

    The start token holds the span's first covered character, the end token its last one
    (``end - 1``, or the nearest covered character before it). Empty tokens are never used.
    offsets (n, 2), starts (m,), ends (m,) -> token starts (m,), token ends (m,).
    """
    nonempty = np.flatnonzero(offsets[:, 1] > offsets[:, 0])
    if len(nonempty) == 0:
        missing = np.full(len(starts), -1, dtype=np.int64)
        return missing, missing.copy()
    tok_starts, tok_ends = offsets[nonempty, 0], offsets[nonempty, 1]
    # last non-empty token starting at or before the span start; the next one if it ends before
    first = np.searchsorted(tok_starts, starts, side="right") - 1
    first = np.where((first < 0) | (tok_ends[np.maximum(first, 0)] <= starts), first + 1, first)
    # last non-empty token starting before the span end
    last = np.searchsorted(tok_starts, ends, side="left") - 1
    valid = (first <= last) & (first < len(nonempty)) & (last >= 0)
    top = len(nonempty) - 1
    token_start = np.where(valid, nonempty[np.clip(first, 0, top)], -1)
    token_end = np.where(valid, nonempty[np.clip(last, 0, top)], -1)
    return token_start.astype(np.int64), token_end.astype(np.int64)


def tokenize_documents(texts: Sequence[str], tokenizer: Any) -> list[TokenizedDocument]:
    """Tokenize a batch of texts once each (no special tokens, no truncation).

    ``tokenizer``: a Hugging Face fast tokenizer or a
    :class:`binder_core.data.tokenization.TokenizerFile` (the same ids and offsets).
    """
    check_tokenizer(tokenizer)
    docs = []
    for text, (ids, raw_offsets) in zip(texts, encode_texts(tokenizer, texts), strict=True):
        offsets = trim_offsets(text, raw_offsets)
        words = np.asarray(split_words(text), dtype=np.int64).reshape(-1, 2)
        word_first, word_last = char_spans_to_tokens(offsets, words[:, 0], words[:, 1])
        word_start = np.zeros(len(ids), dtype=np.bool_)
        word_end = np.zeros(len(ids), dtype=np.bool_)
        word_start[word_first[word_first >= 0]] = True
        word_end[word_last[word_last >= 0]] = True
        docs.append(
            TokenizedDocument(np.asarray(ids, dtype=np.int64), offsets, word_start, word_end)
        )
    return docs


def window_ranges(num_tokens: int, config: DataConfig) -> list[tuple[int, int]]:
    """Content token ranges ``[start, end)`` of the windows of a document of ``num_tokens``.

    Consecutive windows overlap by ``window_overlap_tokens``; the last one ends at the last
    token. An empty document has one empty window, so every document is seen.
    """
    size, stride = config.content_length, config.stride_tokens
    ranges = [(0, min(size, num_tokens))]
    while ranges[-1][1] < num_tokens:
        start = ranges[-1][0] + stride
        ranges.append((start, min(start + size, num_tokens)))
    return ranges


def document_token_spans(
    doc_id: str,
    text: str,
    spans: Sequence[Mapping[str, Any]],
    tokens: TokenizedDocument,
    label_ids: Mapping[str, int],
    unknown_labels: UnknownLabels = "error",
    source: str | None = None,
    uncertain_spans: UncertainSpans = "exclude",
) -> list[TokenSpan]:
    """Map a document's contract spans to token spans, checking labels and offsets.

    ``uncertain_spans`` says what a span marked uncertain becomes (see :class:`DataConfig`);
    an :data:`ANY_LABEL` span becomes one uncertain span per label in ``label_ids`` order
    (``"exclude"``) or nothing.

    A span with a label outside ``label_ids`` raises :class:`InputError` naming the document,
    unless ``unknown_labels == "ignore"``. A span over characters that no token covers (for
    instance only whitespace) cannot be learned and is skipped with a logged warning.
    """
    kept: list[Mapping[str, Any]] = []
    for span in spans:
        if span["uncertain"] and uncertain_spans == "negative":
            continue
        if span["label"] == ANY_LABEL:
            if not span["uncertain"]:
                raise InputError(
                    f"document {doc_id!r}: span [{span['start']}, {span['end']}) has the label "
                    f"{ANY_LABEL!r} (every type) but is not uncertain; rebuild the data",
                    path=source,
                )
            if uncertain_spans == "positive":
                continue
        elif span["label"] not in label_ids:
            if unknown_labels == "ignore":
                continue
            raise InputError(
                f"document {doc_id!r}: span label {span['label']!r} is not one of the types "
                f"{sorted(label_ids)}; add it to the types or ignore unknown labels",
                path=source,
            )
        if not 0 <= span["start"] < span["end"] <= len(text):
            raise InputError(
                f"document {doc_id!r}: span [{span['start']}, {span['end']}) lies outside its "
                f"text of length {len(text)}; rebuild the data",
                path=source,
            )
        kept.append(span)
    if not kept:
        return []
    starts = np.asarray([s["start"] for s in kept], dtype=np.int64)
    ends = np.asarray([s["end"] for s in kept], dtype=np.int64)
    tok_starts, tok_ends = char_spans_to_tokens(tokens.offsets, starts, ends)
    result: list[TokenSpan] = []
    for span, ts, te in zip(kept, tok_starts.tolist(), tok_ends.tolist(), strict=True):
        if ts < 0:
            _LOG.warning(
                "document %r: span [%d, %d) %r covers no token; it is not used",
                doc_id, span["start"], span["end"], text[span["start"] : span["end"]],
            )  # fmt: skip
            continue
        if span["label"] == ANY_LABEL:
            result.extend(TokenSpan(k, ts, te, True) for k in sorted(label_ids.values()))
            continue
        uncertain = bool(span["uncertain"]) and uncertain_spans == "exclude"
        result.append(TokenSpan(label_ids[span["label"]], ts, te, uncertain))
    return result


class WindowMeta(NamedTuple):
    """What a window is, beyond its tensors: travels next to the batch as a list."""

    doc_id: str
    doc_index: int
    """Row of the document in the stream (its index in the request, for prediction)."""
    text_len: int
    window_in_doc: int
    windows_in_doc: int
    token_start: int
    """Document token index of the window's first content token."""
    char_start: int
    """Characters ``[char_start, char_end)`` of the text lie under the window's content tokens."""
    char_end: int
    window_index: int
    """Unique, deterministic id of the window (see ``ParquetWindowDataset``)."""


class WindowExample(NamedTuple):
    """One window, compact: :func:`binder_core.data.collate` expands it into the batch tensors.

    n = window length (CLS + content + SEP); positions are window positions (CLS is 0).
    """

    input_ids: npt.NDArray[np.int64]  # (n,)
    offsets: npt.NDArray[np.int64]  # (n, 2) document characters; (0, 0) for CLS and SEP
    start_candidates: npt.NDArray[np.bool_]  # (n,) first token of a word inside the window
    end_candidates: npt.NDArray[np.bool_]  # (n,) last token of a word inside the window
    gold_spans: npt.NDArray[np.int64]  # (g, 3) label_id, start, end (inclusive)
    uncertain_spans: npt.NDArray[np.int64]  # (u, 3) label_id, start, end
    uncertain_starts: npt.NDArray[np.int64]  # (a, 2) label_id, position
    uncertain_ends: npt.NDArray[np.int64]  # (c, 2) label_id, position
    meta: WindowMeta


def build_window(
    tokens: TokenizedDocument,
    token_range: tuple[int, int],
    token_spans: Sequence[TokenSpan],
    cls_id: int,
    sep_id: int,
    meta: WindowMeta,
) -> WindowExample:
    """Cut one window ``[a, b)`` out of a tokenized document and place its spans in it.

    A span inside ``[a, b)`` is gold (or uncertain, if marked so). A span that crosses the
    window edge contributes only its inside boundary tokens, as uncertain starts/ends.
    """
    a, b = token_range
    n = b - a + 2
    input_ids = np.concatenate(([cls_id], tokens.input_ids[a:b], [sep_id])).astype(np.int64)
    offsets = np.zeros((n, 2), dtype=np.int64)
    offsets[1:-1] = tokens.offsets[a:b]
    starts = np.zeros(n, dtype=np.bool_)
    ends = np.zeros(n, dtype=np.bool_)
    starts[1:-1] = tokens.word_start[a:b]
    ends[1:-1] = tokens.word_end[a:b]

    table = np.asarray(
        [(s.label_id, s.start, s.end, s.uncertain) for s in token_spans], dtype=np.int64
    ).reshape(-1, 4)
    label, ts, te, unsure = table[:, 0], table[:, 1], table[:, 2], table[:, 3].astype(np.bool_)
    start_in, end_in = (ts >= a) & (ts < b), (te >= a) & (te < b)
    whole = start_in & end_in
    local = np.stack([label, ts - a + 1, te - a + 1], axis=1)  # (m, 3) window positions
    cut_starts = local[start_in & ~end_in][:, [0, 1]]
    cut_ends = local[end_in & ~start_in][:, [0, 2]]
    unsure_whole = local[whole & unsure]
    return WindowExample(
        input_ids=input_ids,
        offsets=offsets,
        start_candidates=starts,
        end_candidates=ends,
        gold_spans=_unique_rows(local[whole & ~unsure]),
        uncertain_spans=_unique_rows(unsure_whole),
        uncertain_starts=_unique_rows(np.concatenate([unsure_whole[:, [0, 1]], cut_starts])),
        uncertain_ends=_unique_rows(np.concatenate([unsure_whole[:, [0, 2]], cut_ends])),
        meta=meta,
    )


def count_wide_spans(spans: npt.NDArray[np.int64], max_span_width_tokens: int) -> int:
    """How many of ``spans`` (m, 3) rows (label_id, start, end inclusive) are wider than
    ``max_span_width_tokens`` tokens, so have no cell in the model's span band."""
    if not len(spans):
        return 0
    return int((spans[:, 2] - spans[:, 1] + 1 > max_span_width_tokens).sum())


def _unique_rows(rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Sorted, de-duplicated rows (same label and position from several spans)."""
    return np.unique(rows, axis=0) if len(rows) else rows


def document_windows(
    doc_id: str,
    doc_index: int,
    text: str,
    tokens: TokenizedDocument,
    token_spans: Sequence[TokenSpan],
    config: DataConfig,
    cls_id: int,
    sep_id: int,
    first_window_index: int = 0,
) -> list[WindowExample]:
    """All windows of one document, numbered from ``first_window_index``."""
    ranges = window_ranges(len(tokens.input_ids), config)
    return [
        build_window(
            tokens,
            token_range,
            token_spans,
            cls_id,
            sep_id,
            window_meta(doc_id, doc_index, text, tokens, ranges, i, first_window_index + i),
        )
        for i, token_range in enumerate(ranges)
    ]


def window_meta(
    doc_id: str,
    doc_index: int,
    text: str,
    tokens: TokenizedDocument,
    ranges: Sequence[tuple[int, int]],
    window_in_doc: int,
    window_index: int,
) -> WindowMeta:
    """The metadata of window ``window_in_doc`` of a document cut into ``ranges``."""
    a, b = ranges[window_in_doc]
    char_start = int(tokens.offsets[a, 0]) if b > a else 0
    char_end = int(tokens.offsets[a:b, 1].max()) if b > a else 0
    return WindowMeta(
        doc_id=doc_id,
        doc_index=doc_index,
        text_len=len(text),
        window_in_doc=window_in_doc,
        windows_in_doc=len(ranges),
        token_start=a,
        char_start=char_start,
        char_end=char_end,
        window_index=window_index,
    )


def windows_for_texts(
    texts: Sequence[str],
    tokenizer: Any,
    config: DataConfig,
    doc_ids: Sequence[str] | None = None,
) -> list[WindowExample]:
    """Windows of raw texts for prediction (no spans); ``window_index`` runs over the request.

    ``doc_ids`` default to the text's position in ``texts`` (as a string).
    """
    cls_id, sep_id = check_tokenizer(tokenizer)
    if doc_ids is not None and len(doc_ids) != len(texts):
        raise ValueError(f"{len(doc_ids)} doc_ids for {len(texts)} texts")
    ids = list(doc_ids) if doc_ids is not None else [str(i) for i in range(len(texts))]
    examples: list[WindowExample] = []
    for index, (text, tokens) in enumerate(
        zip(texts, tokenize_documents(texts, tokenizer), strict=True)
    ):
        examples.extend(
            document_windows(
                ids[index], index, text, tokens, [], config, cls_id, sep_id, len(examples)
            )
        )
    return examples
