"""Atomic training checkpoints, so that ``--resume`` continues a killed run exactly.

A checkpoint is a folder ``RUN_DIR/checkpoints/step-00000120/`` holding::

    model.pt              model state dict
    optimizer.pt          AdamW state
    scheduler.pt          LR scheduler state
    scaler.pt             fp16 GradScaler state (only when one is used)
    rng.pt                RNG states, one entry per rank (python, numpy, torch, cuda)
    trainer_state.json    step, data position (epoch + micro-batches consumed), best metric

It is written into a hidden temp folder and renamed into place, so a kill at any moment leaves
either the whole checkpoint or none of it. Every ``*.pt`` file loads with ``weights_only=True``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from binder_core.contract.atomic import atomic_directory
from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.options import config_from_dict

logger = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"
STATE_FILE = "trainer_state.json"
_PREFIX = "step-"


@dataclass(frozen=True)
class TrainerState:
    """Where a run stands; with the tensors of a checkpoint it is all that resume needs."""

    step: int = 0  # optimizer steps done
    epoch: int = 0  # epoch of the next micro-batch
    batches_in_epoch: int = 0  # micro-batches of `epoch` already consumed (on every rank)
    best_metric: float | None = None  # best selection score so far (binder_core.training.selection)
    best_step: int | None = None
    evals_since_best: int = 0  # for early stopping by patience
    windows_seen: int = 0  # training windows consumed, over all ranks

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainerState:
        return config_from_dict(cls, data)


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint (tensors on CPU)."""

    path: Path
    state: TrainerState
    model: dict[str, Any]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    scaler: dict[str, Any] | None
    rng: list[dict[str, Any]]


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (each rank passes seed + rank)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def capture_rng_state() -> dict[str, Any]:
    """The RNG states that dropout, shuffling and sampling draw from, as torch-loadable data."""
    py_version, py_state, py_gauss = random.getstate()
    np_state = np.random.get_state(legacy=True)
    assert isinstance(np_state, tuple)
    state: dict[str, Any] = {
        "python": [py_version, list(py_state), py_gauss],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    py_version, py_state, py_gauss = state["python"]
    random.setstate((py_version, tuple(py_state), py_gauss))
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoint_name(step: int) -> str:
    return f"{_PREFIX}{step:08d}"


def list_checkpoints(run_dir: str | os.PathLike[str]) -> list[Path]:
    """Complete checkpoints of a run, oldest first (temp folders are hidden, never listed)."""
    root = Path(run_dir) / CHECKPOINT_DIR
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and p.name.startswith(_PREFIX) and (p / STATE_FILE).is_file()
    )


def latest_checkpoint(run_dir: str | os.PathLike[str]) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def save_checkpoint(
    run_dir: str | os.PathLike[str],
    state: TrainerState,
    *,
    model: dict[str, Any],
    optimizer: dict[str, Any],
    scheduler: dict[str, Any],
    scaler: dict[str, Any] | None,
    rng: list[dict[str, Any]],
    keep: int = 2,
) -> Path:
    """Write a checkpoint atomically and delete all but the newest ``keep``."""
    target = Path(run_dir) / CHECKPOINT_DIR / checkpoint_name(state.step)
    with atomic_directory(target) as tmp:
        torch.save(model, tmp / "model.pt")
        torch.save(optimizer, tmp / "optimizer.pt")
        torch.save(scheduler, tmp / "scheduler.pt")
        if scaler is not None:
            torch.save(scaler, tmp / "scaler.pt")
        torch.save(rng, tmp / "rng.pt")
        # written last: a folder with a state file is complete
        (tmp / STATE_FILE).write_text(json.dumps(state.to_dict(), indent=2) + "\n")
    for stale in list_checkpoints(run_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(stale, ignore_errors=True)
    logger.info("checkpoint written: %s", target)
    return target


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Load a checkpoint folder written by :func:`save_checkpoint` (tensors on CPU)."""
    path = Path(path)
    state_file = path / STATE_FILE
    if not state_file.is_file():
        raise InputError("not a training checkpoint (no trainer_state.json)", path=str(path))

    def load(name: str) -> Any:
        return torch.load(path / name, map_location="cpu", weights_only=True)

    try:
        state = TrainerState.from_dict(json.loads(state_file.read_text()))
    except (json.JSONDecodeError, ConfigError) as exc:
        raise InputError(f"unreadable trainer state ({exc})", path=str(state_file)) from None
    return Checkpoint(
        path=path,
        state=state,
        model=load("model.pt"),
        optimizer=load("optimizer.pt"),
        scheduler=load("scheduler.pt"),
        scaler=load("scaler.pt") if (path / "scaler.pt").is_file() else None,
        rng=load("rng.pt"),
    )
