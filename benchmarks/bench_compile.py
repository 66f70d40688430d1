"""Dictionary compile on ~1M terms: ``binder dict compile`` against its raw steps.

Run from the repository root::

    python -m benchmarks.bench_compile [--data-dir ../shared/data] [--terms 1000000 | --quick]
        [--work-dir /tmp/binder-bench-compile] [--json OUT] [--keep]

The terms are MeSH 2024 Chemicals + Diseases (every string of trees C, F03 and D, permuted terms
included) plus generated variants (lowercase, hyphen <-> space, plural "s", two-word swaps),
added in rounds until ``--terms``, written as a KB table (``term``, ``label``, ``id``). Each step
runs in a process of its own, so the peak RSS reported (``wait4``) is that step's alone:

* ``raw``: NFKC + casefold every string, build a pyahocorasick automaton, pickle it (the floor);
* ``library``: ``load_source("kb", TABLE)``, ``compile_dictionary``, ``save_compiled``;
* ``cli``: ``binder dict compile OUT --source kb=TABLE`` (interpreter start and imports included);
* ``load``: ``load_compiled(OUT)`` in a fresh process (and ``pickle.load`` of the raw automaton).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import platform
import sys
import time
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, get_args

import ahocorasick

from benchmarks.bench_silver import (
    MB,
    MESH_TERMS,
    Measured,
    binder_command,
    check_data,
    mesh_entries,
    run_measured,
)
from benchmarks.corpus import DEFAULT_DATA
from dictionaries import compile_dictionary, load_compiled, load_source, save_compiled
from dictionaries.records import Entry

Step = Literal["raw", "library", "load", "load-raw"]
COMPILE_TARGET_S = 15.0
LOAD_TARGET_S = 1.0


def variants(term: str) -> list[str]:
    """Spelling variants of ``term`` seen in running text (``term`` itself left out)."""
    out = [term.lower()]
    if "-" in term:
        out.append(term.replace("-", " "))
    if " " in term:
        out.append(term.replace(" ", "-"))
    if term[-1:].isalpha() and term[-1] not in "sS":
        out.append(term + "s")
    words = term.split(" ")
    if len(words) == 2:
        out.append(f"{words[1]} {words[0]}")
    unique = dict.fromkeys(v for v in out if v != term)
    return list(unique)


def generate_terms(base: Iterable[Entry], target: int) -> list[Entry]:
    """``base`` (de-duplicated on term and label), then variants of the previous round's new
    entries, round after round, until ``target`` entries (or no new variant)."""
    seen: set[tuple[str, str]] = set()
    out: list[Entry] = []

    def add(entries: Iterable[Entry]) -> list[Entry]:
        new = []
        for e in entries:
            if len(out) >= target:
                break
            if (e.term, e.label) not in seen:
                seen.add((e.term, e.label))
                out.append(e)
                new.append(e)
        return new

    frontier = add(base)
    while frontier and len(out) < target:
        frontier = add(
            Entry(v, e.label, e.concept_id, "variant") for e in frontier for v in variants(e.term)
        )
    return out


def write_table(entries: Iterable[Entry], path: Path) -> int:
    """A KB table (TSV with a ``term``/``label``/``id`` header) that ``load_source("kb")`` reads."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(["term", "label", "id"])
        for e in entries:
            writer.writerow([e.term, e.label, e.concept_id])
            count += 1
    return count


def read_terms(path: Path) -> list[str]:
    """The ``term`` column of a table written by :func:`write_table`."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        next(reader)
        return [row[0] for row in reader]


def raw_steps(strings: Sequence[str], out: Path) -> dict[str, float]:
    """The floor under compiling: fold, build an automaton, pickle it; seconds per step."""
    t0 = time.perf_counter()
    folded = [unicodedata.normalize("NFKC", s).casefold() for s in strings]
    t1 = time.perf_counter()
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for i, s in enumerate(folded):
        automaton.add_word(s, i)
    automaton.make_automaton()
    t2 = time.perf_counter()
    with out.open("wb") as f:
        pickle.dump(automaton, f, protocol=5)
    t3 = time.perf_counter()
    return {
        "fold_s": t1 - t0,
        "automaton_s": t2 - t1,
        "pickle_s": t3 - t2,
        "seconds": t3 - t0,
        "keys": float(len(automaton)),
    }


def library_compile(table: Path, out: Path) -> dict[str, float]:
    """``binder dict compile`` as a library call, with its phases timed apart."""
    t0 = time.perf_counter()
    entries = list(load_source("kb", table))
    t1 = time.perf_counter()
    compiled = compile_dictionary(entries)
    t2 = time.perf_counter()
    save_compiled(compiled, out)
    t3 = time.perf_counter()
    return {
        "read_s": t1 - t0,
        "compile_s": t2 - t1,
        "save_s": t3 - t2,
        "seconds": t3 - t0,
        "keys": float(compiled.num_terms),
    }


def timed_load(artifact: Path, raw: bool) -> dict[str, float]:
    """Seconds to load an artifact: ours (``load_compiled``) or the raw pickled automaton."""
    t0 = time.perf_counter()
    if raw:
        with artifact.open("rb") as f:
            size = len(pickle.load(f))
    else:
        size = load_compiled(artifact).num_terms
    return {"seconds": time.perf_counter() - t0, "keys": float(size)}


def run_child(step: Step, table: Path, artifact: Path) -> dict[str, float]:
    """One step, in this process (the parent measures the process from outside)."""
    if step == "raw":
        return raw_steps(read_terms(table), artifact)
    if step == "library":
        return library_compile(table, artifact)
    return timed_load(artifact, raw=step == "load-raw")


def _measure_step(step: Step, table: Path, artifact: Path, work: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.bench_compile", "--child", step]
    cmd += ["--table", str(table), "--artifact", str(artifact)]
    measured = run_measured(cmd, work / f"{step}.log")
    return _row(measured, json.loads(measured.stdout))


def _row(measured: Measured, inner: dict[str, Any]) -> dict[str, Any]:
    return {
        **inner,
        "process_seconds": measured.seconds,
        "cpu_seconds": measured.cpu_seconds,
        "peak_rss_mb": measured.peak_rss_mb,
    }


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """A Markdown table of the steps; ``s`` is the timed work, ``process s`` the whole run."""
    lines = [
        "| step | s | process s | peak RSS MB | artifact MB | keys |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        size = f"{r['artifact_mb']:.0f}" if "artifact_mb" in r else ""
        keys = f"{int(r['keys']):,}" if "keys" in r else ""
        lines.append(
            f"| {name} | {r['seconds']:.2f} | {r['process_seconds']:.2f} | "
            f"{r['peak_rss_mb']:.0f} | {size} | {keys} |"
        )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--terms", type=int, default=1_000_000, help="terms to compile")
    parser.add_argument("--quick", action="store_true", help="100k terms")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/binder-bench-compile"))
    parser.add_argument("--json", type=Path, default=None, help="write all figures here")
    parser.add_argument("--keep", action="store_true", help="keep the table and artifacts")
    parser.add_argument("--child", choices=get_args(Step), help=argparse.SUPPRESS)
    parser.add_argument("--table", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--artifact", type=Path, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child, args.table, args.artifact)))
        return 0
    missing = check_data(args.data_dir, (MESH_TERMS,))
    if missing:
        print(f"bench_compile skipped: {missing}", file=sys.stderr)
        return 0
    work: Path = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    target = 100_000 if args.quick else args.terms
    entries = generate_terms(mesh_entries(args.data_dir, "full"), target)
    table = work / "terms.tsv"
    write_table(entries, table)
    print(f"{len(entries):,} terms -> {table} ({table.stat().st_size / MB:.0f} MB)")
    del entries

    raw_art, lib_art, cli_art = work / "raw.pkl", work / "library.dict", work / "cli.dict"
    results: dict[str, dict[str, Any]] = {}
    results["raw: NFKC+casefold, automaton, pickle"] = _measure_step("raw", table, raw_art, work)
    results["library: load + compile + save"] = _measure_step("library", table, lib_art, work)
    cli = run_measured(
        [*binder_command(), "dict", "compile", str(cli_art), "--source", f"kb={table}"],
        work / "cli.log",
    )
    results["cli: binder dict compile"] = _row(cli, {"seconds": cli.seconds})
    results["load: load_compiled"] = _measure_step("load", table, cli_art, work)
    results["load: pickle.load raw automaton"] = _measure_step("load-raw", table, raw_art, work)
    for name, path in (("raw", raw_art), ("library", lib_art), ("cli", cli_art)):
        results[next(k for k in results if k.startswith(name))]["artifact_mb"] = (
            path.stat().st_size / MB
        )
    print(format_table(results))
    compile_s = results["cli: binder dict compile"]["seconds"]
    load_s = results["load: load_compiled"]["seconds"]
    print(
        f"\ncompile (CLI, wall) {compile_s:.1f} s (target < {COMPILE_TARGET_S:.0f} s); "
        f"load {load_s:.2f} s (target < {LOAD_TARGET_S:.0f} s)"
    )
    if args.json:
        report = {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores",
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
            "terms": target,
            "table_bytes": table.stat().st_size,
            "steps": results,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if not args.keep:
        for path in (table, raw_art, lib_art, cli_art):
            path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
