"""From span scores to character-offset predictions: threshold, merge windows, flat or nested.

A span (i, j) is predicted as type k when its score beats the window's threshold for k (the
score at [CLS], span (0, 0)), it is a candidate in ``span_mask`` and it is at most
``max_span_width_tokens`` wide. A prediction's ``score`` is that margin (always > 0), so scores
from different windows are comparable. Every function returns predictions sorted by
(start, end, label).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import torch
from torch import Tensor


class SpanPrediction(NamedTuple):
    """One predicted entity; ``start``/``end`` are half-open character offsets."""

    start: int
    end: int
    label: str
    score: float


def _sort_key(p: SpanPrediction) -> tuple[int, int, str]:
    return (p.start, p.end, p.label)


def decode_window(
    span_scores: Tensor,
    span_mask: Tensor,
    offsets: Tensor,
    labels: Sequence[str],
    max_span_width_tokens: int = 30,
) -> list[SpanPrediction]:
    """Spans of one window whose score beats that window's threshold for their type.

    span_scores (K, L, L) float; span_mask (L, L) bool candidates; offsets (L, 2) character
    [start, end) per token; ``labels`` the K type names. A token span that maps to an empty
    character range (special tokens) is never predicted. Duplicate character spans keep their
    best score.
    """
    n_types, length, _ = span_scores.shape
    if len(labels) != n_types:
        raise ValueError(f"{len(labels)} labels for {n_types} types of span scores")
    if span_mask.shape != (length, length) or offsets.shape != (length, 2):
        raise ValueError(
            f"span_mask must be (L, L) and offsets (L, 2) for L = {length}; got "
            f"{tuple(span_mask.shape)} and {tuple(offsets.shape)}"
        )
    scores = span_scores.detach().float()
    positions = torch.arange(length, device=scores.device)
    width = positions[None, :] - positions[:, None] + 1  # (L, L): j - i + 1
    allowed = span_mask.bool().to(scores.device) & (width >= 1) & (width <= max_span_width_tokens)
    allowed = allowed & ~((positions[:, None] == 0) & (positions[None, :] == 0))  # not (0, 0)
    margin = scores - scores[:, 0, 0][:, None, None]  # (K, L, L)
    k, i, j = torch.nonzero(allowed[None] & (margin > 0), as_tuple=True)
    offsets = offsets.to(scores.device)
    rows = zip(
        k.tolist(),
        offsets[i, 0].tolist(),
        offsets[j, 1].tolist(),
        margin[k, i, j].tolist(),
        strict=True,
    )
    predictions = [
        SpanPrediction(int(start), int(end), labels[label], float(score))
        for label, start, end, score in rows
        if start < end
    ]
    return merge_windows(predictions)


def decode_batch(
    span_scores: Tensor,
    span_mask: Tensor,
    offsets: Tensor,
    labels: Sequence[str],
    max_span_width_tokens: int = 30,
) -> list[list[SpanPrediction]]:
    """:func:`decode_window` for each window: span_scores (B, K, L, L), span_mask (B, L, L),
    offsets (B, L, 2) -> B lists."""
    return [
        decode_window(span_scores[b], span_mask[b], offsets[b], labels, max_span_width_tokens)
        for b in range(span_scores.size(0))
    ]


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
