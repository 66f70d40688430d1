"""Data-parallel training on CPU: 2 processes, gloo, uneven shards, ranks end in sync."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.test_train_loop import tiny_config, tiny_documents, write_tiny_data


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ddp_worker(rank: int, world_size: int, port: int, config: dict[str, Any], out: str) -> None:
    """One rank: train, then record the steps it took and a digest of its final weights."""
    import torch

    from binder_core.training.config import TrainConfig
    from binder_core.training.loop import train

    torch.set_num_threads(1)
    os.environ.update(
        RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
    )  # fmt: skip
    events = list(train(TrainConfig.from_dict(config)))
    model = events[-1].model
    assert model is not None
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())
    record = {
        "steps": [e.step for e in events if e.kind == "step"],
        "losses": [e.loss for e in events if e.kind == "step"],
        "evals": [e.metrics["f1"] for e in events if e.kind == "eval"],
        "digest": digest.hexdigest(),
    }
    Path(out, f"rank{rank}.json").write_text(json.dumps(record))


@pytest.mark.slow
def test_train_ddp_two_cpu_ranks_end_in_sync(tiny_bert: Path, tmp_path: Path) -> None:
    import torch.multiprocessing as mp

    # 3 documents: rank 0 reads two, rank 1 one; with batch 1 rank 1 runs out first each epoch
    write_tiny_data(tmp_path / "data", tiny_documents()[:3])
    config = tiny_config(
        tiny_bert, tmp_path, max_steps=None, epochs=2, batch_size=1, save_every=2
    ).to_dict()
    mp.spawn(_ddp_worker, args=(2, _free_port(), config, str(tmp_path)), nprocs=2, join=True)

    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert ranks[0]["steps"] == ranks[1]["steps"] == [1, 2, 3, 4]
    assert ranks[0]["losses"] == ranks[1]["losses"]  # averaged over ranks
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert len(ranks[0]["evals"]) == len(ranks[1]["evals"]) == 1
    run = tmp_path / "run"
    assert (run / "best" / "model.safetensors").is_file()
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "step-00000002", "step-00000004"
    ]  # fmt: skip
