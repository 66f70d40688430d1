"""The development suite: four small distant-supervision tasks, one table of gold dev F1.

    python -m benchmarks.experiments.suite [--tasks bc5cdr,ncbi,conll,jnlpba] [--steps N]
        [--option "--mask-mentions 0.3"] [--out bench_out/suite] [--data-dir ../shared/data]
        [--model ENCODER] [--train-args "..."] [--max-train-docs 1000] [--prepare-only]

For each task (:mod:`benchmarks.experiments.suite_tasks`), once: gold dev, raw text, the
dictionary, and its silver labels; then for each variant (``base``, and with ``--option`` the
same run with that ``binder train`` option) the same pilot budget: ``binder train`` on the silver
labels, ``binder predict`` on the gold dev text, and three scores from those predictions, exact
span + type F1 against gold dev:

- ``dictionary``: the dictionary's certain matches alone (what silver build writes on the text);
- ``model``: the model alone;
- ``merge``: the hybrid of ``binder evaluate/predict --dictionary`` (its default rule: the
  dictionary wins every overlap, the model adds the rest), and ``trust``: the ``trust`` rule
  (trust estimated on the dev text itself, no gold), for comparison.

The merge is computed from the same predictions with the library's own
:func:`binder_core.inference.hybrid.merge_documents`, so one inference pass serves every column.
The pilot budget: ``--steps`` (default 300 optimizer steps of 8 windows on a CPU with AMX or
AVX512-BF16, 100 without: such CPUs train 3-6x slower) and the first ``--max-train-docs``
documents of raw text; the same for every variant. Each result is appended to
``OUT/results.jsonl`` as it arrives, and the table is printed at the end. No model selection:
each run keeps its last weights (silver dev F1 rewards copying the dictionary).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.experiments.suite_tasks import Prepared, binder, prepare
from binder_core.contract.metrics import SpanCounter
from binder_core.contract.schema import iter_documents
from binder_core.inference.hybrid import HybridOptions, merge_documents

REPO = Path(__file__).resolve().parents[2]
TASKS = ("bc5cdr", "ncbi", "conll", "jnlpba")
COLUMNS = ("dictionary", "model", "merge", "trust")
FAST_CPU_STEPS, SLOW_CPU_STEPS = 300, 100
logger = logging.getLogger("suite")


def cpu_has_bf16(cpuinfo: str) -> bool:
    """Whether /proc/cpuinfo's flags name AMX or AVX512-BF16 (native bf16 matrix math)."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return bool(flags & {"avx512_bf16", "amx_bf16"})
    return False


def pilot_steps(cpuinfo: str) -> int:
    return FAST_CPU_STEPS if cpu_has_bf16(cpuinfo) else SLOW_CPU_STEPS


def option_args(option: str, dictionary: Path) -> list[str]:
    """``binder train`` arguments for ``--option``; mention replacement draws from the task's
    own dictionary."""
    args = shlex.split(option)
    if "--replace-mentions" in args and "--mention-dictionary" not in args:
        args += ["--mention-dictionary", str(dictionary)]
    return args


def folder_name(variant: str) -> str:
    """``--mask-mentions 0.3`` -> ``mask-mentions_0.3``: a variant's run folder name."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", variant.lstrip("-")).strip("_") or "base"


def _keys(spans: Iterable[Mapping[str, Any]]) -> list[tuple[int, int, str]]:
    return [(int(s["start"]), int(s["end"]), str(s["label"])) for s in spans]


def score_columns(
    gold: Mapping[str, Sequence[Mapping[str, Any]]],
    dictionary: Mapping[str, Sequence[Mapping[str, Any]]],
    predicted: Mapping[str, Sequence[Mapping[str, Any]]],
    labels: Sequence[str],
) -> dict[str, dict[str, float]]:
    """Micro P/R/F1 of each column (module docstring), per document id of ``gold``.

    Gold spans marked uncertain are not gold; a document missing from ``dictionary`` or
    ``predicted`` has no spans there.
    """
    ids = sorted(gold)
    pairs = [(list(dictionary.get(i, ())), list(predicted.get(i, ()))) for i in ids]
    outputs: dict[str, Sequence[Sequence[Mapping[str, Any]]]] = {
        "dictionary": [[s for s in d if not s["uncertain"]] for d, _ in pairs],
        "model": [list(m) for _, m in pairs],
        "merge": merge_documents(pairs, HybridOptions())[0],
        "trust": merge_documents(pairs, HybridOptions(rule="trust"))[0],
    }
    scores: dict[str, dict[str, float]] = {}
    for column, per_doc in outputs.items():
        counter = SpanCounter(labels)
        for doc_id, spans in zip(ids, per_doc, strict=True):
            certain = [s for s in gold[doc_id] if not s["uncertain"]]
            counter.update(_keys(certain), _keys(spans))
        micro = counter.result().micro
        scores[column] = {"precision": micro.precision, "recall": micro.recall, "f1": micro.f1}
    return scores


def _spans_by_doc(path: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        d["doc_id"]: list(d["spans"]) for d in iter_documents(path, columns=["doc_id", "spans"])
    }


def _predictions(path: Path) -> dict[str, list[dict[str, Any]]]:
    out = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out[row["doc_id"]] = row["spans"]
    return out


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """One line per (task, variant): F1 of each column, and whether the merge kept its promise
    (merge >= max(dictionary, model) - 0.5 points)."""
    head = f"{'task':<8} {'variant':<28} {'steps':>5} " + " ".join(f"{c:>10}" for c in COLUMNS)
    lines = [head + "  merge>=best-0.5", "-" * (len(head) + 17)]
    for row in rows:
        f1 = {c: row["scores"][c]["f1"] for c in COLUMNS}
        ok = f1["merge"] >= max(f1["dictionary"], f1["model"]) - 0.005
        lines.append(
            f"{row['task']:<8} {row['variant'][:28]:<28} {row['steps']:>5} "
            + " ".join(f"{f1[c]:>10.4f}" for c in COLUMNS)
            + f"  {'yes' if ok else 'NO'}"
        )
    return "\n".join(lines)


class Suite:
    """Runs commands with their output in ``out/logs``; appends results to ``results.jsonl``."""

    def __init__(self, out: Path, env: Mapping[str, str]) -> None:
        self.out = out
        self.logs = out / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = dict(env)

    def run(self, name: str, argv: Sequence[str]) -> None:
        log = self.logs / f"{name}.log"
        logger.info("%s: %s", name, shlex.join(argv))
        with log.open("a", encoding="utf-8") as fh:
            fh.write(f"$ {shlex.join(argv)}\n")
            fh.flush()
            done = subprocess.run(
                argv, stdout=fh, stderr=subprocess.STDOUT, env=self.env, cwd=REPO, check=False
            )
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed (exit {done.returncode}); see {log}")

    def variant(
        self, task: Prepared, name: str, steps: int, train_args: Sequence[str]
    ) -> dict[str, Any]:
        run_dir = self.out / task.name / f"run_{name}"
        tag = f"{task.name}_{name}"
        argv = binder(
            "train",
            "--train",
            str(task.silver_train),
            "--out",
            str(run_dir),
            "--types",
            task.types,
            "--max-steps",
            str(steps),
            "--eval-every",
            "0",
            "--save-every",
            "0",
            *train_args,
        )
        if run_dir.exists():
            shutil.rmtree(run_dir)  # a fresh run: the same budget for every variant
        started = time.perf_counter()
        self.run(f"train_{tag}", argv)
        seconds = time.perf_counter() - started
        predictions = run_dir / "dev_predictions.jsonl"
        self.run(
            f"predict_{tag}",
            binder(
                "predict",
                str(run_dir),
                str(self.out / task.name / "dev_text.jsonl"),
                str(predictions),
            ),
        )
        gold = _spans_by_doc(task.gold_dev)
        labels = sorted({s["label"] for spans in gold.values() for s in spans})
        scores = score_columns(
            gold, _spans_by_doc(task.silver_dev), _predictions(predictions), labels
        )
        row = {
            "task": task.name,
            "variant": name,
            "steps": steps,
            "train_seconds": round(seconds),
            "train_args": list(train_args),
            "scores": scores,
            "command": shlex.join(argv),
        }
        with (self.out / "results.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tasks", default=",".join(TASKS), help="comma-separated task names")
    ap.add_argument("--steps", type=int, help="optimizer steps per run (default: by CPU)")
    ap.add_argument(
        "--option", help='a binder train option to compare on/off, e.g. "--mask-mentions 0.3"'
    )
    ap.add_argument("--no-base", action="store_true", help="with --option: run only the option")
    ap.add_argument("--out", type=Path, default=REPO / "bench_out/suite")
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared/data")
    ap.add_argument("--model", help="encoder for binder train --model (default: binder's)")
    ap.add_argument("--train-args", default="--batch-size 8", help="more binder train options")
    ap.add_argument("--max-train-docs", type=int, default=1000)
    ap.add_argument("--prepare-only", action="store_true", help="build the tasks' data, no runs")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    steps = args.steps or pilot_steps(cpuinfo)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    suite = Suite(args.out, env)
    common = shlex.split(args.train_args) + (["--model", args.model] if args.model else [])
    rows = []
    for name in [t for t in args.tasks.split(",") if t]:
        task = prepare(name, args.data_dir, args.out, suite.run, args.max_train_docs, REPO)
        if args.prepare_only:
            continue
        variants = [] if (args.option and args.no_base) else [("base", common)]
        if args.option:
            variants.append((args.option, common + option_args(args.option, task.dictionary)))
        for variant, train_args in variants:
            row = suite.variant(task, folder_name(variant), steps, train_args)
            row["variant"] = variant
            rows.append(row)
            logger.info("%s", format_table([row]).splitlines()[-1])
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
