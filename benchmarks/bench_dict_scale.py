"""Dictionaries at UMLS scale: compile, load and label with millions of strings.

Run from the repository root::

    python -m benchmarks.bench_dict_scale [--strings 1000000 3000000] [--corpus-mb 20]
        [--reference-max 3000000] [--data-dir ../shared/data] [--work-dir DIR] [--json OUT]

For each size a UMLS-like KB table is generated (``term<TAB>label<TAB>id``): 1 to 5 words drawn
from the words of every MeSH 2024 string (so common words come often), distinct strings, one
of 24 labels each. Then, each step in a process of its own (peak RSS from ``wait4``; the
parent stays small, since a child's peak starts from its parent's size):

* ``compile``: ``binder dict compile OUT --source kb=TABLE``, end to end;
* ``load``: ``load_compiled(OUT)`` in a fresh process;
* ``scan``: labeling with :func:`dictionaries.match` over a corpus of abstracts, CPU seconds,
  paired in one process with the automaton the matcher used before (``ahocorasick-rs``,
  rebuilt from the same keys, up to ``--reference-max`` strings): their scans alone alternate
  with the labeling rounds, format 4's labeling is ours less our scan plus its scan, and the
  spans of the two must be equal;
* ``silver``: ``binder silver build CORPUS --dict OUT --workers 2``; the memory of the whole
  process tree is sampled (sum of RSS, and of PSS, which counts a page shared by forked
  workers once).

``--strings 0`` runs the paired scan with the MeSH dictionary of ``bench_silver`` alone.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.bench_silver import MB, MESH_TERMS, binder_command, mesh_entries, run_measured
from benchmarks.corpus import DEFAULT_DATA, write_corpus

LABELS = tuple(f"ST{i:02d}" for i in range(24))
LOAD_TARGET_S = 3.0  # 3M strings, fresh process


def mesh_words(data: Path) -> list[str]:
    """Every word of every MeSH 2024 string, repeats kept (drawing from it follows their
    frequency)."""
    words: list[str] = []
    with gzip.open(data / MESH_TERMS, "rt", encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t")
        column = next(rows).index("term")
        for row in rows:
            words += [w for w in row[column].split() if len(w) > 1]
    return words


def umls_like(words: Sequence[str], count: int, seed: int = 0) -> Iterator[tuple[str, str, str]]:
    """``count`` distinct ``(term, label, id)`` rows: 1-5 words drawn from ``words``."""
    rng = random.Random(seed)
    seen: set[int] = set()
    made = 0
    while made < count:
        term = " ".join(rng.choices(words, k=rng.randint(1, 5)))
        h = hash(term)
        if h in seen:
            continue
        seen.add(h)
        yield term, LABELS[rng.randrange(len(LABELS))], f"C{made:08d}"
        made += 1


def write_kb(path: Path, rows: Iterator[tuple[str, str, str]]) -> int:
    """A KB table (``term``, ``label``, ``id``) that ``binder dict compile --source kb=`` reads."""
    count = 0
    with path.open("w", encoding="utf-8") as f:
        f.write("term\tlabel\tid\n")
        for term, label, concept in rows:
            f.write(f"{term}\t{label}\t{concept}\n")
            count += 1
    return count


def read_texts(corpus: Path) -> list[str]:
    with corpus.open(encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def reference_automaton(keys: Any) -> Any:
    """The automaton matching used before format 5: ``ahocorasick-rs``'s contiguous NFA."""
    import ahocorasick_rs

    return ahocorasick_rs.AhoCorasick(
        list(keys),
        matchkind=ahocorasick_rs.MatchKind.Standard,
        implementation=ahocorasick_rs.Implementation.ContiguousNFA,
        store_patterns=False,
    )


class _InMatcherLayout:
    """``ahocorasick-rs`` hits re-packed as the matcher takes them, ``(start, end, key)``: to
    check that the two automata give the same spans (untimed)."""

    def __init__(self, automaton: Any) -> None:
        self._automaton = automaton

    def find_all(self, haystack: str) -> list[tuple[int, int, int]]:
        raw = self._automaton.find_matches_as_indexes(haystack, overlapping=True)
        return [(s, e, k) for k, s, e in raw]


def paired_scan(
    compiled: Any, texts: Sequence[str], rounds: int, reference: bool
) -> dict[str, Any]:
    """CPU seconds of :func:`match` over ``texts``; with ``reference``, also of each
    automaton's scan alone over the folded texts, ``ahocorasick-rs`` (format 4's) against this
    one, in alternating rounds. Format 4 fed the same matcher loop with its automaton's hits in
    their own layout, so its labeling time is ours less our scan plus its scan
    (``reference_mb_s``). The first pass of each, which fills the matcher's memo, is not
    timed; the spans of the two automata are checked equal."""
    from dictionaries import match
    from dictionaries.normalize import fold_with_offsets

    megabytes = sum(len(t.encode("utf-8")) for t in texts) / MB
    out: dict[str, Any] = {"corpus_mb": megabytes}
    spans = [match(t, compiled) for t in texts]
    out["spans"] = sum(len(s) for s in spans)
    scans: dict[str, Callable[[str], Any]] = {"automaton": compiled.automaton.find_all}
    if reference:
        t0 = time.perf_counter()
        automaton = reference_automaton(compiled.keys)
        out["reference_build_s"] = time.perf_counter() - t0
        other = replace(compiled, automaton=_InMatcherLayout(automaton))
        if [match(t, other) for t in texts] != spans:
            raise RuntimeError("the two automata gave different spans")
        scans["reference"] = partial(automaton.find_matches_as_indexes, overlapping=True)
    del spans
    folded = [fold_with_offsets(t)[0] for t in texts]
    labeling: list[float] = []
    scan: dict[str, list[float]] = {name: [] for name in scans}
    for _ in range(rounds):
        t0 = time.process_time()
        for text in texts:
            match(text, compiled)
        labeling.append(time.process_time() - t0)
        for name, find in scans.items():
            t0 = time.process_time()
            for text in folded:
                find(text)
            scan[name].append(time.process_time() - t0)
    out["automaton_mb_s"] = [megabytes / s for s in labeling]
    for name, values in scan.items():
        out[f"{name}_scan_mb_s"] = [megabytes / s for s in values]
    if reference:
        out["reference_mb_s"] = [
            megabytes / (t - ours + theirs)
            for t, ours, theirs in zip(labeling, scan["automaton"], scan["reference"], strict=True)
        ]
    return out


def run_child(args: argparse.Namespace) -> dict[str, Any]:
    """One step in this process (the parent measures the process from outside)."""
    from dictionaries import compile_dictionary, load_compiled

    if args.child == "generate":
        made = write_kb(args.table, umls_like(mesh_words(args.data_dir), args.count))
        return {"strings": made}
    if args.child == "load":
        t0 = time.perf_counter()
        compiled = load_compiled(args.artifact)
        return {"seconds": time.perf_counter() - t0, "keys": compiled.num_terms}
    t0 = time.perf_counter()
    if args.child == "mesh-scan":
        compiled = compile_dictionary(mesh_entries(args.data_dir, "full"))
    else:
        compiled = load_compiled(args.artifact)
    ready = time.perf_counter() - t0
    found = paired_scan(compiled, read_texts(args.corpus), args.rounds, args.reference)
    return {**found, "keys": compiled.num_terms, "load_s": ready}


class TreeMemory:
    """Peak sum of RSS and of PSS over a process and its descendants, sampled (Linux)."""

    def __init__(self, root: int, interval_s: float = 0.25) -> None:
        self.root, self.interval_s = root, interval_s
        self.peak_rss_mb = self.peak_pss_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        tree, frontier = [self.root], [self.root]
        while frontier:
            frontier = [pid for pid, ppid in parents.items() if ppid in frontier]
            tree += frontier
        return tree

    @staticmethod
    def _field_mb(path: Path, field: str) -> float:
        try:
            for line in path.read_text().splitlines():
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024 * 1.048576
        except OSError:
            pass
        return 0.0

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            tree = [Path("/proc") / str(pid) for pid in self._tree()]
            rss = sum(self._field_mb(p / "status", "VmRSS") for p in tree)
            pss = sum(self._field_mb(p / "smaps_rollup", "Pss") for p in tree)
            self.peak_rss_mb = max(self.peak_rss_mb, rss)
            self.peak_pss_mb = max(self.peak_pss_mb, pss)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def silver_build(corpus: Path, artifact: Path, out: Path, log: Path) -> dict[str, Any]:
    """``binder silver build`` with two workers, its tree's memory sampled."""
    cmd = [*binder_command(), "silver", "build", str(corpus), "--dict", str(artifact)]
    cmd += ["--out", str(out), "--format", "jsonl", "--workers", "2"]
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        memory = TreeMemory(proc.pid)
        code = proc.wait()
        memory.stop()
    if code != 0:
        raise RuntimeError(f"silver build exited {code}: see {log}")
    counts = json.loads((out / "_manifest.json").read_text("utf-8"))["counts"]
    return {
        "seconds": time.perf_counter() - t0,
        "spans": counts["spans"],
        "peak_rss_sum_mb": memory.peak_rss_mb,
        "peak_pss_sum_mb": memory.peak_pss_mb,
    }


def _child(args: argparse.Namespace, step: str, log: Path, **extra: Any) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.bench_dict_scale", "--child", step]
    cmd += ["--data-dir", str(args.data_dir), "--rounds", str(args.rounds)]
    for name, value in extra.items():
        if value is True:
            cmd.append(f"--{name}")
        elif value is not False:
            cmd += [f"--{name}", str(value)]
    measured = run_measured(cmd, log)
    found: dict[str, Any] = json.loads(measured.stdout)
    return {**found, "process_s": measured.seconds, "peak_rss_mb": measured.peak_rss_mb}


def measure_size(args: argparse.Namespace, count: int, corpus: Path) -> dict[str, Any]:
    work: Path = args.work_dir
    table, artifact = work / f"kb-{count}.tsv", work / f"kb-{count}.dict"
    row: dict[str, Any] = {"strings": count}
    _child(args, "generate", work / "generate.log", table=table, count=count)
    row["table_mb"] = table.stat().st_size / MB
    compiled = run_measured(
        [*binder_command(), "dict", "compile", str(artifact), "--source", f"kb={table}"],
        work / f"compile-{count}.log",
    )
    row["compile"] = {"seconds": compiled.seconds, "peak_rss_mb": compiled.peak_rss_mb}
    row["artifact_mb"] = artifact.stat().st_size / MB
    row["load"] = _child(args, "load", work / f"load-{count}.log", artifact=artifact)
    print(json.dumps(row), flush=True)
    reference = count <= args.reference_max
    row["scan"] = _child(
        args, "scan", work / f"scan-{count}.log", artifact=artifact, corpus=corpus,
        reference=reference,
    )  # fmt: skip
    print(json.dumps(row["scan"]), flush=True)
    row["silver_2_workers"] = silver_build(
        corpus, artifact, work / f"silver-{count}", work / f"silver-{count}.log"
    )
    if not args.keep:
        table.unlink()
        artifact.unlink()
    return row


def _ratio(scan: dict[str, Any]) -> str:
    if "reference_mb_s" not in scan:
        return "not run"
    best = max(scan["automaton_mb_s"]), max(scan["reference_mb_s"])
    return f"{best[0]:.2f} / {best[1]:.2f} ({best[0] / best[1]:.2f}x)"


def _compile_cell(r: dict[str, Any]) -> str:
    return f"{r['compile']['seconds']:.1f} s, {r['compile']['peak_rss_mb']:,.0f}"


def _load_cell(r: dict[str, Any]) -> str:
    load = r["load"]
    return f"{load['seconds']:.2f} ({load['process_s']:.2f}), {load['peak_rss_mb']:,.0f}"


def _silver_cell(r: dict[str, Any]) -> str:
    run = r["silver_2_workers"]
    return f"{run['seconds']:.1f} s, {run['peak_rss_sum_mb']:,.0f} / {run['peak_pss_sum_mb']:,.0f}"


ROWS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("keys (distinct after folding)", lambda r: f"{r['load']['keys']:,}"),
    ("`binder dict compile`: s, peak RSS MB", _compile_cell),
    ("`load_compiled`, fresh process: s (process s), peak RSS MB", _load_cell),
    ("artifact MB", lambda r: f"{r['artifact_mb']:,.0f}"),
    ("labeling MB/s per core, best round: daachorse / ahocorasick-rs", lambda r: _ratio(r["scan"])),
    ("`binder silver build --workers 2`: s, peak RSS / PSS summed MB", _silver_cell),
)


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """One Markdown column per size."""
    lines = ["| step | " + " | ".join(f"{r['strings']:,} strings" for r in rows) + " |"]
    lines.append("|---|" + "---|" * len(rows))
    for name, cell in ROWS:
        lines.append(f"| {name} | " + " | ".join(cell(r) for r in rows) + " |")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strings", type=int, nargs="+", default=[1_000_000, 3_000_000])
    parser.add_argument("--corpus-mb", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per automaton")
    parser.add_argument("--reference-max", type=int, default=3_000_000,
                        help="largest size also scanned with ahocorasick-rs")  # fmt: skip
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/binder-bench-dict-scale"))
    parser.add_argument("--json", type=Path, default=None, help="write all figures here")
    parser.add_argument("--keep", action="store_true", help="keep tables and artifacts")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    for name in ("table", "artifact", "corpus"):
        parser.add_argument(f"--{name}", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--reference", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args)))
        return 0
    if not (args.data_dir / MESH_TERMS).is_file():
        print(f"bench_dict_scale skipped: {args.data_dir / MESH_TERMS} not found", file=sys.stderr)
        return 0
    work: Path = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.jsonl"
    docs, size = write_corpus(corpus, int(args.corpus_mb * MB), args.data_dir)
    print(f"corpus: {docs:,} documents, {size / MB:.1f} MB", flush=True)
    report: dict[str, Any] = {"load_average_before": os.getloadavg()}
    report["mesh"] = _child(
        args, "mesh-scan", work / "mesh-scan.log", corpus=corpus, reference=True
    )
    print("MeSH dictionary:", _ratio(report["mesh"]), flush=True)
    report["sizes"] = [measure_size(args, count, corpus) for count in args.strings if count]
    if report["sizes"]:
        print(format_table(report["sizes"]))
    report["load_average_after"] = os.getloadavg()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
