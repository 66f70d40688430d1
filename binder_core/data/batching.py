"""Windows to model inputs as numpy arrays: what every inference backend feeds its encoder.

B windows, L = the batch's longest window (rounded up to ``pad_to_multiple``), W = the model's
span band (:attr:`binder_core.model.bi_encoder.config.ModelConfig.max_span_width_tokens`)::

    input_ids        (B, L)     int64  [CLS] content [SEP] [PAD]...
    attention_mask   (B, L)     int64
    start_mask       (B, L)     bool   candidate starts (first token of a word)
    end_mask         (B, L)     bool   candidate ends (last token of a word)
    span_mask        (B, L, W)  bool   the span band: [b, i, w] is tokens i..i+w, a candidate when
                                       start_mask[i] & end_mask[i + w] & i + w < L
    offsets          (B, L, 2)  int64  document characters [start, end); (0, 0) for special/pad
    window_index     (B,)       int64  WindowMeta.window_index

Torch-free: the ONNX runtime feeds these arrays to onnxruntime, and
:func:`binder_core.data.collate.collate_inputs` wraps the very same arrays as tensors for torch (and
adds the training targets), so the two backends cannot see different inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import numpy.typing as npt

from binder_core.data.windows import WindowExample, WindowMeta

InputArrays = dict[str, npt.NDArray[np.generic]]


def pad_token_id(tokenizer: object) -> int:
    """The id that pads a batch: the tokenizer's pad token, else 0 (it is always masked out)."""
    pad = getattr(tokenizer, "pad_token_id", None)
    return int(pad) if pad is not None else 0


def check_windows(examples: Sequence[WindowExample], max_span_width_tokens: int) -> None:
    if not examples:
        raise ValueError("collate needs at least one window")
    if max_span_width_tokens < 1:
        raise ValueError(f"max_span_width_tokens must be positive, got {max_span_width_tokens}")


def band_mask(
    start_mask: npt.NDArray[np.bool_], end_mask: npt.NDArray[np.bool_], width: int
) -> npt.NDArray[np.bool_]:
    """span_mask (B, L, W) from start/end candidates (B, L)."""
    length = start_mask.shape[1]
    ends = np.arange(length)[:, None] + np.arange(width)[None, :]  # (L, W): i + w
    inside = ends < length
    return start_mask[:, :, None] & end_mask[:, np.minimum(ends, length - 1)] & inside


def window_inputs(
    examples: Sequence[WindowExample],
    max_span_width_tokens: int,
    pad_token_id: int,
    pad_to_multiple: int = 1,
) -> InputArrays:
    """Pad windows to the longest one, rounded up to a multiple of ``pad_to_multiple``;
    candidates are word boundaries only (no gold involved). Arrays as in the module docstring.
    """
    check_windows(examples, max_span_width_tokens)
    longest = max(len(e.input_ids) for e in examples)
    B, L = len(examples), -(-longest // pad_to_multiple) * pad_to_multiple
    input_ids = np.full((B, L), pad_token_id, dtype=np.int64)
    attention_mask = np.zeros((B, L), dtype=np.int64)
    offsets = np.zeros((B, L, 2), dtype=np.int64)
    start_mask = np.zeros((B, L), dtype=np.bool_)
    end_mask = np.zeros((B, L), dtype=np.bool_)
    for b, example in enumerate(examples):
        n = len(example.input_ids)
        input_ids[b, :n] = example.input_ids
        attention_mask[b, :n] = 1
        offsets[b, :n] = example.offsets
        start_mask[b, :n] = example.start_candidates
        end_mask[b, :n] = example.end_candidates
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "start_mask": start_mask,
        "end_mask": end_mask,
        "span_mask": band_mask(start_mask, end_mask, max_span_width_tokens),
        "offsets": offsets,
        "window_index": np.asarray([ex.meta.window_index for ex in examples], dtype=np.int64),
    }


def window_batches(
    windows: Iterable[WindowExample],
    batch_size: int,
    max_span_width_tokens: int,
    pad_id: int,
    pad_to_multiple: int = 1,
) -> Iterator[tuple[InputArrays, list[WindowMeta]]]:
    """Consecutive windows, ``batch_size`` at a time, as model inputs (no targets)."""

    def inputs(chunk: list[WindowExample]) -> tuple[InputArrays, list[WindowMeta]]:
        arrays = window_inputs(chunk, max_span_width_tokens, pad_id, pad_to_multiple)
        return arrays, [w.meta for w in chunk]

    chunk: list[WindowExample] = []
    for window in windows:
        chunk.append(window)
        if len(chunk) == batch_size:
            yield inputs(chunk)
            chunk = []
    if chunk:
        yield inputs(chunk)
