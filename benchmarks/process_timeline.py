"""Where a command's processes spend their CPU over time (Linux): a timeline per process.

Run from the repository root::

    python -m benchmarks.process_timeline [--interval 0.25] -- binder silver build ... --workers 2

Starts the command, reads the CPU time of it and of every process under it from ``/proc`` every
``--interval`` seconds, and prints a table: one row per interval, one column per process (cores
busy in that interval), then each process's start, end and CPU seconds. This is how the
two-worker run's phases in BENCHMARKS.md were found (start-up, labeling, stage change, shard
writing, manifest).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

Samples = Mapping[int, Sequence[tuple[float, float]]]
"""Per process id: ``(seconds since start, CPU seconds so far)``, in time order."""
Recorded = dict[int, list[tuple[float, float]]]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_table() -> dict[int, tuple[int, float]]:
    """Every process's parent and CPU seconds (user + system)."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        table[int(name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS)
    return table


def descendants(table: Mapping[int, tuple[int, float]], root: int) -> set[int]:
    """``root`` and every process under it in ``table`` (pid -> (parent, ...))."""
    found = {root}
    grew = True
    while grew:
        grew = False
        for pid, (parent, _) in table.items():
            if parent in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def sample(cmd: Sequence[str], interval: float) -> tuple[float, Recorded]:
    """Run ``cmd`` to its end; wall seconds and the samples of its process tree."""
    started = time.perf_counter()
    proc = subprocess.Popen(list(cmd), stdout=subprocess.DEVNULL)
    samples: Recorded = {}
    while proc.poll() is None:
        now = time.perf_counter() - started
        table = _process_table()
        for pid in descendants(table, proc.pid):
            if pid in table:
                samples.setdefault(pid, []).append((now, table[pid][1]))
        time.sleep(interval)
    return time.perf_counter() - started, samples


def cpu_per_interval(samples: Samples, step: float, total: float) -> list[list[float | None]]:
    """Per interval of ``step`` seconds, per process (in order of first sample): the cores it
    kept busy (CPU seconds gained over the interval / ``step``), None before it was seen."""
    pids = sorted(samples, key=lambda pid: samples[pid][0][0])
    rows: list[list[float | None]] = []
    for i in range(int(total / step) + 1):
        start, stop = i * step, (i + 1) * step
        row: list[float | None] = []
        for pid in pids:
            points = samples[pid]
            if points[0][0] > stop:
                row.append(None)
                continue
            before = max((c for t, c in points if t <= start), default=0.0)
            after = max((c for t, c in points if t <= stop), default=before)
            row.append((after - before) / step)
        rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between samples")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd or not os.path.isdir("/proc"):
        print("process_timeline: give a command after -- (Linux only)", file=sys.stderr)
        return 2
    total, samples = sample(cmd, args.interval)
    pids = sorted(samples, key=lambda pid: samples[pid][0][0])
    print(f"wall {total:.2f} s")
    print("| t (s) | " + " | ".join(str(pid) for pid in pids) + " |")
    print("|---|" + "---|" * len(pids))
    for i, row in enumerate(cpu_per_interval(samples, args.interval, total)):
        cells = ["" if v is None else f"{v:.2f}" for v in row]
        print(f"| {i * args.interval:.2f} | " + " | ".join(cells) + " |")
    for pid in pids:
        (first, _), (last, cpu) = samples[pid][0], samples[pid][-1]
        print(f"{pid}: seen {first:.2f}-{last:.2f} s, {cpu:.2f} CPU s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
