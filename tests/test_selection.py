"""Checkpoint selection scores: exact values from hand-made dev metrics."""

from __future__ import annotations

import pytest

from binder_core.contract.errors import ConfigError
from binder_core.training.selection import improves, selection_score

METRICS = {
    "precision": 0.8,
    "recall": 0.5,
    "f1": 0.6153846,
    "heldout": {"support": 10, "found": 4, "recall": 0.4},
}


def test_selection_score_reads_each_signal() -> None:
    assert selection_score(METRICS, "f1") == pytest.approx(0.6153846)
    assert selection_score(METRICS, "recall") == 0.5
    assert selection_score(METRICS, "heldout_recall") == 0.4
    # 2 * 0.8 * 0.4 / (0.8 + 0.4) = 0.64 / 1.2
    assert selection_score(METRICS, "heldout_f1") == pytest.approx(0.5333333)
    assert selection_score({**METRICS, "precision": 0.0, "heldout": {"support": 3,
                            "found": 0, "recall": 0.0}}, "heldout_f1") == 0.0  # fmt: skip


def test_selection_needs_heldout_spans_for_heldout_signals() -> None:
    with pytest.raises(ConfigError, match="needs dev data with held-out concept spans"):
        selection_score({"precision": 1.0, "f1": 1.0}, "heldout_f1")
    with pytest.raises(ConfigError, match="selection must be one of"):
        selection_score(METRICS, "loss")


def test_improves_keeps_the_last_checkpoint_for_last() -> None:
    assert improves(0.5, None, "f1") and improves(0.6, 0.5, "f1")
    assert not improves(0.5, 0.5, "f1")
    assert improves(0.0, 0.9, "last")
