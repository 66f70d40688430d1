"""Training curves as a PNG: training loss and dev F1 against the optimizer step.

Uses matplotlib's Agg backend (no display needed); the records are the lines of
``metrics.jsonl`` as written by :mod:`binder_core.training.loop`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from binder_core.contract.atomic import atomic_path

logger = logging.getLogger(__name__)


def plot_curves(records: Iterable[Mapping[str, Any]], out: str | os.PathLike[str]) -> Path:
    """Plot ``{"kind": "train", "step", "loss"}`` and ``{"kind": "eval", "step", "f1"}`` records.

    Writes the PNG atomically (temp file, then rename) and returns its path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [(r["step"], r["loss"]) for r in records if r.get("kind") == "train"]
    evals = [(r["step"], r["f1"]) for r in records if r.get("kind") == "eval"]
    out = Path(out)
    fig, (ax_loss, ax_f1) = plt.subplots(1, 2, figsize=(10, 4))
    try:
        if train:
            steps, losses = zip(*train, strict=True)
            ax_loss.plot(steps, losses, color="tab:blue", linewidth=1)
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("training loss")
        ax_loss.set_title("Loss")
        ax_loss.grid(alpha=0.3)
        if evals:
            steps, f1s = zip(*evals, strict=True)
            ax_f1.plot(steps, f1s, color="tab:green", marker="o", markersize=3)
        ax_f1.set_xlabel("step")
        ax_f1.set_ylabel("dev micro F1")
        ax_f1.set_ylim(0.0, 1.0)
        ax_f1.set_title("Dev F1")
        ax_f1.grid(alpha=0.3)
        fig.tight_layout()
        with atomic_path(out, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=100)
    finally:
        plt.close(fig)
    return out


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The records of a ``metrics.jsonl`` (a torn last line from a kill is skipped)."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            logger.warning("%s: skipping a torn line", path)
    return records
