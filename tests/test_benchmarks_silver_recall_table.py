"""The experiment-7 table: rows from run folders, pooled train+dev counts."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.silver_recall_table import tables


def _run(path: Path, tp: int, fp: int, fn: int, spans: int, covered: int) -> Path:
    path.mkdir(parents=True)
    unsure = {"gold_missed": fn, "gold_missed_covered": covered, "spans": 4, "spans_not_gold": 3}
    for policy in ("exclude", "include"):
        report = {"tp": tp, "fp": fp + (policy == "include"), "fn": fn, "uncertain": unsure}
        (path / f"eval_{policy}.json").write_text(json.dumps(report))
    (path / "manifest.json").write_text(json.dumps({"counts": {"spans": spans}}))
    return path


def test_tables_one_line_per_split_and_a_pooled_line(tmp_path: Path) -> None:
    train = _run(tmp_path / "a" / "train", tp=8, fp=2, fn=2, spans=10, covered=1)
    dev = _run(tmp_path / "a" / "dev", tp=2, fp=0, fn=8, spans=2, covered=0)
    (tmp_path / "rows.tsv").write_text(f"D\tbase\ttrain\t{train}\nD\tbase\tdev\t{dev}\n")
    lines = tables(tmp_path).splitlines()
    assert lines[0] == "### D"
    assert (
        lines[4]
        == "| base | train | 0.8000 | 0.8000 | 0.8000 | 0.7619 | 10 | 4 | 2 | 1 (50.0%) | 3 |"
    )
    assert (
        lines[5] == "| base | dev | 1.0000 | 0.2000 | 0.3333 | 0.3077 | 2 | 4 | 8 | 0 (0.0%) | 3 |"
    )
    # pooled: tp 10, fp 2, fn 10 -> P 0.8333, R 0.5, F1 0.625
    assert lines[6].startswith("| base | train+dev | 0.8333 | 0.5000 | **0.6250** |")
    assert lines[6].endswith("| 12 | 8 | 10 | 1 (10.0%) | 6 |")
