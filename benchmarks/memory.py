"""Process memory for the benchmarks, torch-free (the ONNX children must not import torch)."""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def _proc_status_mb(field: str) -> float | None:
    """A ``kB`` field of /proc/self/status in MiB, or None off Linux."""
    status = Path("/proc/self/status")
    if not status.is_file():
        return None
    for line in status.read_text(encoding="utf-8").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return None


def current_rss_mb() -> float:
    """Resident set size of this process now, in MiB (0.0 where /proc is missing)."""
    return _proc_status_mb("VmRSS") or 0.0


def peak_rss_mb() -> float:
    """Highest resident set size of this process so far, in MiB.

    Linux: VmHWM of this process's own memory map. ``ru_maxrss`` is not used there: after
    fork + exec it starts from the parent's RSS, so a child of a large parent reports the
    parent's size. Elsewhere ``ru_maxrss`` (kB on Linux, bytes on macOS).
    """
    peak = _proc_status_mb("VmHWM")
    if peak is not None:
        return peak
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024
