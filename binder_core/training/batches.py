"""The trainer's data side: which types to train, how many steps, and the stream of batches.

The data position is counted in micro-batches per epoch. Every rank draws its micro-batches in
step; a rank whose shard runs out restarts it until every rank has run out, which ends the epoch
on all ranks at once (so uneven shards never hang). Resume rebuilds the epoch's stream, skips the
consumed micro-batches and then restores the RNG states, so the losses that follow are those of
an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from binder_core.contract.errors import ConfigError
from binder_core.contract.schema import MANIFEST_NAME, open_dataset
from binder_core.data.collate import Batch
from binder_core.data.config import DataConfig
from binder_core.data.dataset import ParquetWindowDataset
from binder_core.data.type_descriptions import (
    check_labels,
    read_type_descriptions,
    resolve_type_descriptions,
)
from binder_core.data.windows import WindowMeta
from binder_core.model.model_dir import TrainingProvenance
from binder_core.training import distributed as dist_utils
from binder_core.training.checkpoint import TrainerState, restore_rng_state
from binder_core.training.config import TrainConfig
from binder_core.training.distributed import DistInfo
from binder_core.training.generalization import mention_augmenter, step_budget

logger = logging.getLogger(__name__)

MetaBatch = tuple[Batch, list[WindowMeta]]


def resolve_labels(config: TrainConfig) -> tuple[tuple[str, ...], DataConfig]:
    """Types from --labels (checked against the data), else the data's, else --types'.

    Training on a subset of the data's types ignores the spans of the others.
    """
    _, meta = open_dataset(config.train_dir)
    data_config = config.data
    if config.labels:
        if meta.labels:
            check_labels(config.labels, meta.labels, f"--labels (types of {config.train_dir})")
        if set(meta.labels) - set(config.labels):
            data_config = replace(data_config, unknown_labels="ignore")
            logger.info("training on %s only; other types are ignored", config.labels)
        return tuple(config.labels), data_config
    if meta.labels:
        return tuple(meta.labels), data_config
    if config.types_file:
        described = read_type_descriptions(resolve_type_descriptions(config.types_file))
        return tuple(described), data_config
    raise ConfigError(
        f"{config.train_dir}: the data names no entity types; give them with --labels or --types"
    )


def training_dataset(
    config: TrainConfig,
    tokenizer: Any,
    data_config: DataConfig,
    labels: tuple[str, ...],
    info: DistInfo,
    mention_terms: Mapping[str, Sequence[str]] | None,
) -> ParquetWindowDataset:
    """This rank's shuffled training windows, with the run's data options (empty windows kept,
    length grouping, mention replacement and masking)."""
    return ParquetWindowDataset(
        config.train_dir, tokenizer, data_config, labels,
        max_span_width_tokens=config.encoder_config.max_span_width_tokens, shuffle=True,
        rank=info.rank, world_size=info.world_size,
        keep_empty_windows=float(config.keep_empty_windows),  # type: ignore[arg-type]
        length_groups=(config.batch_size, int(config.length_grouping)),  # type: ignore[arg-type]
        document_transform=mention_augmenter(
            config.replace_mentions, config.mask_mentions, tokenizer, mention_terms, config.seed
        ),
    )  # fmt: skip


def count_steps(
    config: TrainConfig, dataset: ParquetWindowDataset, info: DistInfo, device: torch.device
) -> int:
    """The step budget (:func:`step_budget`): max_steps, or epochs or max_passes x optimizer
    steps per epoch (counted on each rank's shard), whichever is least."""
    if config.epoch_limit is None and config.max_passes is None:
        assert config.max_steps is not None
        return config.max_steps
    logger.info("counting training windows (give --max-steps to skip this pass)")
    readers = max(1, config.num_workers)
    batches = 0
    for worker in range(readers):
        reader = info.rank * readers + worker
        n = sum(1 for _ in dataset.iter_windows(reader, info.world_size * readers))
        batches += math.ceil(n / config.batch_size)
    batches = dist_utils.max_over_ranks(batches, info, device)
    if batches == 0:
        raise ConfigError(f"{config.train_dir}: no training windows")
    steps = step_budget(
        batches, config.grad_accumulation, epochs=config.epoch_limit,
        max_steps=config.max_steps, max_passes=config.max_passes,
    )  # fmt: skip
    if config.max_passes is not None:
        logger.info("step budget: %d steps (%d micro-batches a pass)", steps, batches)
    return steps


@dataclass(frozen=True)
class BatchStream:
    """This rank's micro-batches, epoch after epoch, from a data position."""

    dataset: ParquetWindowDataset
    config: TrainConfig
    info: DistInfo
    device: torch.device

    def _loader(self, epoch: int) -> DataLoader:
        self.dataset.set_epoch(epoch)
        generator = torch.Generator()
        generator.manual_seed(self.config.seed * 1000 + epoch)
        return DataLoader(
            self.dataset,
            batch_size=self.config.batch_size,
            collate_fn=self.dataset.collate_fn(),
            num_workers=self.config.num_workers,
            generator=generator,
        )

    def _cycle(self, epoch: int) -> Iterator[tuple[MetaBatch, bool]]:
        """This rank's batches of ``epoch``, then again from the start, flagged as repeats."""
        repeat = False
        while True:
            count = 0
            for batch in self._loader(epoch):
                count += 1
                yield batch, repeat
            if count == 0:
                raise ConfigError(
                    f"{self.config.train_dir}: rank {self.info.rank} got no training windows; "
                    "use fewer processes or more documents"
                )
            if not self.info.enabled:
                return
            repeat = True

    def batches(
        self, state: TrainerState, resume_rng: dict[str, Any] | None
    ) -> Iterator[tuple[int, int, MetaBatch]]:
        """(epoch, micro-batches consumed in it, batch), from the data position of ``state``.

        Restores ``resume_rng`` once the stream is back in position.
        """
        epoch, skip = state.epoch, state.batches_in_epoch
        rng = resume_rng
        while self.config.epoch_limit is None or epoch < self.config.epoch_limit:
            batches = self._cycle(epoch)
            for _ in range(skip):
                next(batches)
            if rng is not None:
                restore_rng_state(rng)
                rng = None
            consumed = skip
            for batch, repeat in batches:
                if not dist_utils.any_rank(not repeat, self.info, self.device):
                    break  # every rank has seen its whole shard
                consumed += 1
                yield epoch, consumed, batch
            epoch, skip = epoch + 1, 0


class Lookahead:
    """An iterator that can say whether another item follows (to know the last micro-batch)."""

    _EMPTY = object()

    def __init__(self, items: Iterator[Any]) -> None:
        self._items = items
        self._next: Any = self._EMPTY

    def has_next(self) -> bool:
        if self._next is self._EMPTY:
            self._next = next(self._items, self._EMPTY)
        return self._next is not self._EMPTY

    def next(self) -> Any:
        if not self.has_next():
            raise StopIteration
        item, self._next = self._next, self._EMPTY
        return item


def training_provenance(train_dir: str, command: str = "") -> TrainingProvenance:
    """What the model card says about the training data: its path, dictionary fingerprint,
    manifest hash and document count, and whether its labels are silver."""
    _, meta = open_dataset(train_dir)
    manifest = manifest_path(train_dir)
    sha, documents, silver = "", None, bool(meta.dictionary_fingerprint)
    options: dict[str, Any] = {}
    if manifest is not None:
        raw = manifest.read_bytes()
        sha = hashlib.sha256(raw).hexdigest()
        try:
            parsed = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            parsed = {}
        counts = parsed.get("counts", {}) if isinstance(parsed, dict) else {}
        rows = counts.get("rows", counts.get("documents")) if isinstance(counts, dict) else None
        documents = rows if isinstance(rows, int) else None
        found = parsed.get("options") if isinstance(parsed, dict) else None
        options = dict(found) if silver and isinstance(found, dict) else {}
    return TrainingProvenance(
        train_data=str(train_dir),
        dictionary_fingerprint=meta.dictionary_fingerprint,
        manifest_sha256=sha,
        documents=documents,
        silver=silver,
        command=command,
        silver_options=options,
    )


def manifest_path(data: str | os.PathLike[str]) -> Path | None:
    """The ``_manifest.json`` of a data folder (or of a Parquet file's folder), if it has one."""
    p = Path(data)
    candidate = (p if p.is_dir() else p.parent) / MANIFEST_NAME
    return candidate if candidate.is_file() else None
