"""Kill tests: commands killed with SIGKILL leave outputs whole or marked unfinished.

Each command runs as a real ``binder`` subprocess and is killed at a point where it has begun
writing; afterwards its output folder must hold the previous complete output or a marked,
refused one, and a rerun (``train --resume``) must end as an unbroken run does.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from binder_core.contract.markers import read_marker
from tests.test_train_loop import write_tiny_data, write_types

pytestmark = pytest.mark.slow

TRAIN_ARGS = [
    "--batch-size", "2", "--lr", "3e-3", "--head-lr", "1e-2", "--warmup-ratio", "0",
    "--seed", "7", "--max-seq-length", "32", "--window-overlap", "8", "--max-span-width", "8",
    "--max-steps", "12", "--eval-every", "4", "--save-every", "4", "--log-every", "1",
]  # fmt: skip


def _binder(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", *args]


def _env() -> dict[str, str]:
    root = Path(__file__).resolve().parents[1]
    return {
        **os.environ,
        "PYTHONPATH": str(root),
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
    }


def _run_until(command: list[str], ready: Callable[[], bool], timeout: float = 120.0) -> int:
    """Start ``command``, SIGKILL it once ``ready()`` holds; return its exit status."""
    process = subprocess.Popen(
        command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"{command[3:5]} ended (rc {process.returncode}) before the kill point")
            if ready():
                process.send_signal(signal.SIGKILL)
                return process.wait(30)
            time.sleep(0.05)
        pytest.fail("the kill point was never reached")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
    return -1


def _train_records(run: Path) -> list[dict[str, object]]:
    path = run / "metrics.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # a torn last line of the killed run
            out.append(json.loads(line))
    return out


def test_killed_training_is_refused_until_resumed_and_ends_like_an_unbroken_run(
    tiny_bert: Path, tmp_path: Path
) -> None:
    data = write_tiny_data(tmp_path / "data")
    common = ["--train", str(data), "--dev", str(data), "--model", str(tiny_bert),
              "--types", str(write_types(tmp_path / "types.json")), *TRAIN_ARGS]  # fmt: skip
    whole = tmp_path / "whole"
    subprocess.run(_binder("train", "--out", str(whole), *common), env=_env(), check=True,
                   capture_output=True)  # fmt: skip
    killed = tmp_path / "killed"
    status = _run_until(
        _binder("train", "--out", str(killed), *common),
        lambda: any(r.get("step", 0) >= 6 for r in _train_records(killed)),
    )
    assert status == -signal.SIGKILL
    assert read_marker(killed).status == "writing"  # type: ignore[union-attr]
    refused = subprocess.run(
        _binder("evaluate", str(killed), str(data)), env=_env(), capture_output=True, text=True
    )
    assert refused.returncode == 2 and "interrupted" in refused.stderr
    assert "Traceback" not in refused.stderr
    subprocess.run(_binder("train", "--out", str(killed), *common, "--resume"), env=_env(),
                   check=True, capture_output=True)  # fmt: skip
    assert read_marker(killed).status == "complete"  # type: ignore[union-attr]

    def final(run: Path) -> tuple[list[object], list[object]]:
        records = _train_records(run)
        losses = [r["loss"] for r in records if r["kind"] == "train"]
        scores = [(r["step"], r["f1"]) for r in records if r["kind"] == "eval"]
        return losses, scores

    assert final(killed) == final(whole)
