"""The selection study: rank correlations and regret from hand-made metrics files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.selection_study import spearman, study


def _run(path: Path, rows: list[tuple[int, float, float, float]]) -> Path:
    """rows: (step, silver precision, silver f1, gold f1)."""
    path.mkdir()
    lines = [{"kind": "train", "step": 1, "loss": 1.0}]
    for step, precision, f1, gold in rows:
        lines.append({"kind": "eval", "step": step, "precision": precision, "recall": f1,
                      "f1": f1, "monitor": {"gold_dev": {"f1": gold}}})  # fmt: skip
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return path


def test_spearman_matches_hand_computed_values() -> None:
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # ranks x = 1 2 3 4, y = 1 3 2 4: d^2 = 0 1 1 0 -> rho = 1 - 6 * 2 / (4 * 15) = 0.8
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert spearman([1, 2], [1, 2]) is None and spearman([1, 1, 1], [1, 2, 3]) is None


def test_study_ranks_signals_by_how_they_track_gold(tmp_path: Path) -> None:
    # silver F1 rises while gold falls (copying the dictionary); precision tracks gold
    a = _run(tmp_path / "a", [(100, 0.9, 0.5, 0.7), (200, 0.8, 0.6, 0.6), (300, 0.7, 0.7, 0.5)])
    result = study([a], "gold_dev")["signals"]
    assert result["f1"]["mean_within_run_spearman"] == pytest.approx(-1.0)
    assert result["precision"]["mean_within_run_spearman"] == pytest.approx(1.0)
    assert result["f1"]["mean_regret_gold_f1"] == pytest.approx(0.2)  # picks step 300
    assert result["precision"]["mean_regret_gold_f1"] == pytest.approx(0.0)
    assert "heldout_f1" not in result  # no held-out spans in these dev sets
