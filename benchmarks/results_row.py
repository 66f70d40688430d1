"""One tab-separated results row for an experiment run, from the files the CLI wrote.

    python -m benchmarks.results_row NAME RUN_DIR TEST_JSON [--dictionary DICT_JSON]
        [--hybrid HYBRID_JSON]

Prints: name, the dictionary's own F1 (when given), test P, R, micro F1, F1 per type, nested
recall (when the gold has nesting), the hybrid's P/R/F1 (when given), training seconds,
tokens/s, peak memory (from the ``summary`` record of ``RUN_DIR/metrics.jsonl``), best dev step
and what selected it, and the git commit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any


def summary_record(run_dir: Path) -> dict[str, Any]:
    records = [
        json.loads(line)
        for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    summaries = [r for r in records if r.get("kind") == "summary"]
    return summaries[-1] if summaries else {}


def git_commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return out.stdout.strip() or "unknown"


def row(
    name: str,
    run_dir: Path,
    test: dict[str, Any],
    dictionary: dict[str, Any] | None,
    hybrid: dict[str, Any] | None = None,
) -> str:
    s = summary_record(run_dir)
    fields = [name]
    if dictionary is not None:
        fields.append(f"dict_F1={dictionary['f1']:.4f}")
    fields += [f"P={test['precision']:.4f}", f"R={test['recall']:.4f}", f"F1={test['f1']:.4f}"]
    fields.append(" ".join(f"{k}={v['f1']:.4f}" for k, v in test["per_label"].items()))
    if "nested" in test:
        n = test["nested"]
        fields.append(f"nested_recall={n['recall']:.4f} ({n['found']}/{n['support']})")
    if hybrid is not None:
        fields.append(
            f"hybrid P={hybrid['precision']:.4f} R={hybrid['recall']:.4f} F1={hybrid['f1']:.4f}"
        )
    fields += [
        f"train={s.get('train_seconds', '?')}s",
        f"{s.get('tokens_per_second', '?')} tok/s",
        f"peak={s.get('peak_rss_mb', '?')}MB",
        f"best_step={s.get('best_step', '?')}/{s.get('step', '?')}"
        + (f" by {s['selected_by']}" if s.get("selected_by") else ""),
        git_commit(),
    ]
    return "\t".join(str(f) for f in fields)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("name")
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("test_json", type=Path)
    ap.add_argument("--dictionary", type=Path, help="`binder silver eval --json` of the dictionary")
    ap.add_argument("--hybrid", type=Path, help="`binder evaluate --dictionary D --json`")
    args = ap.parse_args(argv)
    test = json.loads(args.test_json.read_text(encoding="utf-8"))
    dictionary = json.loads(args.dictionary.read_text()) if args.dictionary else None
    hybrid = json.loads(args.hybrid.read_text()) if args.hybrid else None
    print(row(args.name, args.run_dir, test, dictionary, hybrid))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
