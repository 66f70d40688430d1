"""One command, several source trees, run in turn: paired end-to-end timings on a noisy machine.

Run from the repository root::

    python -m benchmarks.paired_trees --trees A B [C ...] --rounds 6 --json OUT -- \\
        silver build corpus.jsonl --dict mesh.dict --out {out} --format jsonl --workers 1

Each tree is a checkout (or a copy of the packages) put first on ``PYTHONPATH`` for its runs;
``{out}`` in the command becomes a fresh folder per run. Round ``r`` runs every tree once, the
order rotated by ``r`` so that no tree always runs first or last, and each tree's time is
divided by the first tree's in the same round: on a shared machine whose speed drifts by tens of
percent within minutes, only such ratios mean anything. Wall and CPU seconds (the whole process
tree) are reported as medians of the per-round ratios, with their range.

What the command prints goes to ``--work-dir``; nothing is compared here (the tests compare the
outputs of the code paths, and ``tests/test_silver_golden.py`` pins the rows).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def binder_command() -> list[str]:
    """The ``binder`` console script of this environment (``python -m cli.main`` if absent)."""
    script = Path(sys.executable).with_name("binder")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "cli.main"]


def rotated(names: Sequence[str], round_index: int) -> list[str]:
    """``names`` starting at ``round_index`` (modulo their number), wrapping around."""
    k = round_index % len(names)
    return [*names[k:], *names[:k]]


def run_once(tree: Path, args: Sequence[str], work: Path, label: str) -> dict[str, float]:
    """One run of ``binder ARGS`` with ``tree`` first on the path: wall and CPU seconds."""
    out = work / f"out-{label}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [*binder_command(), *(a.replace("{out}", str(out)) for a in args)]
    env = dict(os.environ, PYTHONPATH=str(tree))
    with open(work / f"{label}.log", "wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=log, stderr=log)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"{label}: {' '.join(cmd)} failed (see {work / label}.log)")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime}


def ratios(runs: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """Per tree and measure: median seconds, and the median and range of the per-round ratio
    to the first tree."""
    base = names[0]
    by_round: dict[int, dict[str, dict[str, Any]]] = {}
    for run in runs:
        by_round.setdefault(run["round"], {})[run["tree"]] = run
    summary: dict[str, Any] = {}
    for name in names:
        summary[name] = {}
        for key in ("wall", "cpu"):
            pairs = [
                (r[name][key], r[base][key]) for r in by_round.values() if name in r and base in r
            ]
            rel = [a / b for a, b in pairs]
            summary[name][key] = {
                "median_s": statistics.median(a for a, _ in pairs),
                "ratio_median": statistics.median(rel),
                "ratio_min": min(rel),
                "ratio_max": max(rel),
            }
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trees", type=Path, nargs="+", required=True, help="first: the base")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/binder-paired-trees"))
    parser.add_argument("--json", type=Path, default=None, help="every run and the summary")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="binder arguments after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    names = [str(t) for t in args.trees]
    args.work_dir.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    for r in range(args.rounds):
        for name in rotated(names, r):
            label = f"{Path(name).name}-{len(runs)}"
            timing = run_once(Path(name).resolve(), command, args.work_dir, label)
            runs.append({"round": r, "tree": name, **timing})
            print(json.dumps(runs[-1]), flush=True)
    summary = ratios(runs, names)
    for name in names:
        wall, cpu = summary[name]["wall"], summary[name]["cpu"]
        print(
            f"{name}: wall {wall['median_s']:.2f} s, {wall['ratio_median']:.3f}x "
            f"({wall['ratio_min']:.3f}-{wall['ratio_max']:.3f}); cpu {cpu['median_s']:.2f} s, "
            f"{cpu['ratio_median']:.3f}x ({cpu['ratio_min']:.3f}-{cpu['ratio_max']:.3f})"
        )
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "summary": summary}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
