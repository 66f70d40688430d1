"""Atomic checkpoint folders, RNG capture/restore and the curves plot."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from binder_core.training.checkpoint import (
    TrainerState,
    atomic_directory,
    capture_rng_state,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)


def test_atomic_directory_keeps_the_old_folder_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "best"
    with atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("new")
        raise RuntimeError("killed")
    assert (target / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]


def test_atomic_directory_replaces_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "best"
    for text in ("one", "two"):
        with atomic_directory(target) as tmp:
            (tmp / "a.txt").write_text(text)
    assert (target / "a.txt").read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]


def test_rng_state_round_trip() -> None:
    state = capture_rng_state()
    first = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    restore_rng_state(state)
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == first


def test_save_checkpoint_keeps_the_newest_and_loads_back(tmp_path: Path) -> None:
    weights = {"w": torch.arange(3.0)}
    for step in (1, 2, 3):
        save_checkpoint(tmp_path, TrainerState(step=step, epoch=1, batches_in_epoch=step),
                        model=weights, optimizer={"state": {}}, scheduler={"last_epoch": step},
                        scaler=None, rng=[capture_rng_state()], keep=2)  # fmt: skip
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000002", "step-00000003"]
    path = latest_checkpoint(tmp_path)
    assert path is not None
    ckpt = load_checkpoint(path)
    assert ckpt.state == TrainerState(step=3, epoch=1, batches_in_epoch=3)
    assert torch.equal(ckpt.model["w"], weights["w"])
    assert ckpt.scheduler == {"last_epoch": 3} and ckpt.scaler is None


def test_latest_checkpoint_of_a_new_run_is_none(tmp_path: Path) -> None:
    assert latest_checkpoint(tmp_path) is None


def test_plot_curves_writes_a_png(tmp_path: Path) -> None:
    from binder_core.training.plots import plot_curves

    records = [
        {"kind": "train", "step": 1, "loss": 2.0},
        {"kind": "train", "step": 2, "loss": 1.0},
        {"kind": "eval", "step": 2, "f1": 0.5},
    ]
    out = plot_curves(records, tmp_path / "curves.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png"]
