"""From Parquet shards to windows: a streaming window data set that trains in bounded memory.

The data set never holds more than one record batch of documents plus the shuffle buffer, so a
folder of any size trains in bounded memory. Windows, word candidates and span placement live in
:mod:`binder_core.data.windows`; batches of windows become tensors in
:mod:`binder_core.data.collate`.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from torch.utils.data import IterableDataset, get_worker_info

from binder_core.contract.errors import ConfigError
from binder_core.contract.schema import open_dataset
from binder_core.data.batching import pad_token_id
from binder_core.data.collate import Collator
from binder_core.data.config import DataConfig
from binder_core.data.windows import (
    TokenizedDocument,
    WindowExample,
    build_window,
    check_tokenizer,
    count_wide_spans,
    document_token_spans,
    tokenize_documents,
    window_meta,
    window_ranges,
)

_LOG = logging.getLogger(__name__)

T = TypeVar("T")
ShardBy = Literal["document", "window", "row_group"]
_COLUMNS = ["doc_id", "text", "spans"]


def shuffle_buffer(items: Iterable[T], size: int, rng: np.random.Generator) -> Iterator[T]:
    """Yield ``items`` in a locally shuffled order, holding at most ``size`` of them.

    Once the buffer is full, each new item replaces a uniformly drawn one, which is yielded.
    """
    buffer: list[T] = []
    for item in items:
        if len(buffer) < size:
            buffer.append(item)
            continue
        j = int(rng.integers(size))
        yield buffer[j]
        buffer[j] = item
    for j in rng.permutation(len(buffer)):
        yield buffer[int(j)]


def group_by_length(
    windows: Iterable[WindowExample], batch_size: int, batches_per_group: int,
    rng: np.random.Generator,
) -> Iterator[WindowExample]:  # fmt: skip
    """Reorder a window stream so that each run of ``batch_size`` windows has similar lengths.

    Windows are taken ``batch_size * batches_per_group`` at a time, sorted by length, cut into
    batches, and the batches of the group are yielded in a random order: a batch pads to its
    longest window, so less padding means fewer wasted tokens (the "megabatch" grouping of
    length-grouped samplers). ``batches_per_group <= 1`` keeps the stream as it is.
    """
    if batches_per_group <= 1:
        yield from windows
        return
    group: list[WindowExample] = []

    def flush() -> Iterator[WindowExample]:
        ordered = sorted(group, key=lambda w: len(w.input_ids))
        batches = [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]
        for j in rng.permutation(len(batches)):
            yield from batches[int(j)]

    for window in windows:
        group.append(window)
        if len(group) == batch_size * batches_per_group:
            yield from flush()
            group = []
    if group:
        yield from flush()


class ParquetWindowDataset(IterableDataset[WindowExample]):
    """Windows of the documents in a Parquet file or folder of shards, streamed.

    Sharding: reader ``s = rank * num_workers + worker`` of ``n = world_size * num_workers``
    takes what has a stream index equal to ``s`` modulo ``n``, which partitions the data exactly:

    - ``shard_by="document"`` (default): documents. Each reader tokenizes only its documents
      (but decodes every record batch).
    - ``shard_by="row_group"``: Parquet row groups. Each reader reads only its row groups: the
      choice for very large data sets with many row groups; counts per reader are uneven.
    - ``shard_by="window"``: windows. Counts per reader differ by at most one, but every reader
      reads and tokenizes everything.

    With ``document``/``row_group`` the number of windows per rank differs, so a DDP loop must
    not assume equal batch counts (train for a step count, or join). ``WindowMeta.window_index``
    is ``local_count * n + s``: unique and deterministic; with ``window`` (or one reader) it is
    the window's index in the stream. ``WindowMeta.doc_index`` is the document's row in the
    stream (file order, or the epoch's row-group order when shuffling).

    ``length_groups = (batch_size, n)`` with n > 1 reorders the shuffled stream so that each
    DataLoader batch holds windows of similar length (:func:`group_by_length`).
    ``document_transform(document, epoch)`` rewrites each document before it is tokenized
    (training only: mention replacement and masking, :mod:`binder_core.data.mentions`).
    ``keep_empty_windows`` is the share of windows without a labelled (non-uncertain) span that
    are yielded, drawn afresh each epoch (training on silver data: a window the dictionary
    labels nothing in is mostly unlabelled entities and text, not known negatives). Scoring
    keeps every window.

    Order: row groups in file order, or, with ``shuffle=True``, in an order drawn from
    ``(seed, epoch)`` (the same for every reader), then a shuffle buffer seeded with
    ``(seed, epoch, s)``. Same seed and epoch give the same order. Call :meth:`set_epoch`
    before each epoch (with DataLoader ``persistent_workers=False``, the default).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        tokenizer: Any,
        config: DataConfig | None = None,
        labels: Sequence[str] | None = None,
        *,
        max_span_width_tokens: int,
        shuffle: bool = True,
        rank: int | None = None,
        world_size: int | None = None,
        shard_by: ShardBy = "document",
        read_batch_rows: int = 64,
        keep_empty_windows: float = 1.0,
        length_groups: tuple[int, int] = (1, 1),
        document_transform: Callable[[Mapping[str, Any], int], dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.config = config or DataConfig()
        self.shards, self.metadata = open_dataset(path)
        self.labels: tuple[str, ...] = tuple(labels) if labels is not None else self.metadata.labels
        if not self.labels:
            raise ConfigError(
                f"{path}: the data names no entity types in its metadata; give the types explicitly"
            )
        if len(set(self.labels)) != len(self.labels):
            raise ConfigError(f"duplicate entity types in {list(self.labels)}")
        self.label_ids = {label: i for i, label in enumerate(self.labels)}
        self.tokenizer = tokenizer
        self.cls_id, self.sep_id = check_tokenizer(tokenizer)
        self.pad_id = pad_token_id(tokenizer)
        self.max_span_width_tokens = max_span_width_tokens  # the model's band width
        self.shuffle = shuffle
        self.rank, self.world_size = _distributed(rank, world_size)
        if shard_by not in ("document", "window", "row_group"):
            raise ConfigError(
                f"shard_by must be 'document', 'row_group' or 'window', got {shard_by!r}"
            )
        self.shard_by: ShardBy = shard_by
        if read_batch_rows < 1:
            raise ConfigError(f"read_batch_rows must be positive, got {read_batch_rows}")
        self.read_batch_rows = read_batch_rows
        if not 0.0 <= keep_empty_windows <= 1.0:
            raise ConfigError(f"keep_empty_windows must be in [0, 1], got {keep_empty_windows}")
        self.keep_empty_windows = keep_empty_windows
        self.length_groups = length_groups  # (batch size, batches per group), after shuffling
        self.document_transform = document_transform
        self.epoch = 0
        self.path = str(path)
        self.wide_gold_spans = 0
        """Gold spans wider than max_span_width_tokens in the windows of the latest pass."""
        self._warned_wide = False
        self._row_groups: list[tuple[Path, int, int]] = []  # (shard, row group, rows)
        for shard in self.shards:
            footer = pq.ParquetFile(shard).metadata
            self._row_groups.extend(
                (shard, group, footer.row_group(group).num_rows)
                for group in range(footer.num_row_groups)
            )

    @property
    def num_labels(self) -> int:
        """K: the number of entity types (label ids are positions in ``labels``)."""
        return len(self.labels)

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next iteration follows."""
        self.epoch = int(epoch)

    def collate_fn(self) -> Collator:
        """The collate function for a DataLoader over this data set (picklable)."""
        return Collator(
            self.num_labels, self.max_span_width_tokens, self.pad_id, self.config.pad_to_multiple
        )

    def __iter__(self) -> Iterator[WindowExample]:
        info = get_worker_info()
        worker, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        reader = self.rank * num_workers + worker
        readers = self.world_size * num_workers
        examples = self.iter_windows(reader, readers)
        if self.shuffle:
            rng = np.random.default_rng([self.config.seed, self.epoch, reader])
            examples = shuffle_buffer(examples, self.config.shuffle_buffer_size, rng)
            batch_size, per_group = self.length_groups
            examples = group_by_length(examples, batch_size, per_group, rng)
        yield from examples

    def iter_windows(self, reader: int = 0, readers: int = 1) -> Iterator[WindowExample]:
        """The windows of reader ``reader`` of ``readers``, before the shuffle buffer.

        Gold spans wider than ``max_span_width_tokens`` are counted over the windows read
        (:attr:`wide_gold_spans`) and reported in one warning per data set, when the pass ends
        or is abandoned.
        """
        local = 0
        stream_window = 0
        wide = 0
        complete = False
        try:
            for doc_index, doc, source, tokens in self._iter_documents(reader, readers):
                ranges = window_ranges(len(tokens.input_ids), self.config)
                token_spans = document_token_spans(
                    doc["doc_id"],
                    doc["text"],
                    doc["spans"],
                    tokens,
                    self.label_ids,
                    self.config.unknown_labels,
                    source=source,
                    uncertain_spans=self.config.uncertain_spans,
                )
                for i, token_range in enumerate(ranges):
                    if self.shard_by == "window":
                        stream_window += 1
                        if (stream_window - 1) % readers != reader:
                            continue
                    meta = window_meta(
                        doc["doc_id"],
                        doc_index,
                        doc["text"],
                        tokens,
                        ranges,
                        i,
                        local * readers + reader,
                    )
                    local += 1
                    window = build_window(
                        tokens, token_range, token_spans, self.cls_id, self.sep_id, meta
                    )
                    if not len(window.gold_spans) and not self._keep_empty(doc["doc_id"], i):
                        continue
                    wide += count_wide_spans(window.gold_spans, self.max_span_width_tokens)
                    yield window
            complete = True
        finally:
            self.wide_gold_spans = wide
            if wide and not self._warned_wide:
                self._warned_wide = True
                _LOG.warning(
                    "%s: %d gold span(s) in the %s windows read%s are wider than "
                    "max_span_width_tokens = %d tokens; they are left out of the span positives "
                    "(their start and end tokens still count). Raise max_span_width_tokens to "
                    "learn them.",
                    self.path, wide, local, "" if complete else " so far",
                    self.max_span_width_tokens,
                )  # fmt: skip

    def _keep_empty(self, doc_id: str, window_in_doc: int) -> bool:
        """Whether a window with no labelled span is kept this epoch: a draw from a hash of
        (seed, epoch, document, window), so every reader and a resumed run agree."""
        rate = self.keep_empty_windows
        if rate >= 1.0:
            return True
        if rate <= 0.0:
            return False
        key = f"{self.config.seed}:{self.epoch}:{doc_id}:{window_in_doc}".encode()
        draw = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2.0**64
        return draw < rate

    def count_windows(self) -> int:
        """Windows in the whole data set (one pass: reads and tokenizes every document)."""
        return sum(
            len(window_ranges(len(tokens.input_ids), self.config))
            for _, _, _, tokens in self._iter_documents(0, 1)
        )

    def _iter_documents(
        self, reader: int, readers: int
    ) -> Iterator[tuple[int, dict[str, Any], str, TokenizedDocument]]:
        """(stream row index, row, shard path, tokens) of the documents this reader tokenizes."""
        by_document = self.shard_by == "document" and readers > 1
        row = 0
        for position, (shard, group, num_rows) in enumerate(self._row_group_order()):
            if self.shard_by == "row_group" and position % readers != reader:
                row += num_rows
                continue
            parquet = pq.ParquetFile(shard)
            for batch in parquet.iter_batches(
                batch_size=self.read_batch_rows, row_groups=[group], columns=_COLUMNS
            ):
                first = row
                row += batch.num_rows
                rows = np.arange(first, row)
                if by_document:
                    rows = rows[rows % readers == reader]
                    if not len(rows):
                        continue
                    batch = batch.take(pa.array(rows - first))
                docs = batch.to_pylist()
                if self.document_transform is not None:
                    docs = [self.document_transform(d, self.epoch) for d in docs]
                tokens = tokenize_documents([d["text"] for d in docs], self.tokenizer)
                for index, doc, doc_tokens in zip(rows.tolist(), docs, tokens, strict=True):
                    yield index, doc, str(shard), doc_tokens

    def _row_group_order(self) -> list[tuple[Path, int, int]]:
        if not self.shuffle:
            return self._row_groups
        rng = np.random.default_rng([self.config.seed, self.epoch])
        return [self._row_groups[int(i)] for i in rng.permutation(len(self._row_groups))]


def _distributed(rank: int | None, world_size: int | None) -> tuple[int, int]:
    """(rank, world_size): the given ones, else torch.distributed's, else (0, 1)."""
    initialized = torch.distributed.is_available() and torch.distributed.is_initialized()
    if rank is None:
        rank = torch.distributed.get_rank() if initialized else 0
    if world_size is None:
        world_size = torch.distributed.get_world_size() if initialized else 1
    if world_size < 1 or not 0 <= rank < world_size:
        raise ConfigError(f"rank {rank} is not in [0, world_size={world_size})")
    return rank, world_size
