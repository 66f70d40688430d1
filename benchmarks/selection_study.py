"""How well each checkpoint-selection signal tracks gold F1, from the runs' own metrics files.

    python -m benchmarks.selection_study RUN_DIR [RUN_DIR ...] [--gold gold_dev] [--json OUT]

Every dev evaluation of a run (a ``metrics.jsonl`` "eval" record) is one checkpoint. Each run
must have been trained with ``--monitor NAME=GOLD_DEV`` so that the gold dev F1 of every
checkpoint was logged next to the silver dev metrics (gold never selected anything). For each
signal of :mod:`binder_core.training.selection` the script reports the Spearman rank correlation
with gold dev F1 within each run (mean over runs), over all checkpoints pooled, and how much gold F1
each signal's choice loses against the best checkpoint of each run (regret).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from binder_core.contract.errors import ConfigError
from binder_core.training.selection import SELECTIONS, selection_score


def _ranks(values: list[float]) -> list[float]:
    """Average ranks (ties share the mean rank), 1-based."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman's rho of two equal-length lists (None with fewer than 3 points or no spread)."""
    if len(x) != len(y) or len(x) < 3:
        return None
    rx, ry = _ranks(x), _ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    return cov / (vx * vy) ** 0.5 if vx and vy else None


def checkpoints(run: Path, gold: str) -> list[dict[str, Any]]:
    """The eval records of ``run`` that carry the gold monitor."""
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [r for r in records if r.get("kind") == "eval" and gold in r.get("monitor", {})]


def signals(record: dict[str, Any]) -> dict[str, float]:
    out = {}
    for name in SELECTIONS:
        if name == "last":
            out[name] = float(record["step"])
            continue
        try:
            out[name] = selection_score(record, name)
        except ConfigError:
            continue
    return out


def study(runs: list[Path], gold: str) -> dict[str, Any]:
    per_run: dict[str, dict[str, float | None]] = {}
    pooled: dict[str, tuple[list[float], list[float]]] = {}
    regret: dict[str, list[float]] = {}
    for run in runs:
        points = checkpoints(run, gold)
        if not points:
            continue
        golds = [float(p["monitor"][gold]["f1"]) for p in points]
        table = [signals(p) for p in points]
        names = sorted(set.intersection(*(set(t) for t in table)))
        per_run[str(run)] = {}
        for name in names:
            values = [t[name] for t in table]
            per_run[str(run)][name] = spearman(values, golds)
            xs, ys = pooled.setdefault(name, ([], []))
            xs.extend(values)
            ys.extend(golds)
            chosen = max(range(len(values)), key=lambda i: (values[i], points[i]["step"]))
            regret.setdefault(name, []).append(max(golds) - golds[chosen])
    summary = {}
    for name in sorted(pooled):
        within = [v[name] for v in per_run.values() if v.get(name) is not None]
        summary[name] = {
            "mean_within_run_spearman": sum(within) / len(within) if within else None,  # type: ignore[arg-type]
            "pooled_spearman": spearman(*pooled[name]),
            "mean_regret_gold_f1": sum(regret[name]) / len(regret[name]),
            "runs": len(regret[name]),
            "checkpoints": len(pooled[name][0]),
        }
    return {"gold": gold, "signals": summary, "per_run": per_run}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("runs", type=Path, nargs="+")
    ap.add_argument("--gold", default="gold_dev", help="the --monitor name of the gold dev data")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    result = study(args.runs, args.gold)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print("signal\tmean within-run rho\tpooled rho\tmean regret (gold F1)\truns\tcheckpoints")
    for name, s in result["signals"].items():
        within = s["mean_within_run_spearman"]
        pooled = s["pooled_spearman"]
        print(
            f"{name}\t{'-' if within is None else f'{within:.3f}'}\t"
            f"{'-' if pooled is None else f'{pooled:.3f}'}\t{s['mean_regret_gold_f1']:.4f}\t"
            f"{s['runs']}\t{s['checkpoints']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
