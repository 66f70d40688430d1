"""Tables of experiment 7 (silver recall): one Markdown table per data set.

    python -m benchmarks.silver_recall_table OUT_DIR

reads ``OUT_DIR/rows.tsv`` (``dataset  row  split  run_dir``, in the order to print) and, in
each run folder, ``manifest.json`` (``binder silver build --json``) and ``eval_exclude.json`` /
``eval_include.json`` (``binder silver eval --json --uncertain exclude|include``). P, R and F1
count uncertain spans as no prediction (``--uncertain exclude``); "F1 incl." counts them as
predictions (the ``binder silver eval`` default). The last three columns are the eval report's
``uncertain`` block: gold mentions that no certain span gets right, how many of those an
uncertain span covers exactly (for training they stop being negatives), and uncertain spans
that are not gold (negatives lost). A ``train+dev`` line per row pools the counts.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

COLUMNS = (
    "row", "split", "P", "R", "F1", "F1 incl.", "spans", "uncertain spans",
    "gold missed", "missed covered by uncertain", "uncertain not gold",
)  # fmt: skip


def _load(run: Path) -> dict[str, Any]:
    exclude = json.loads((run / "eval_exclude.json").read_text())
    include = json.loads((run / "eval_include.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    return {
        "tp": exclude["tp"], "fp": exclude["fp"], "fn": exclude["fn"],
        "tp_incl": include["tp"], "fp_incl": include["fp"], "fn_incl": include["fn"],
        "spans": manifest["counts"]["spans"],
        **{f"u_{k}": v for k, v in exclude["uncertain"].items()},
    }  # fmt: skip


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _cells(row: str, split: str, c: dict[str, int]) -> list[str]:
    p, r, f = _f1(c["tp"], c["fp"], c["fn"])
    covered = c["u_gold_missed_covered"]
    share = f" ({covered / c['u_gold_missed']:.1%})" if c["u_gold_missed"] else ""
    return [
        row, split, f"{p:.4f}", f"{r:.4f}", f"**{f:.4f}**" if split == "train+dev" else f"{f:.4f}",
        f"{_f1(c['tp_incl'], c['fp_incl'], c['fn_incl'])[2]:.4f}", f"{c['spans']:,}",
        f"{c['u_spans']:,}", f"{c['u_gold_missed']:,}", f"{covered:,}{share}",
        f"{c['u_spans_not_gold']:,}",
    ]  # fmt: skip


def tables(out_dir: Path) -> str:
    """The Markdown of every data set's table, in rows.tsv order."""
    order: dict[str, dict[str, list[tuple[str, Path]]]] = defaultdict(dict)
    for line in (out_dir / "rows.tsv").read_text().splitlines():
        dataset, row, split, folder = line.split("\t")
        order[dataset].setdefault(row, []).append((split, Path(folder)))
    parts = []
    for dataset, rows in order.items():
        lines = [f"### {dataset}", "", "| " + " | ".join(COLUMNS) + " |",
                 "|" + "---|" * len(COLUMNS)]  # fmt: skip
        for row, runs in rows.items():
            pooled: dict[str, int] = defaultdict(int)
            for split, run in runs:
                counts = _load(run)
                lines.append("| " + " | ".join(_cells(row, split, counts)) + " |")
                for key, value in counts.items():
                    pooled[key] += value
            if len(runs) > 1:
                lines.append("| " + " | ".join(_cells(row, "train+dev", pooled)) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", type=Path)
    args = ap.parse_args(argv)
    text = tables(args.out_dir)
    (args.out_dir / "silver_recall.md").write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
