"""collate: padding and the exact masks of the batch contract, on hand-made windows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import torch

from binder_core.data.collate import Collator, collate_inputs
from binder_core.data.collate import collate as collate_batch
from binder_core.data.windows import WindowExample, WindowMeta


def collate(
    examples: Sequence[WindowExample],
    num_labels: int,
    max_span_width_tokens: int = 30,
    pad_token_id: int = 0,
) -> tuple[dict[str, torch.Tensor], list[WindowMeta]]:
    return collate_batch(examples, num_labels, max_span_width_tokens, pad_token_id)


def _rows(rows: list[list[int]], width: int) -> np.ndarray:
    return np.asarray(rows, dtype=np.int64).reshape(-1, width)


def _window(
    n_content: int,
    *,
    gold: Sequence[list[int]] = (),
    uncertain: Sequence[list[int]] = (),
    uncertain_starts: Sequence[list[int]] = (),
    uncertain_ends: Sequence[list[int]] = (),
    candidates: list[bool] | None = None,
    index: int = 0,
) -> WindowExample:
    """CLS=2, content ids 10.., SEP=3; content token i covers characters [2i, 2i + 1)."""
    n = n_content + 2
    offsets = np.zeros((n, 2), dtype=np.int64)
    offsets[1:-1] = [(2 * i, 2 * i + 1) for i in range(n_content)]
    words = np.zeros(n, dtype=np.bool_)
    words[1:-1] = candidates if candidates is not None else True
    return WindowExample(
        input_ids=np.asarray([2, *range(10, 10 + n_content), 3], dtype=np.int64),
        offsets=offsets,
        start_candidates=words.copy(),
        end_candidates=words.copy(),
        gold_spans=_rows(list(gold), 3),
        uncertain_spans=_rows(list(uncertain), 3),
        uncertain_starts=_rows(list(uncertain_starts), 2),
        uncertain_ends=_rows(list(uncertain_ends), 2),
        meta=WindowMeta("d", 0, 2 * n_content, 0, 1, 0, 0, 2 * n_content, index),
    )


def test_collate_pads_to_longest_window() -> None:
    batch, meta = collate(
        [_window(2, index=7), _window(4, index=9)],
        num_labels=1,
        max_span_width_tokens=3,
        pad_token_id=1,
    )
    assert batch["input_ids"].tolist() == [[2, 10, 11, 3, 1, 1], [2, 10, 11, 12, 13, 3]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]]
    assert batch["start_mask"].tolist()[0] == [False, True, True, False, False, False]
    assert batch["offsets"][0].tolist() == [[0, 0], [0, 1], [2, 3], [0, 0], [0, 0], [0, 0]]
    assert batch["window_index"].tolist() == [7, 9]
    assert [m.window_index for m in meta] == [7, 9]
    shapes = {name: tuple(t.shape) for name, t in batch.items()}
    assert shapes == {
        "input_ids": (2, 6), "attention_mask": (2, 6), "start_mask": (2, 6), "end_mask": (2, 6),
        "span_mask": (2, 6, 3), "start_labels": (2, 1, 6), "end_labels": (2, 1, 6),
        "span_labels": (2, 1, 6, 3), "start_uncertain": (2, 1, 6), "end_uncertain": (2, 1, 6),
        "span_uncertain": (2, 1, 6, 3), "offsets": (2, 6, 2), "window_index": (2,),
    }  # fmt: skip
    bools = {k for k, t in batch.items() if t.dtype == torch.bool}
    assert bools == {k for k in shapes if "mask" in k and k != "attention_mask"} | {
        "start_labels", "end_labels", "span_labels",
        "start_uncertain", "end_uncertain", "span_uncertain",
    }  # fmt: skip


def test_collate_span_mask_exact() -> None:
    # content positions 1..3, position 2 is not a word start/end; width limit 2: the band is
    # (L, W) = (5, 2) with span (i, j) at [i, j - i]
    batch, _ = collate([_window(3, candidates=[True, False, True])], 1, max_span_width_tokens=2)
    expected = torch.zeros(5, 2, dtype=torch.bool)
    expected[1, 0] = expected[3, 0] = True  # (1, 1) and (3, 3); (1, 3) has width 3 > 2
    assert torch.equal(batch["span_mask"][0], expected)


def test_collate_span_mask_stops_at_the_window_end() -> None:
    # every content token is a word; cells with i + w >= L (= 4) are never candidates
    batch, _ = collate([_window(2)], 1, max_span_width_tokens=3)
    assert batch["span_mask"][0].nonzero().tolist() == [[1, 0], [1, 1], [2, 0]]


def test_collate_gold_boundaries_are_always_candidates() -> None:
    # gold span (2, 2) is not word-aligned; gold span (1, 4) is wider than the limit of 2, so it
    # has no band cell: not a span positive, but its start and end stay start/end positives
    window = _window(4, gold=[[0, 2, 2], [1, 1, 4]], candidates=[True, False, False, True])
    batch, _ = collate([window], 2, max_span_width_tokens=2)
    assert batch["start_mask"][0].tolist() == [False, True, True, False, True, False]
    assert batch["end_mask"][0].tolist() == [False, True, True, False, True, False]
    cells = batch["span_mask"][0].nonzero().tolist()
    assert cells == [[1, 0], [1, 1], [2, 0], [4, 0]]  # (1,1), (1,2), (2,2), (4,4)
    assert batch["start_labels"][0].nonzero().tolist() == [[0, 2], [1, 1]]
    assert batch["end_labels"][0].nonzero().tolist() == [[0, 2], [1, 4]]
    assert batch["span_labels"][0].nonzero().tolist() == [[0, 2, 0]]


def test_collate_span_labels_sit_at_start_and_width() -> None:
    window = _window(4, gold=[[0, 1, 3], [0, 4, 4]])
    batch, _ = collate([window], 1, max_span_width_tokens=3)
    assert batch["span_labels"][0, 0].nonzero().tolist() == [[1, 2], [4, 0]]


def test_collate_uncertain_never_overrides_gold() -> None:
    # type 0: gold (1, 2); uncertain (1, 1) shares the gold start; uncertain (3, 4) is free
    window = _window(
        4,
        gold=[[0, 1, 2]],
        uncertain=[[0, 1, 1], [0, 3, 4], [0, 1, 2]],
        uncertain_starts=[[0, 1], [0, 3], [1, 4]],
        uncertain_ends=[[0, 1], [0, 4], [0, 2]],
    )
    batch, _ = collate([window, _window(1)], num_labels=2)
    # band cells [b, k, i, w]: (1, 1) -> [1, 0], (3, 4) -> [3, 1]
    assert batch["span_uncertain"].nonzero().tolist() == [[0, 0, 1, 0], [0, 0, 3, 1]]
    assert batch["start_uncertain"].nonzero().tolist() == [[0, 0, 3], [0, 1, 4]]
    assert batch["end_uncertain"].nonzero().tolist() == [[0, 0, 1], [0, 0, 4]]
    for part in ("start", "end", "span"):
        assert not (batch[f"{part}_uncertain"] & batch[f"{part}_labels"]).any()


def test_collate_wide_uncertain_span_has_no_cell() -> None:
    window = _window(4, uncertain=[[0, 1, 4], [0, 2, 3]])
    batch, _ = collate([window], 1, max_span_width_tokens=2)
    assert batch["span_uncertain"].nonzero().tolist() == [[0, 0, 2, 1]]


def test_collate_rejects_label_id_out_of_range() -> None:
    with pytest.raises(ValueError, match="gold_spans: label id outside"):
        collate([_window(2, gold=[[3, 1, 1]])], num_labels=2)
    with pytest.raises(ValueError, match="at least one window"):
        collate([], num_labels=2)
    with pytest.raises(ValueError, match="max_span_width_tokens must be positive"):
        collate([_window(2)], num_labels=2, max_span_width_tokens=0)


def test_collator_binds_options() -> None:
    collator = Collator(num_labels=3, max_span_width_tokens=1, pad_token_id=5)
    batch, _ = collator([_window(1), _window(2)])
    assert batch["input_ids"][0].tolist() == [2, 10, 3, 5]
    assert batch["start_labels"].shape == (2, 3, 4)
    assert batch["span_mask"].shape == (2, 4, 1)
    assert batch["span_mask"][1].nonzero().tolist() == [[1, 0], [2, 0]]


def test_collate_inputs_never_makes_gold_boundaries_candidates() -> None:
    # token 2 is not a word boundary; a gold span (1, 2) makes it an end candidate for training,
    # while inference sees word boundaries only and has no targets at all
    window = _window(3, gold=[[0, 1, 2]], candidates=[True, False, True])
    inputs, _ = collate_inputs([window], max_span_width_tokens=3, pad_token_id=0)
    trained, _ = collate([window], 1, max_span_width_tokens=3)
    assert inputs["end_mask"][0].tolist() == [False, True, False, True, False]
    assert trained["end_mask"][0].tolist() == [False, True, True, True, False]
    assert not inputs["span_mask"][0, 1, 1] and trained["span_mask"][0, 1, 1]
    assert "span_labels" not in inputs and "start_uncertain" not in inputs
    for name in inputs:
        if name not in ("end_mask", "span_mask"):
            assert torch.equal(inputs[name], trained[name]), name


def test_collate_needs_a_label() -> None:
    with pytest.raises(ValueError, match="at least one label"):
        collate([_window(2)], num_labels=0)


def test_collate_pads_to_a_multiple_without_new_candidates() -> None:
    window = _window(3, gold=[[0, 1, 2]])
    plain, _ = collate([window], 1, max_span_width_tokens=3)
    padded, _ = collate_batch([window], 1, 3, 0, pad_to_multiple=8)
    assert plain["input_ids"].shape == (1, 5) and padded["input_ids"].shape == (1, 8)
    assert padded["input_ids"][0].tolist() == [2, 10, 11, 12, 3, 0, 0, 0]
    assert padded["attention_mask"][0].tolist() == [1] * 5 + [0] * 3
    # the same candidates and targets, at the same positions; nothing in the padding
    for name in ("start_mask", "end_mask", "start_labels", "end_labels"):
        assert torch.equal(padded[name][..., :5], plain[name]) and not padded[name][..., 5:].any()
    for name in ("span_mask", "span_labels", "span_uncertain"):
        assert torch.equal(padded[name][..., :5, :], plain[name]), name
        assert not padded[name][..., 5:, :].any(), name
