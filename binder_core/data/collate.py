"""Windows to tensors: the model inputs of a batch, and (for training and scoring) its targets.

B windows, L = the batch's longest window, W = the model's span band
(:attr:`binder_core.model.bi_encoder.config.ModelConfig.max_span_width_tokens`), K types.

:func:`collate_inputs` (what inference needs, no label set)::

    input_ids        (B, L)     long  [CLS] content [SEP] [PAD]...
    attention_mask   (B, L)     long
    start_mask       (B, L)     bool  candidate starts (first token of a word)
    end_mask         (B, L)     bool  candidate ends (last token of a word)
    span_mask        (B, L, W)  bool  the span band: [b, i, w] is tokens i..i+w, a candidate when
                                      start_mask[i] & end_mask[i + w] & i + w < L
    offsets          (B, L, 2)  long  document characters [start, end); (0, 0) for special/pad
    window_index     (B,)       long  WindowMeta.window_index

:func:`collate` (training) adds the targets, and makes gold boundaries candidates even where they
are not word-aligned (so every gold span is a candidate; the masks above are then recomputed)::

    start_labels     (B, K, L)  bool  end_labels (B, K, L), span_labels (B, K, L, W): gold
    start_uncertain  (B, K, L)  bool  end_uncertain, span_uncertain (B, K, L, W): not negatives
                                      for type k; never True where the matching labels are True

A gold span wider than W tokens has no cell in the band: it is not a span positive (its start and
end tokens still are start/end positives).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from binder_core.data.batching import band_mask, window_inputs
from binder_core.data.windows import WindowExample, WindowMeta

Batch = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Collator:
    """:func:`collate` with its options bound, for ``DataLoader(collate_fn=...)`` (picklable)."""

    num_labels: int
    max_span_width_tokens: int
    pad_token_id: int
    pad_to_multiple: int = 1

    def __call__(self, examples: Sequence[WindowExample]) -> tuple[Batch, list[WindowMeta]]:
        return collate(
            examples, self.num_labels, self.max_span_width_tokens, self.pad_token_id,
            self.pad_to_multiple,
        )  # fmt: skip


def collate_inputs(
    examples: Sequence[WindowExample],
    max_span_width_tokens: int,
    pad_token_id: int,
    pad_to_multiple: int = 1,
) -> tuple[Batch, list[WindowMeta]]:
    """:func:`binder_core.data.batching.window_inputs` as tensors (the same arrays, not
    copied): pad windows to the longest one, rounded up to a multiple of ``pad_to_multiple``;
    candidates are word boundaries only (no gold involved).

    Returns ``(batch, meta)`` with ``meta[b]`` describing window ``b``.
    """
    arrays = window_inputs(examples, max_span_width_tokens, pad_token_id, pad_to_multiple)
    return {k: torch.from_numpy(v) for k, v in arrays.items()}, [ex.meta for ex in examples]


def collate(
    examples: Sequence[WindowExample],
    num_labels: int,
    max_span_width_tokens: int,
    pad_token_id: int,
    pad_to_multiple: int = 1,
) -> tuple[Batch, list[WindowMeta]]:
    """Inputs plus targets for K = ``num_labels`` types (see the module docstring)."""
    if num_labels < 1:
        raise ValueError(f"collate needs at least one label, got num_labels={num_labels}")
    batch, metas = collate_inputs(examples, max_span_width_tokens, pad_token_id, pad_to_multiple)
    start_mask, end_mask = batch["start_mask"], batch["end_mask"]
    B, L = start_mask.shape
    K, W = num_labels, max_span_width_tokens

    gold = _batch_rows(examples, "gold_spans", 3, K)  # (G, 4): b, k, start, end
    unsure = _batch_rows(examples, "uncertain_spans", 3, K)  # (U, 4)
    unsure_starts = _batch_rows(examples, "uncertain_starts", 2, K)  # (S, 3): b, k, position
    unsure_ends = _batch_rows(examples, "uncertain_ends", 2, K)  # (E, 3)

    start_labels = torch.zeros((B, K, L), dtype=torch.bool)
    end_labels = torch.zeros((B, K, L), dtype=torch.bool)
    span_labels = torch.zeros((B, K, L, W), dtype=torch.bool)
    gb, gk, gs, ge = gold.unbind(1)
    start_labels[gb, gk, gs] = True
    end_labels[gb, gk, ge] = True
    start_mask[gb, gs] = True  # gold boundaries are candidates even when not word-aligned
    end_mask[gb, ge] = True
    narrow = ge - gs < W  # wider gold spans have no cell in the band
    span_labels[gb[narrow], gk[narrow], gs[narrow], (ge - gs)[narrow]] = True
    batch["span_mask"] = torch.from_numpy(band_mask(start_mask.numpy(), end_mask.numpy(), W))

    start_uncertain = torch.zeros((B, K, L), dtype=torch.bool)
    end_uncertain = torch.zeros((B, K, L), dtype=torch.bool)
    span_uncertain = torch.zeros((B, K, L, W), dtype=torch.bool)
    ub, uk, us, ue = unsure.unbind(1)
    unsure_narrow = ue - us < W  # wider ones are not candidates: nothing to exclude
    span_uncertain[
        ub[unsure_narrow], uk[unsure_narrow], us[unsure_narrow], (ue - us)[unsure_narrow]
    ] = True
    start_uncertain[unsure_starts[:, 0], unsure_starts[:, 1], unsure_starts[:, 2]] = True
    end_uncertain[unsure_ends[:, 0], unsure_ends[:, 1], unsure_ends[:, 2]] = True
    # gold wins: a cell that is gold is never uncertain (indexing, not a full (B, K, L, W) pass)
    start_uncertain[gb, gk, gs] = False
    end_uncertain[gb, gk, ge] = False
    span_uncertain[gb[narrow], gk[narrow], gs[narrow], (ge - gs)[narrow]] = False

    batch.update(
        start_labels=start_labels,
        end_labels=end_labels,
        span_labels=span_labels,
        start_uncertain=start_uncertain,
        end_uncertain=end_uncertain,
        span_uncertain=span_uncertain,
    )
    return batch, metas


def _batch_rows(
    examples: Sequence[WindowExample], field: str, width: int, num_labels: int
) -> torch.Tensor:
    """Stack one (m, width) array per window into (sum m, 1 + width), the window index first."""
    parts: list[npt.NDArray[np.int64]] = [np.zeros((0, 1 + width), dtype=np.int64)]
    for b, example in enumerate(examples):
        rows = getattr(example, field)
        if len(rows):
            parts.append(np.column_stack([np.full(len(rows), b, dtype=np.int64), rows]))
    stacked = np.concatenate(parts)
    if len(stacked) and not 0 <= stacked[:, 1].min() <= stacked[:, 1].max() < num_labels:
        raise ValueError(f"{field}: label id outside [0, {num_labels})")
    return torch.tensor(stacked, dtype=torch.long)
