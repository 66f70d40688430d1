"""Which dev score chooses the best checkpoint: a pure function of the dev metrics.

On gold dev data the answer is its F1. On *silver* dev data F1 rewards copying the dictionary
and penalizes the very entities a good model adds (they count as false positives). A dev set
built with held-out dictionary concepts (``binder dict split``, then ``binder silver build
--heldout-dict``) measures the other side: how many mentions of concepts the training
dictionary never saw the model finds. The choices:

- ``f1``: dev micro F1 (every certain dev span is gold).
- ``heldout_recall``: the share of held-out concept mentions predicted exactly.
- ``heldout_f1``: the harmonic mean of dev precision and held-out recall: finds unseen
  concepts without predicting everything.
- ``recall``, ``precision``: dev micro recall or precision.
- ``last``: no selection; the newest evaluated weights are kept.

BENCHMARKS.md shows how each tracks gold F1 across checkpoints (rank correlation).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from binder_core.contract.errors import ConfigError

Selection = Literal["f1", "heldout_f1", "heldout_recall", "recall", "precision", "last"]
SELECTIONS: tuple[str, ...] = ("f1", "heldout_f1", "heldout_recall", "recall", "precision", "last")
NEEDS_HELDOUT = frozenset({"heldout_f1", "heldout_recall"})


def selection_score(metrics: Mapping[str, Any], select: str) -> float:
    """The score that ``select`` ranks checkpoints by (higher is better; ``last``: 0)."""
    if select not in SELECTIONS:
        raise ConfigError(f"selection must be one of {list(SELECTIONS)}, got {select!r}")
    if select == "last":
        return 0.0
    if select in NEEDS_HELDOUT:
        heldout = metrics.get("heldout")
        if not heldout or not heldout.get("support"):
            raise ConfigError(
                f"--select {select} needs dev data with held-out concept spans (origin "
                "dict_heldout): build it with `binder dict split` and `binder silver build "
                "--heldout-dict`, or choose --select f1"
            )
        recall = float(heldout["recall"])
        if select == "heldout_recall":
            return recall
        precision = float(metrics["precision"])
        return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return float(metrics[select])


def improves(score: float, best: float | None, select: str) -> bool:
    """Whether a checkpoint scoring ``score`` replaces the best one so far."""
    return select == "last" or best is None or score > best
