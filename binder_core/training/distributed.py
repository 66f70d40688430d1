"""Data-parallel plumbing: read torchrun's environment, and keep ranks in step.

Launch with ``torchrun --nproc_per_node N -m cli.main train ...``: torchrun sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``. Without them the run is a
single process and every helper here is a no-op. The backend is NCCL on CUDA, gloo on CPU.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only the main rank writes files and logs progress."""
        return self.rank == 0


def env_dist_info() -> DistInfo:
    """The ranks that torchrun (or a test's spawn) put in the environment."""
    return DistInfo(
        rank=int(os.environ.get("RANK", "0")),
        world_size=int(os.environ.get("WORLD_SIZE", "1")),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )


def init_distributed(device_type: str) -> tuple[DistInfo, bool]:
    """Join the process group if the environment asks for one.

    Returns the ranks and whether this call created the group (and so must destroy it).
    """
    info = env_dist_info()
    if not info.enabled or dist.is_initialized():
        return info, False
    backend = "nccl" if device_type == "cuda" else "gloo"
    if device_type == "cuda":
        torch.cuda.set_device(info.local_rank)
    dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)
    logger.info("rank %d/%d joined the %s group", info.rank, info.world_size, backend)
    return info, True


def shutdown(created: bool) -> None:
    if created and dist.is_initialized():
        dist.destroy_process_group()


def _reduce_flag(flag: bool, op: Any, info: DistInfo, device: torch.device) -> bool:
    if not info.enabled:
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int64, device=device)
    dist.all_reduce(t, op=op)
    return bool(t.item())


def any_rank(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True on every rank iff ``flag`` is true on some rank (a collective call)."""
    return _reduce_flag(flag, dist.ReduceOp.MAX, info, device)


def max_over_ranks(value: int, info: DistInfo, device: torch.device) -> int:
    if not info.enabled:
        return value
    t = torch.tensor([value], dtype=torch.int64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return int(t.item())


def sum_over_ranks(value: int, info: DistInfo, device: torch.device) -> int:
    if not info.enabled:
        return value
    t = torch.tensor([value], dtype=torch.int64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return int(t.item())


def mean_over_ranks(value: float, info: DistInfo, device: torch.device) -> float:
    """The mean of a float over ranks (float64); the value itself when not distributed."""
    if not info.enabled:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t.item()) / info.world_size


def gather_objects(obj: Any, info: DistInfo) -> list[Any]:
    """Every rank's ``obj``, in rank order, on every rank (a collective call)."""
    if not info.enabled:
        return [obj]
    out: list[Any] = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: Any, info: DistInfo) -> Any:
    """Rank 0's ``obj`` on every rank (a collective call)."""
    if not info.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()
