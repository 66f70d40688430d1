"""From span scores to character-offset predictions: threshold, merge windows, flat or nested.

Spans live in the band of the model: cell (i, w) of a window is the span of tokens i..j with
j = i + w, w < W = ``max_span_width_tokens``. A span is predicted as type k when its score beats
the window's threshold for k (the score at [CLS], cell (0, 0)) by more than ``min_margin``
(default 0), it is a candidate in ``span_mask`` and it is at most ``max_span_width_tokens`` wide.
A prediction's ``score`` is that margin (always > ``min_margin``), so scores from different
windows are comparable. Every function returns predictions sorted by (start, end, label).

Two entry points give the same predictions: :func:`decode_window` / :func:`decode_batch` take
dense (K, L, W) scores, and :func:`decode_batch_vectors` takes span vectors (B, L, W, d) and
type vectors (K, d) and scores only the candidate cells, as (N, d) @ (d, K), so the cost grows
with K only through that product (what prediction with many types needs).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import torch
from torch import Tensor

from binder_core.config import DECODINGS
from binder_core.errors import ConfigError

MAX_SCORE_CELLS = 1 << 24
"""Upper bound on candidate x type scores held at once by :func:`decode_batch_vectors`
(64 MiB of float32); more candidates are scored in chunks."""


class SpanPrediction(NamedTuple):
    """One predicted entity; ``start``/``end`` are half-open character offsets."""

    start: int
    end: int
    label: str
    score: float


def _sort_key(p: SpanPrediction) -> tuple[int, int, str]:
    return (p.start, p.end, p.label)


def allowed_cells(span_mask: Tensor, max_span_width_tokens: int) -> Tensor:
    """The band cells that may be predicted: (..., L, W) bool.

    ``span_mask`` (..., L, W) candidates, restricted to i + w < L, w + 1 <= the width limit, and
    never the threshold cell (0, 0).
    """
    length, width = span_mask.shape[-2:]
    positions = torch.arange(length, device=span_mask.device)[:, None]
    offsets = torch.arange(width, device=span_mask.device)[None, :]
    band = (positions + offsets < length) & (offsets < max_span_width_tokens)  # (L, W)
    band[0, 0] = False
    return span_mask.bool() & band


def _predictions(
    window: Tensor,
    start: Tensor,
    width: Tensor,
    label: Tensor,
    margin: Tensor,
    offsets: Tensor,
    labels: Sequence[str],
    windows: int,
) -> list[list[SpanPrediction]]:
    """Hits (n,) as (window, start token, width offset, type, margin) -> per-window predictions.

    offsets (B, L, 2). A token span that maps to an empty character range (special tokens) is
    never predicted; duplicate character spans in a window keep their best score.
    """
    offsets = offsets.to(start.device)
    rows = zip(
        window.tolist(),
        label.tolist(),
        offsets[window, start, 0].tolist(),
        offsets[window, start + width, 1].tolist(),
        margin.tolist(),
        strict=True,
    )
    per_window: list[list[SpanPrediction]] = [[] for _ in range(windows)]
    for b, k, char_start, char_end, score in rows:
        if char_start < char_end:
            per_window[b].append(SpanPrediction(int(char_start), int(char_end), labels[k], score))
    return [merge_windows(predictions) for predictions in per_window]


def _check_shapes(span_mask: Tensor, offsets: Tensor, length: int, width: int) -> None:
    if span_mask.shape[-2:] != (length, width) or offsets.shape[-2:] != (length, 2):
        raise ValueError(
            f"span_mask must be (L, W) and offsets (L, 2) for L = {length}, W = {width}; got "
            f"{tuple(span_mask.shape)} and {tuple(offsets.shape)}"
        )


def decode_batch(
    span_scores: Tensor,
    span_mask: Tensor,
    offsets: Tensor,
    labels: Sequence[str],
    max_span_width_tokens: int = 30,
    min_margin: float = 0.0,
) -> list[list[SpanPrediction]]:
    """Spans of each window whose score beats that window's threshold for their type.

    span_scores (B, K, L, W) float, [b, k, i, w] for tokens i..i+w; span_mask (B, L, W) bool
    candidates; offsets (B, L, 2) character [start, end) per token; ``labels`` the K type
    names. Returns B lists.
    """
    windows, n_types, length, width = span_scores.shape
    if len(labels) != n_types:
        raise ValueError(f"{len(labels)} labels for {n_types} types of span scores")
    _check_shapes(span_mask, offsets, length, width)
    scores = span_scores.detach().float()
    allowed = allowed_cells(span_mask.to(scores.device), max_span_width_tokens)  # (B, L, W)
    margin = scores - scores[:, :, :1, :1]  # (B, K, L, W)
    b, k, i, w = torch.nonzero(allowed[:, None] & (margin > min_margin), as_tuple=True)
    return _predictions(b, i, w, k, margin[b, k, i, w], offsets, labels, windows)


def decode_window(
    span_scores: Tensor,
    span_mask: Tensor,
    offsets: Tensor,
    labels: Sequence[str],
    max_span_width_tokens: int = 30,
    min_margin: float = 0.0,
) -> list[SpanPrediction]:
    """:func:`decode_batch` for one window: span_scores (K, L, W), span_mask (L, W), offsets
    (L, 2)."""
    if span_scores.dim() != 3:
        raise ValueError(f"span_scores must be (K, L, W), got {tuple(span_scores.shape)}")
    _check_shapes(span_mask, offsets, span_scores.size(1), span_scores.size(2))
    (predictions,) = decode_batch(
        span_scores[None], span_mask[None], offsets[None], labels, max_span_width_tokens, min_margin
    )
    return predictions


def decode_batch_vectors(
    span_vectors: Tensor,
    span_mask: Tensor,
    type_vectors: Tensor,
    offsets: Tensor,
    labels: Sequence[str],
    max_span_width_tokens: int = 30,
    min_margin: float = 0.0,
    max_cells: int = MAX_SCORE_CELLS,
) -> list[list[SpanPrediction]]:
    """The predictions of :func:`decode_batch` for the scores span_vectors . type_vectors,
    computed only for candidate cells.

    span_vectors (B, L, W, d); span_mask (B, L, W) bool; type_vectors (K, d), already scaled by
    exp(alpha); offsets (B, L, 2). Thresholds are (B, d) @ (d, K); the N allowed cells are
    gathered to (N, d) and scored (N, d) @ (d, K), at most ``max_cells`` scores at a time.
    """
    windows, length, width, _ = span_vectors.shape
    n_types = type_vectors.size(0)
    if len(labels) != n_types:
        raise ValueError(f"{len(labels)} labels for {n_types} type vectors")
    _check_shapes(span_mask, offsets, length, width)
    vectors = span_vectors.detach().float()
    types_t = type_vectors.detach().float().t()  # (d, K)
    thresholds = vectors[:, 0, 0] @ types_t  # (B, K)
    cells = allowed_cells(span_mask.to(vectors.device), max_span_width_tokens).nonzero()  # (N, 3)
    chunk = max(1, max_cells // max(n_types, 1))
    hits: list[tuple[Tensor, ...]] = []
    for first in range(0, len(cells), chunk):
        b, i, w = cells[first : first + chunk].unbind(1)
        margin = vectors[b, i, w] @ types_t - thresholds[b]  # (n, K)
        row, k = torch.nonzero(margin > min_margin, as_tuple=True)
        hits.append((b[row], i[row], w[row], k, margin[row, k]))
    if not hits:
        return [[] for _ in range(windows)]
    b, i, w, k, margin = (torch.cat(parts) for parts in zip(*hits, strict=True))
    return _predictions(b, i, w, k, margin, offsets, labels, windows)


def merge_windows(predictions: Iterable[SpanPrediction]) -> list[SpanPrediction]:
    """Union over overlapping windows of one document, keeping the best score per
    (start, end, label)."""
    best: dict[tuple[int, int, str], SpanPrediction] = {}
    for p in predictions:
        key = _sort_key(p)
        if key not in best or p.score > best[key].score:
            best[key] = p
    return [best[key] for key in sorted(best)]


def decode_flat(predictions: Iterable[SpanPrediction]) -> list[SpanPrediction]:
    """Greedy flat decoding: highest score first, keep a span only if it overlaps no kept span.

    One type per span follows, since the same span under another label overlaps it. Ties are
    broken by (start, end, label) so the result is deterministic.
    """
    ordered = sorted(predictions, key=lambda p: (-p.score, p.start, p.end, p.label))
    kept_starts: list[int] = []
    kept: list[SpanPrediction] = []  # non-overlapping, sorted by start (hence by end too)
    for p in ordered:
        index = bisect.bisect_right(kept_starts, p.start)
        if index > 0 and kept[index - 1].end > p.start:
            continue
        if index < len(kept) and kept[index].start < p.end:
            continue
        kept_starts.insert(index, p.start)
        kept.insert(index, p)
    return sorted(kept, key=_sort_key)


def decode_nested(predictions: Iterable[SpanPrediction]) -> list[SpanPrediction]:
    """Nested decoding keeps every predicted span (duplicates merged, best score kept)."""
    return merge_windows(predictions)


def decode_document(predictions: Iterable[SpanPrediction], decoding: str) -> list[SpanPrediction]:
    """One document's predictions (from all its windows), merged and decoded as ``decoding``
    says: ``flat`` (:func:`decode_flat`) or ``nested`` (:func:`decode_nested`)."""
    merged = merge_windows(predictions)
    if decoding == "flat":
        return decode_flat(merged)
    if decoding == "nested":
        return decode_nested(merged)
    raise ConfigError(f"decoding must be one of {list(DECODINGS)}, got {decoding!r}")
