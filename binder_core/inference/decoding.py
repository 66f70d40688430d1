"""From span scores to character-offset predictions: threshold, merge windows, flat or nested.

Spans live in the band of the model: cell (i, w) of a window is the span of tokens i..j with
j = i + w, w < W = ``max_span_width_tokens``. A span is predicted as type k when its score beats
the window's threshold for k (the score at [CLS], cell (0, 0)) by more than ``min_margin``
(default 0), it is a candidate in ``span_mask`` and it is at most ``max_span_width_tokens`` wide.
A prediction's ``score`` is that margin (always > ``min_margin``), so scores from different
windows are comparable. Every function returns predictions sorted by (start, end, label).

Three entry points give the same predictions: :func:`decode_window` / :func:`decode_batch` take
dense (K, L, W) scores; :func:`decode_batch_vectors` takes span vectors (B, L, W, d) and type
vectors (K, d); :func:`decode_batch_parts` takes the span head's token terms (B, L, d) and width
terms (W, d) and builds the span vectors of the candidate cells only (what prediction runs, on
every backend). The last two score only candidate cells, as (N, d) @ (d, K), so the cost grows
with K only through that product (what prediction with many types needs).

Numpy only, so the torch and the ONNX runtime paths share every line of it. Arguments may be
numpy arrays or CPU/GPU torch tensors (read through :func:`as_array`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from binder_core.contract.errors import ConfigError
from binder_core.contract.options import default_of
from binder_core.model.config import DECODINGS, ModelConfig

MAX_SCORE_CELLS = 1 << 24
"""Upper bound on candidate x type scores held at once by :func:`decode_batch_vectors`
(64 MiB of float32); more candidates are scored in chunks."""

NORM_EPS = 1e-12
"""Floor of a vector's norm in :func:`normalize` (that of ``torch.nn.functional.normalize``)."""

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]

MAX_SPAN_WIDTH_TOKENS: int = default_of(ModelConfig, "max_span_width_tokens")
"""The widest span decoded when a caller gives no band width: the model's own default."""


class SpanPrediction(NamedTuple):
    """One predicted entity; ``start``/``end`` are half-open character offsets."""

    start: int
    end: int
    label: str
    score: float


def _sort_key(p: SpanPrediction) -> tuple[int, int, str]:
    return (p.start, p.end, p.label)


def as_array(x: Any, dtype: Any = None) -> npt.NDArray[Any]:
    """A numpy view of ``x``: an array, or a torch tensor (detached, moved to the CPU, reduced
    precision upcast to float32), duck-typed so this module never imports torch."""
    if hasattr(x, "detach"):
        x = x.detach().cpu()
        if x.is_floating_point():
            x = x.float()
        x = x.numpy()
    return np.asarray(x, dtype=dtype)


def normalize(x: Floats) -> Floats:
    """L2-normalize over the last axis, as ``torch.nn.functional.normalize`` does."""
    norm = np.sqrt(np.einsum("...d,...d->...", x, x))[..., None]
    return x / np.maximum(norm, NORM_EPS)


def allowed_cells(span_mask: Any, max_span_width_tokens: int) -> npt.NDArray[np.bool_]:
    """The band cells that may be predicted: (..., L, W) bool.

    ``span_mask`` (..., L, W) candidates, restricted to i + w < L, w + 1 <= the width limit, and
    never the threshold cell (0, 0).
    """
    mask = as_array(span_mask, np.bool_)
    length, width = mask.shape[-2:]
    positions = np.arange(length)[:, None]
    offsets = np.arange(width)[None, :]
    band = (positions + offsets < length) & (offsets < max_span_width_tokens)  # (L, W)
    band[0, 0] = False
    return mask & band


def _predictions(
    window: Ints,
    start: Ints,
    width: Ints,
    label: Ints,
    margin: Floats,
    offsets: Ints,
    labels: Sequence[str],
    windows: int,
) -> list[list[SpanPrediction]]:
    """Hits (n,) as (window, start token, width offset, type, margin) -> per-window predictions.

    offsets (B, L, 2). A token span that maps to an empty character range (special tokens) is
    never predicted; duplicate character spans in a window keep their best score.
    """
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


def _check_shapes(span_mask: Any, offsets: Any, length: int, width: int) -> None:
    if tuple(span_mask.shape[-2:]) != (length, width) or tuple(offsets.shape[-2:]) != (length, 2):
        raise ValueError(
            f"span_mask must be (L, W) and offsets (L, 2) for L = {length}, W = {width}; got "
            f"{tuple(span_mask.shape)} and {tuple(offsets.shape)}"
        )


def decode_batch(
    span_scores: Any,
    span_mask: Any,
    offsets: Any,
    labels: Sequence[str],
    max_span_width_tokens: int = MAX_SPAN_WIDTH_TOKENS,
    min_margin: float = 0.0,
) -> list[list[SpanPrediction]]:
    """Spans of each window whose score beats that window's threshold for their type.

    span_scores (B, K, L, W) float, [b, k, i, w] for tokens i..i+w; span_mask (B, L, W) bool
    candidates; offsets (B, L, 2) character [start, end) per token; ``labels`` the K type
    names. Returns B lists.
    """
    scores = as_array(span_scores, np.float32)
    windows, n_types, length, width = scores.shape
    if len(labels) != n_types:
        raise ValueError(f"{len(labels)} labels for {n_types} types of span scores")
    _check_shapes(span_mask, offsets, length, width)
    allowed = allowed_cells(span_mask, max_span_width_tokens)  # (B, L, W)
    margin = scores - scores[:, :, :1, :1]  # (B, K, L, W)
    b, k, i, w = np.nonzero(allowed[:, None] & (margin > min_margin))
    return _predictions(
        b, i, w, k, margin[b, k, i, w], as_array(offsets, np.int64), labels, windows
    )


def decode_window(
    span_scores: Any,
    span_mask: Any,
    offsets: Any,
    labels: Sequence[str],
    max_span_width_tokens: int = MAX_SPAN_WIDTH_TOKENS,
    min_margin: float = 0.0,
) -> list[SpanPrediction]:
    """:func:`decode_batch` for one window: span_scores (K, L, W), span_mask (L, W), offsets
    (L, 2)."""
    scores = as_array(span_scores, np.float32)
    if scores.ndim != 3:
        raise ValueError(f"span_scores must be (K, L, W), got {tuple(scores.shape)}")
    _check_shapes(span_mask, offsets, scores.shape[1], scores.shape[2])
    (predictions,) = decode_batch(
        scores[None],
        as_array(span_mask)[None],
        as_array(offsets)[None],
        labels,
        max_span_width_tokens,
        min_margin,
    )
    return predictions


CellVectors = Callable[[Ints, Ints, Ints], Floats]
"""(b, i, w) indices (n,) of band cells -> their span vectors (n, d)."""


def _score_cells(
    cell_vectors: CellVectors,
    allowed: npt.NDArray[np.bool_],
    type_vectors: Floats,
    offsets: Ints,
    labels: Sequence[str],
    min_margin: float,
    max_cells: int,
) -> list[list[SpanPrediction]]:
    """Score the ``allowed`` (B, L, W) cells against ``type_vectors`` (K, d), chunk by chunk.

    Thresholds are the (0, 0) cells' vectors (B, d) @ (d, K); the allowed cells of each window
    are gathered to (n, d) and scored (n, d) @ (d, K), at most ``max_cells`` scores at a time,
    and the window's thresholds are subtracted in place (no (n, K) copy of them).
    """
    windows = allowed.shape[0]
    n_types = type_vectors.shape[0]
    if len(labels) != n_types:
        raise ValueError(f"{len(labels)} labels for {n_types} type vectors")
    types_t = np.ascontiguousarray(type_vectors.T)  # (d, K)
    zeros = np.zeros(windows, dtype=np.int64)
    thresholds = cell_vectors(np.arange(windows), zeros, zeros) @ types_t  # (B, K)
    cells = np.argwhere(allowed)  # (N, 3), row-major order: grouped by window
    bounds = np.searchsorted(cells[:, 0], np.arange(windows + 1))
    chunk = max(1, max_cells // max(n_types, 1))
    hits: list[tuple[Ints, Ints, Ints, Ints, Floats]] = []
    for window in range(windows):
        for first in range(bounds[window], bounds[window + 1], chunk):
            last = min(first + chunk, bounds[window + 1])
            b, i, w = cells[first:last].T
            margin = cell_vectors(b, i, w) @ types_t  # (n, K) scores ...
            margin -= thresholds[window]  # ... minus the window's thresholds
            row, k = np.nonzero(margin > min_margin)
            hits.append((b[row], i[row], w[row], k, margin[row, k]))
    if not hits:
        return [[] for _ in range(windows)]
    b, i, w, k, margin = (np.concatenate(parts) for parts in zip(*hits, strict=True))
    return _predictions(b, i, w, k, margin, offsets, labels, windows)


def decode_batch_vectors(
    span_vectors: Any,
    span_mask: Any,
    type_vectors: Any,
    offsets: Any,
    labels: Sequence[str],
    max_span_width_tokens: int = MAX_SPAN_WIDTH_TOKENS,
    min_margin: float = 0.0,
    max_cells: int = MAX_SCORE_CELLS,
) -> list[list[SpanPrediction]]:
    """The predictions of :func:`decode_batch` for the scores span_vectors . type_vectors,
    computed only for candidate cells.

    span_vectors (B, L, W, d); span_mask (B, L, W) bool; type_vectors (K, d), already scaled by
    exp(alpha); offsets (B, L, 2).
    """
    vectors = as_array(span_vectors, np.float32)
    _, length, width, _ = vectors.shape
    _check_shapes(span_mask, offsets, length, width)
    return _score_cells(
        lambda b, i, w: vectors[b, i, w],
        allowed_cells(span_mask, max_span_width_tokens),
        as_array(type_vectors, np.float32),
        as_array(offsets, np.int64),
        labels,
        min_margin,
        max_cells,
    )


def band_cell_vectors(start_parts: Floats, end_parts: Floats, width_vectors: Floats) -> CellVectors:
    """Span vectors of band cells from the span head's terms, built only for the cells asked.

    ``start_parts`` (B, L, d) = A h_i and ``end_parts`` (B, L, d) = B h_j (the head's weights
    applied to each token state), ``width_vectors`` (W, d) = C width(w) + bias: cell (b, i, w)
    is normalize(start[b, i] + end[b, i + w] + width[w]), summed in the order that
    :meth:`binder_core.model.bi_encoder.BinderModel.span_vectors` sums the full band.
    """

    def cells(b: Ints, i: Ints, w: Ints) -> Floats:
        return normalize(start_parts[b, i] + end_parts[b, i + w] + width_vectors[w])

    return cells


def decode_batch_parts(
    start_parts: Any,
    end_parts: Any,
    width_vectors: Any,
    span_mask: Any,
    type_vectors: Any,
    offsets: Any,
    labels: Sequence[str],
    max_span_width_tokens: int = MAX_SPAN_WIDTH_TOKENS,
    min_margin: float = 0.0,
    max_cells: int = MAX_SCORE_CELLS,
) -> list[list[SpanPrediction]]:
    """The predictions of :func:`decode_batch_vectors` for the band that the span head's terms
    make (:func:`band_cell_vectors`), with only the candidate cells' vectors ever built.

    start_parts, end_parts (B, L, d); width_vectors (W, d); span_mask (B, L, W) bool;
    type_vectors (K, d) scaled by exp(alpha); offsets (B, L, 2).
    """
    starts = as_array(start_parts, np.float32)
    ends = as_array(end_parts, np.float32)
    widths = as_array(width_vectors, np.float32)
    _check_shapes(span_mask, offsets, starts.shape[1], widths.shape[0])
    if ends.shape != starts.shape or widths.shape[1] != starts.shape[2]:
        raise ValueError(
            f"start and end parts must be (B, L, d) and width vectors (W, d); got "
            f"{starts.shape}, {ends.shape} and {widths.shape}"
        )
    return _score_cells(
        band_cell_vectors(starts, ends, widths),
        allowed_cells(span_mask, max_span_width_tokens),
        as_array(type_vectors, np.float32),
        as_array(offsets, np.int64),
        labels,
        min_margin,
        max_cells,
    )


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
