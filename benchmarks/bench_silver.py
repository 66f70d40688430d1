"""Silver-labeling throughput: the whole local pipeline against a raw pyahocorasick scan.

Run from the repository root::

    python -m benchmarks.bench_silver [--data-dir ../shared/data] [--target-mb 100 | --quick]
        [--workers 1 [2 ...]] [--labeling default no-abbreviations]
        [--work-dir /tmp/binder-bench-silver] [--json OUT] [--rounds N] [--keep]

The corpus is the ~4,500 abstracts of :func:`benchmarks.corpus.abstracts` written as JSONL and
repeated to ``--target-mb``. The dictionary is MeSH 2024 Chemicals + Diseases, compiled once with
the default options (what ``binder dict compile D --source mesh=...`` writes). In one run:

1. the raw scan: an automaton of the dictionary's terms, lowercased; for each JSONL line,
   ``json.loads``, ``text.lower()``, ``automaton.iter``, word-boundary hits, leftmost-longest;
2. ``binder silver build CORPUS --dict D --out O --format jsonl`` as a subprocess, once per
   ``--workers`` value and ``--labeling`` variant (``no-abbreviations`` adds
   ``--no-abbreviations``: the raw scan does no abbreviation work), plus once on a one-document
   corpus, to show the fixed start-up cost;
3. the raw scan again. Its two timings are averaged: the machine may be shared and noisy;
4. for each ``--workers`` value ``n`` above 1, the raw scan split into ``n`` shares of the lines,
   one forked process each, all at once: its speed-up over one process is what this machine
   gives for ``n`` busy cores (shared caches and memory bandwidth, a host's other guests), the
   ceiling for the pipeline's speed-up with ``n`` workers.

The ratio is ``(pipeline MB/s / workers) / raw MB/s``. Spans found by both are compared on one
copy of the corpus, and every difference is put down to a reason (compile-time filters, the
acronym rule, Unicode folding, a different longest-match choice).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_args

import ahocorasick

from benchmarks.corpus import DEFAULT_DATA, abstracts, write_corpus
from dictionaries import CompiledDictionary, compile_dictionary, load_source, match, save_compiled
from dictionaries.compiled import CASE_BIT
from dictionaries.filters import TermFilter
from dictionaries.normalize import normalize_term
from dictionaries.records import Entry

MESH_TERMS = Path("dictionaries") / "mesh2024_flat" / "mesh2024_terms.tsv.gz"
CORPUS_SOURCES = (
    Path("bc5cdr") / "pubtator" / "CDR_TestSet.PubTator.txt",
    Path("raw_text") / "pubmedqa" / "ori_pqal.json",
    Path("raw_text") / "genia_pos" / "GENIAtrain.pos",
)
MB = 1_000_000

Span = tuple[int, int]


@dataclass(frozen=True)
class Measured:
    """A finished subprocess: wall and CPU seconds, peak resident memory (its own and its
    descendants'), and what it wrote to stdout."""

    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    stdout: str


def _become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux), so that the CPU time
    of processes a child leaves behind (a forkserver and its workers) is counted too."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(36, 1, 0, 0, 0) == 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _reap_orphans(timeout: float = 30.0) -> None:
    """Wait for the descendants that were handed to this process when their parent ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.01)


def run_measured(cmd: Sequence[str], log_path: Path) -> Measured:
    """Run ``cmd``, stderr to ``log_path``. Wall time until the child exits; CPU time of the
    child and of every process under it (forked workers included: this process adopts what
    the child leaves behind and waits for it), where Linux allows that, else of the child."""
    subreaper = _become_subreaper()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile() as out, log_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if subreaper:
            _reap_orphans()
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        else:
            cpu_seconds = usage.ru_utime + usage.ru_stime
        out.seek(0)
        stdout = out.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        tail = log_path.read_text("utf-8", "replace")[-2000:]
        raise RuntimeError(f"{' '.join(cmd[:4])} ... exited {proc.returncode}:\n{tail}")
    return Measured(
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        peak_rss_mb=usage.ru_maxrss * 1024 / MB,  # Linux reports KiB
        stdout=stdout,
    )


def binder_command() -> list[str]:
    """The ``binder`` console script of this environment (``python -m cli.main`` if absent)."""
    script = Path(sys.executable).with_name("binder")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "cli.main"]


def build_raw_automaton(strings: Iterable[str]) -> Any:
    """A pyahocorasick automaton whose value for each string is its length."""
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for s in strings:
        automaton.add_word(s, len(s))
    automaton.make_automaton()
    return automaton


def word_boundary_spans(lowered: str, automaton: Any) -> list[Span]:
    """Leftmost-longest hits of ``automaton`` in ``lowered`` that start and end on word
    boundaries (no alphanumeric character just outside the hit)."""
    n = len(lowered)
    hits: list[tuple[int, int]] = []
    for last, length in automaton.iter(lowered):
        end = last + 1
        start = end - length
        if (start == 0 or not lowered[start - 1].isalnum()) and (
            end == n or not lowered[end].isalnum()
        ):
            hits.append((start, -end))
    hits.sort()
    chosen: list[Span] = []
    last_end = -1
    for start, neg_end in hits:
        if start >= last_end:
            last_end = -neg_end
            chosen.append((start, last_end))
    return chosen


@dataclass(frozen=True)
class ScanResult:
    """One pass of the raw scan over the corpus file."""

    documents: int
    megabytes: float
    seconds: float
    cpu_seconds: float
    spans: int


def raw_scan_file(path: Path, automaton: Any, part: tuple[int, int] | None = None) -> ScanResult:
    """Read and decode every JSONL line of ``path`` (of the byte range ``part`` only, when
    given) and scan its ``text`` (one process)."""
    return _scan_file(path, lambda text: len(word_boundary_spans(text.lower(), automaton)), part)


def match_scan_file(path: Path, compiled: CompiledDictionary) -> ScanResult:
    """The same loop as :func:`raw_scan_file` with the library matcher (no Beam, no Parquet):
    splits the pipeline's cost into matching and the rest."""
    return _scan_file(path, lambda text: len(match(text, compiled)))


def _scan_file(
    path: Path, count_spans: Callable[[str], int], part: tuple[int, int] | None = None
) -> ScanResult:
    """Scan every line of ``path``, or the lines of the byte range ``part`` only."""
    documents = spans = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    start, stop = part or (0, path.stat().st_size)
    with path.open("rb") as f:
        f.seek(start)
        while f.tell() < stop:
            line = f.readline()
            if not line:
                break
            spans += count_spans(json.loads(line)["text"])
            documents += 1
    return ScanResult(
        documents=documents,
        megabytes=(stop - start) / MB,
        seconds=time.perf_counter() - wall0,
        cpu_seconds=time.process_time() - cpu0,
        spans=spans,
    )


def line_parts(path: Path, parts: int) -> list[tuple[int, int]]:
    """``parts`` byte ranges of ``path`` of about equal size, each starting at a line start."""
    size = path.stat().st_size
    cuts = [0]
    with path.open("rb") as f:
        for k in range(1, parts):
            f.seek(max(size * k // parts, cuts[-1]))
            f.readline()  # to the next line start
            cuts.append(min(f.tell(), size))
    cuts.append(size)
    return list(itertools.pairwise(cuts))


def raw_scan_parallel(path: Path, automaton: Any, processes: int) -> ScanResult:
    """The raw scan split over ``processes`` forked processes, one share of the lines each,
    all at once: what this machine gives for the scan alone with that many cores busy (the
    reference for the pipeline's speed-up with as many workers). Wall time is the slowest
    share's; CPU time is the sum."""
    import multiprocessing

    context = multiprocessing.get_context("fork")  # the automaton is shared, copy-on-write
    results = context.SimpleQueue()

    def scan(part: tuple[int, int]) -> None:
        results.put(raw_scan_file(path, automaton, part))

    workers = [context.Process(target=scan, args=(p,)) for p in line_parts(path, processes)]
    wall0 = time.perf_counter()
    for w in workers:
        w.start()
    done = [results.get() for _ in workers]
    seconds = time.perf_counter() - wall0
    for w in workers:
        w.join()
        if w.exitcode != 0:
            raise RuntimeError(f"a raw scan process exited {w.exitcode}")
    return ScanResult(
        documents=sum(r.documents for r in done),
        megabytes=sum(r.megabytes for r in done),
        seconds=seconds,
        cpu_seconds=sum(r.cpu_seconds for r in done),
        spans=sum(r.spans for r in done),
    )


@dataclass(frozen=True)
class PipelineResult:
    """One ``binder silver build`` run, read back from its manifest."""

    workers: int
    documents: int
    dead_letters: int
    spans: int
    megabytes: float
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    labeling: Labeling = "default"


Labeling = Literal["default", "no-abbreviations"]


def run_pipeline(
    corpus: Path,
    dictionary: Path,
    out_dir: Path,
    workers: int,
    log_path: Path,
    labeling: Labeling = "default",
) -> PipelineResult:
    """``binder silver build`` exactly as a user types it, timed from the outside."""
    cmd = [*binder_command(), "silver", "build", str(corpus), "--dict", str(dictionary)]
    cmd += ["--out", str(out_dir), "--format", "jsonl", "--workers", str(workers)]
    if labeling == "no-abbreviations":
        cmd.append("--no-abbreviations")
    measured = run_measured(cmd, log_path)
    counts = json.loads((out_dir / "_manifest.json").read_text("utf-8"))["counts"]
    if not counts["balanced"]:
        raise RuntimeError(f"records do not add up in {out_dir}/_manifest.json")
    return PipelineResult(
        workers=workers,
        documents=counts["rows"],
        dead_letters=counts["dead_letters"],
        spans=counts["spans"],
        megabytes=corpus.stat().st_size / MB,
        seconds=measured.seconds,
        cpu_seconds=measured.cpu_seconds,
        peak_rss_mb=measured.peak_rss_mb,
        labeling=labeling,
    )


def _raw_only_reason(surface: str, compiled: CompiledDictionary, term_filter: TermFilter) -> str:
    key = normalize_term(surface)
    k = compiled.index_of(key)
    if k is None:
        reason = term_filter.reject_reason(key)
        return f"term dropped at compile time ({reason})" if reason else "not a compiled key"
    if compiled.values[k] & CASE_BIT:
        return "acronym rule (case-sensitive term, other case in text)"
    return "other longest-match choice"


def span_differences(
    texts: Iterable[str], compiled: CompiledDictionary, automaton: Any
) -> dict[str, int]:
    """Compare the raw scan's span positions with :func:`dictionaries.match`'s, with reasons.

    Positions only: a term with two labels is one position here but two spans in the Parquet
    rows. Raw offsets index ``text.lower()``, which equals ``text`` in length for almost all
    text (not for ``İ``).
    """
    term_filter = TermFilter.from_config(compiled.config)
    counts: Counter[str] = Counter()
    for text in texts:
        lowered = text.lower()
        raw = set(word_boundary_spans(lowered, automaton))
        ours = {(m.start, m.end) for m in match(text, compiled)}
        counts["found by both"] += len(raw & ours)
        for start, end in raw - ours:
            reason = _raw_only_reason(text[start:end], compiled, term_filter)
            counts[f"raw only: {reason}"] += 1
        for start, end in ours - raw:
            surface = text[start:end].lower()
            if automaton.exists(surface):
                counts["pipeline only: other longest-match choice"] += 1
            else:
                counts["pipeline only: Unicode/dash/space folding"] += 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def check_data(data: Path, required: Sequence[Path] = (MESH_TERMS, *CORPUS_SOURCES)) -> str | None:
    """Why the benchmark cannot run on ``data`` (a missing file), or ``None``."""
    for rel in required:
        if not (data / rel).is_file():
            return f"{data / rel} not found; pass --data-dir (the shared data folder)"
    return None


MeshPreset = Literal["full", "preset"]
FULL_BRANCHES = {"C": "Disease", "F03": "Disease", "D": "Chemical"}
"""Every term under Diseases (C, F03) and Chemicals and Drugs (D): about 150k strings."""


def mesh_entries(data: Path, preset: MeshPreset = "full") -> list[Entry]:
    """MeSH 2024 Chemicals + Diseases.

    ``full``: every string of tree C, F03 and D, permuted terms included (what
    ``binder dict compile D --source mesh=PATH --mesh-branches C=Disease,F03=Disease,D=Chemical
    --mesh-permuted`` reads, ~152k strings). ``preset``: the loader's defaults (no permuted
    terms; proteins, enzymes, nucleic acids and drug classes left out; ~59k strings).
    """
    if preset == "full":
        return list(
            load_source("mesh", data / MESH_TERMS, branches=FULL_BRANCHES, include_permuted=True)
        )
    return list(load_source("mesh", data / MESH_TERMS))


def summarize(
    raw: Sequence[ScanResult],
    pipelines: Sequence[PipelineResult],
    startup: PipelineResult | None,
    matcher: ScanResult | None = None,
    parallel: Mapping[int, ScanResult] | None = None,
) -> dict[str, Any]:
    """Mean raw throughput and, per pipeline run, throughput per core and the ratio to raw.

    Also, per run: the same ratio with the one-document run's wall time (the fixed start-up)
    taken off, which is what a corpus many times this size approaches, and the wall-time
    speed-up over the one-worker run of the same labeling variant. ``parallel`` holds the raw
    scan split over ``n`` processes at once (:func:`raw_scan_parallel`); its speed-up over the
    one-process scan is what this machine gives for ``n`` busy cores, the reference for a run
    with ``n`` workers (``speedup_share_of_raw``: the run's speed-up over that one).
    """
    raw_mb_s = sum(r.megabytes / r.seconds for r in raw) / len(raw)
    raw_seconds = sum(r.seconds for r in raw) / len(raw)
    raw_speedup = {n: raw_seconds / r.seconds for n, r in (parallel or {}).items()}
    raw_mb_cpu_s = sum(r.megabytes / r.cpu_seconds for r in raw) / len(raw)
    one_worker = {p.labeling: p.seconds for p in pipelines if p.workers == 1}
    runs = []
    for p in pipelines:
        per_core = p.megabytes / p.seconds / p.workers
        net = p.seconds - startup.seconds if startup and p.seconds > startup.seconds else None
        base = one_worker.get(p.labeling)
        speedup = base / p.seconds if base else None
        reference = raw_speedup.get(p.workers)
        runs.append(
            {
                **asdict(p),
                "mb_per_s": p.megabytes / p.seconds,
                "mb_per_s_per_core": per_core,
                "mb_per_cpu_s": p.megabytes / p.cpu_seconds,
                "ratio_per_core_to_raw": per_core / raw_mb_s,
                "ratio_cpu_to_raw_cpu": p.megabytes / p.cpu_seconds / raw_mb_cpu_s,
                "ratio_net_of_startup": p.megabytes / net / p.workers / raw_mb_s if net else None,
                "speedup_vs_one_worker": speedup,
                "raw_scan_speedup": reference,
                "speedup_share_of_raw": speedup / reference if speedup and reference else None,
            }
        )
    return {
        "raw_mb_per_s_mean": raw_mb_s,
        "raw_mb_per_cpu_s_mean": raw_mb_cpu_s,
        "pipelines": runs,
        "startup_seconds": startup.seconds if startup else None,
        "matcher_ratio_to_raw": (matcher.megabytes / matcher.seconds / raw_mb_s)
        if matcher
        else None,
        "raw_scan_speedup": {str(n): v for n, v in raw_speedup.items()},
    }


def _times(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def format_table(
    raw: Sequence[ScanResult], summary: dict[str, Any], matcher: ScanResult | None = None
) -> str:
    """A Markdown table: one row per raw pass, the in-process matcher, and each pipeline run.

    ``ratio`` is wall MB/s per core over the raw scan's mean; ``CPU ratio`` is MB per CPU-second
    over the raw scan's, which other jobs on a shared machine disturb less; ``net of start-up``
    is ``ratio`` with the one-document run's wall time taken off; ``vs 1 worker`` is the
    wall-time speed-up over one worker (for the raw scan in ``n`` processes at once: over the
    one-process scan's mean, what the machine itself gives).
    """
    head = (
        "| run | docs | MB | wall s | CPU s | MB/s | MB/s per core | spans | ratio | CPU ratio "
        "| net of start-up | vs 1 worker |"
    )
    lines = [head, "|" + "---|" * 12]
    raw_cpu = summary["raw_mb_per_cpu_s_mean"]
    rows = [(f"raw scan ({'before' if i == 0 else 'after'})", r, "") for i, r in enumerate(raw)]
    if matcher is not None:
        rows.append(("dictionaries.match, in process", matcher, "x"))
    for name, r, mark in rows:
        mb_s = r.megabytes / r.seconds
        ratio = f"{summary['matcher_ratio_to_raw']:.2f}x" if mark else ""
        cpu_ratio = f"{r.megabytes / r.cpu_seconds / raw_cpu:.2f}x" if mark else ""
        lines.append(
            f"| {name} | {r.documents:,} | {r.megabytes:.1f} | {r.seconds:.1f} | "
            f"{r.cpu_seconds:.1f} | {mb_s:.2f} | {mb_s:.2f} | {r.spans:,} | {ratio} | {cpu_ratio} "
            "| | |"
        )
    for n, speedup in summary.get("raw_scan_speedup", {}).items():
        lines.append(f"| raw scan, {n} processes at once | | | | | | | | | | | {speedup:.2f}x |")
    for p in summary["pipelines"]:
        variant = "" if p.get("labeling", "default") == "default" else f", --{p['labeling']}"
        lines.append(
            f"| silver build, {p['workers']} worker(s){variant} | {p['documents']:,} | "
            f"{p['megabytes']:.1f} | {p['seconds']:.1f} | {p['cpu_seconds']:.1f} | "
            f"{p['mb_per_s']:.2f} | {p['mb_per_s_per_core']:.2f} | {p['spans']:,} | "
            f"{p['ratio_per_core_to_raw']:.2f}x | {p['ratio_cpu_to_raw_cpu']:.2f}x | "
            f"{_times(p['ratio_net_of_startup'])} | {_times(p['speedup_vs_one_worker'])} |"
        )
    return "\n".join(lines)


class Round(NamedTuple):
    """One round of measurements, in the order :func:`summarize` takes them."""

    raw: list[ScanResult]
    pipelines: list[PipelineResult]
    startup: PipelineResult
    matcher: ScanResult | None
    parallel: dict[int, ScanResult]


def measure_round(
    corpus: Path,
    dict_path: Path,
    automaton: Any,
    compiled: CompiledDictionary | None,
    startup_corpus: Path,
    work: Path,
    workers: Sequence[int],
    labelings: Sequence[Labeling],
) -> Round:
    """The raw scan, the start-up run, every pipeline run, the raw scan again, the in-process
    matcher (when ``compiled`` is given) and the raw scan in ``n`` processes for each ``n`` of
    ``workers`` above 1, in that order."""
    raw = [raw_scan_file(corpus, automaton)]
    print(f"raw scan (before): {raw[0].seconds:.1f} s")
    startup = run_pipeline(startup_corpus, dict_path, work / "out-startup", 1, work / "startup.log")
    print(f"pipeline start-up (1 document): {startup.seconds:.1f} s")
    pipelines = []
    for labeling in labelings:
        for n in workers:
            out_dir = work / f"out-w{n}-{labeling}"
            log = work / f"w{n}-{labeling}.log"
            result = run_pipeline(corpus, dict_path, out_dir, n, log, labeling)
            print(f"silver build, {n} worker(s), {labeling}: {result.seconds:.1f} s")
            pipelines.append(result)
    raw.append(raw_scan_file(corpus, automaton))
    print(f"raw scan (after): {raw[1].seconds:.1f} s")
    matcher = match_scan_file(corpus, compiled) if compiled is not None else None
    if matcher is not None:
        print(f"dictionaries.match in process: {matcher.seconds:.1f} s")
    parallel = {n: raw_scan_parallel(corpus, automaton, n) for n in workers if n > 1}
    for n, scan in parallel.items():
        print(f"raw scan, {n} processes at once: {scan.seconds:.1f} s")
    return Round(raw, pipelines, startup, matcher, parallel)


_ROUND_FIGURES = (
    "ratio_per_core_to_raw",
    "ratio_net_of_startup",
    "speedup_vs_one_worker",
    "speedup_share_of_raw",
)


def median_figures(summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The median over rounds of each run's ratios and of the raw scan's speed-ups."""

    def median(values: Iterable[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return statistics.median(known) if known else None

    first = summaries[0]
    runs = []
    for i, run in enumerate(first["pipelines"]):
        figures = {k: median(s["pipelines"][i][k] for s in summaries) for k in _ROUND_FIGURES}
        runs.append({"workers": run["workers"], "labeling": run["labeling"], **figures})
    return {
        "rounds": len(summaries),
        "pipelines": runs,
        "raw_scan_speedup": {
            n: median(s["raw_scan_speedup"].get(n) for s in summaries)
            for n in first["raw_scan_speedup"]
        },
    }


def format_rounds(summaries: Sequence[Mapping[str, Any]]) -> str:
    """A Markdown table, one row per round and one of medians: each run's ratio to the raw scan
    and its speed-up over one worker, and the raw scan's own speed-up with ``n`` processes."""
    first = summaries[0]
    names = []
    for run in first["pipelines"]:
        variant = "" if run["labeling"] == "default" else f", --{run['labeling']}"
        names.append(f"{run['workers']} worker(s){variant}")
    heads = [f"{n}: ratio / vs 1 worker" for n in names]
    heads += [f"raw scan, {n} processes: speed-up" for n in first["raw_scan_speedup"]]
    lines = ["| round | " + " | ".join(heads) + " |", "|" + "---|" * (len(heads) + 1)]

    def row(label: str, s: Mapping[str, Any]) -> str:
        cells = [
            f"{_times(r['ratio_per_core_to_raw'])} / {_times(r['speedup_vs_one_worker'])}"
            for r in s["pipelines"]
        ]
        cells += [_times(s["raw_scan_speedup"].get(n)) for n in first["raw_scan_speedup"]]
        return f"| {label} | " + " | ".join(cells) + " |"

    lines += [row(str(k + 1), s) for k, s in enumerate(summaries)]
    lines.append(row("median", median_figures(summaries)))
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--target-mb", type=float, default=100.0, help="corpus size to reach")
    parser.add_argument("--quick", action="store_true", help="a ~5 MB corpus (one copy)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="pipeline runs")
    parser.add_argument(
        "--labeling",
        nargs="+",
        choices=get_args(Labeling),
        default=["default", "no-abbreviations"],
        help="labeling variants to run for each --workers value",
    )
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/binder-bench-silver"))
    parser.add_argument("--json", type=Path, default=None, help="write all figures here")
    parser.add_argument(
        "--mesh", choices=get_args(MeshPreset), default="full", help="which MeSH strings"
    )
    parser.add_argument(
        "--no-matcher",
        dest="matcher",
        action="store_false",
        help="skip the in-process dictionaries.match pass",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure everything this many times in turn; also report the medians",
    )
    parser.add_argument("--keep", action="store_true", help="keep the corpus and outputs")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    missing = check_data(args.data_dir)
    if missing:
        print(f"bench_silver skipped: {missing}", file=sys.stderr)
        return 0
    work: Path = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    target_bytes = int((5.0 if args.quick else args.target_mb) * MB)
    corpus = work / "corpus.jsonl"
    docs, size = write_corpus(corpus, target_bytes, args.data_dir)
    print(f"corpus: {docs:,} documents, {size / MB:.1f} MB -> {corpus}")

    entries = mesh_entries(args.data_dir, args.mesh)
    started = time.perf_counter()
    compiled = compile_dictionary(entries)
    compile_s = time.perf_counter() - started
    dict_path = work / "mesh.dict"
    save_compiled(compiled, dict_path)
    raw_strings = {e.term.lower() for e in entries}
    automaton = build_raw_automaton(raw_strings)
    print(
        f"dictionary: {len(entries):,} entries, {len(raw_strings):,} lowercased strings (raw), "
        f"{compiled.num_terms:,} compiled keys, compiled in {compile_s:.1f} s"
    )

    unique = abstracts(args.data_dir)
    startup_corpus = work / "one.jsonl"
    first_id, first_text = unique[0]
    startup_corpus.write_text(json.dumps({"id": first_id, "text": first_text}) + "\n", "utf-8")
    rounds = []
    for k in range(args.rounds):
        if args.rounds > 1:
            print(f"round {k + 1} of {args.rounds}")
        rounds.append(
            measure_round(
                corpus,
                dict_path,
                automaton,
                compiled if args.matcher else None,
                startup_corpus,
                work,
                args.workers,
                args.labeling,
            )
        )
    last = rounds[-1]
    summaries = [summarize(*r) for r in rounds]
    summary = summaries[-1]

    differences = span_differences((t for _, t in unique), compiled, automaton)
    print()
    print(format_table(last.raw, summary, last.matcher))
    print(f"\nraw scan mean: {summary['raw_mb_per_s_mean']:.2f} MB/s")
    if len(rounds) > 1:
        print(f"\nevery round (the table above is round {len(rounds)}), and the medians:\n")
        print(format_rounds(summaries))
    print("span positions on one copy of the corpus (raw scan vs pipeline):")
    for reason, n in differences.items():
        print(f"  {n:>8,}  {reason}")
    if args.json:
        report = {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores",
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
            "corpus": {"documents": docs, "bytes": size},
            "dictionary": {
                "entries": len(entries),
                "raw_strings": len(raw_strings),
                "compiled_keys": compiled.num_terms,
                "compile_seconds": compile_s,
            },
            "raw": [asdict(r) for r in last.raw],
            "startup": asdict(last.startup),
            "matcher": asdict(last.matcher) if last.matcher else None,
            "raw_parallel": {str(n): asdict(r) for n, r in last.parallel.items()},
            **summary,
            "rounds": summaries,
            "medians": median_figures(summaries),
            "span_differences_one_copy": differences,
            "peak_rss_mb_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if not args.keep:
        for path in work.glob("out-*"):
            shutil.rmtree(path)
        corpus.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
