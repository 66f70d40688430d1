"""From Parquet shards to batches: a streaming window data set and the collate function.

The data set never holds more than one record batch of documents plus the shuffle buffer, so a
folder of any size trains in bounded memory. Windows, word candidates and span placement live in
:mod:`binder_core.windows`; type descriptions in :mod:`binder_core.types`. Both are re-exported
here, so ``binder_core.data`` is the one import the trainer and the predictor need.

Batch (``collate``): B windows, L = the batch's longest window, K types::

    input_ids        (B, L)     long  [CLS] content [SEP] [PAD]...
    attention_mask   (B, L)     long
    start_mask       (B, L)     bool  candidate starts (first token of a word, and gold starts)
    end_mask         (B, L)     bool  candidate ends (last token of a word, and gold ends)
    span_mask        (B, L, W)  bool  the span band: [b, i, w] is tokens i..i+w (w < W =
                                      max_span_width_tokens), a candidate when start_mask[i]
                                      & end_mask[i + w] & i + w < L
    start_labels     (B, K, L)  bool  end_labels (B, K, L), span_labels (B, K, L, W): gold
    start_uncertain  (B, K, L)  bool  end_uncertain, span_uncertain (B, K, L, W): not negatives
                                      for type k; never True where the matching labels are True
    offsets          (B, L, 2)  long  document characters [start, end); (0, 0) for special/pad
    window_index     (B,)       long  WindowMeta.window_index

A gold span wider than W tokens has no cell in the band: it is not a span positive (its start and
end tokens still are start/end positives). :class:`ParquetWindowDataset` counts such spans and
logs one warning per data set.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from torch.utils.data import IterableDataset, get_worker_info

from binder_core.errors import ConfigError
from binder_core.schema import open_dataset
from binder_core.types import (
    TypeInputs,
    build_type_inputs,
    builtin_type_descriptions,
    load_type_descriptions,
    read_type_descriptions,
    resolve_type_descriptions,
)
from binder_core.windows import (
    WORD_PATTERN,
    DataConfig,
    TokenizedDocument,
    TokenSpan,
    WindowExample,
    WindowMeta,
    build_window,
    check_tokenizer,
    count_wide_spans,
    document_token_spans,
    document_windows,
    split_words,
    tokenize_documents,
    window_meta,
    window_ranges,
    windows_for_text,
    windows_for_texts,
)

__all__ = [
    "WORD_PATTERN",
    "Collator",
    "DataConfig",
    "ParquetWindowDataset",
    "ShardBy",
    "TokenSpan",
    "TokenizedDocument",
    "TypeInputs",
    "WindowExample",
    "WindowMeta",
    "build_type_inputs",
    "build_window",
    "builtin_type_descriptions",
    "collate",
    "count_wide_spans",
    "document_windows",
    "load_type_descriptions",
    "read_type_descriptions",
    "resolve_type_descriptions",
    "shuffle_buffer",
    "split_words",
    "tokenize_documents",
    "window_ranges",
    "windows_for_text",
    "windows_for_texts",
]

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
        shuffle: bool = True,
        rank: int | None = None,
        world_size: int | None = None,
        shard_by: ShardBy = "document",
        read_batch_rows: int = 64,
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
        self.pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
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
        return Collator(self.num_labels, self.config.max_span_width_tokens, self.pad_id)

    def __iter__(self) -> Iterator[WindowExample]:
        info = get_worker_info()
        worker, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        reader = self.rank * num_workers + worker
        readers = self.world_size * num_workers
        examples = self.iter_windows(reader, readers)
        if self.shuffle:
            rng = np.random.default_rng([self.config.seed, self.epoch, reader])
            examples = shuffle_buffer(examples, self.config.shuffle_buffer_size, rng)
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
                    wide += count_wide_spans(window.gold_spans, self.config.max_span_width_tokens)
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
                    self.config.max_span_width_tokens,
                )  # fmt: skip

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


@dataclass(frozen=True)
class Collator:
    """``collate`` with its options bound, for ``DataLoader(collate_fn=...)``."""

    num_labels: int
    max_span_width_tokens: int = 30
    pad_token_id: int = 0

    def __call__(
        self, examples: Sequence[WindowExample]
    ) -> tuple[dict[str, torch.Tensor], list[WindowMeta]]:
        return collate(examples, self.num_labels, self.max_span_width_tokens, self.pad_token_id)


def collate(
    examples: Sequence[WindowExample],
    num_labels: int,
    max_span_width_tokens: int = 30,
    pad_token_id: int = 0,
) -> tuple[dict[str, torch.Tensor], list[WindowMeta]]:
    """Pad windows to the longest one and expand their spans into masks (see module docstring).

    Returns ``(batch, meta)`` with ``meta[b]`` describing window ``b``.
    """
    if not examples:
        raise ValueError("collate needs at least one window")
    if max_span_width_tokens < 1:
        raise ValueError(f"max_span_width_tokens must be positive, got {max_span_width_tokens}")
    B, L, K = len(examples), max(len(e.input_ids) for e in examples), num_labels
    input_ids = torch.full((B, L), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((B, L), dtype=torch.long)
    offsets = torch.zeros((B, L, 2), dtype=torch.long)
    start_mask = torch.zeros((B, L), dtype=torch.bool)
    end_mask = torch.zeros((B, L), dtype=torch.bool)
    for b, example in enumerate(examples):
        n = len(example.input_ids)
        input_ids[b, :n] = torch.tensor(example.input_ids)
        attention_mask[b, :n] = 1
        offsets[b, :n] = torch.tensor(example.offsets)
        start_mask[b, :n] = torch.tensor(example.start_candidates)
        end_mask[b, :n] = torch.tensor(example.end_candidates)

    gold = _batch_rows(examples, "gold_spans", 3, K)  # (G, 4): b, k, start, end
    unsure = _batch_rows(examples, "uncertain_spans", 3, K)  # (U, 4)
    unsure_starts = _batch_rows(examples, "uncertain_starts", 2, K)  # (S, 3): b, k, position
    unsure_ends = _batch_rows(examples, "uncertain_ends", 2, K)  # (E, 3)

    W = max_span_width_tokens
    start_labels = torch.zeros((B, K, L), dtype=torch.bool)
    end_labels = torch.zeros((B, K, L), dtype=torch.bool)
    span_labels = torch.zeros((B, K, L, W), dtype=torch.bool)
    gb, gk, gs, ge = gold.unbind(1)
    start_labels[gb, gk, gs] = True
    end_labels[gb, gk, ge] = True
    start_mask[gb, gs] = True  # gold boundaries are candidates even when not word-aligned
    end_mask[gb, ge] = True
    narrow = ge - gs < W  # wider gold spans have no cell in the band
    span_labels[gb[narrow], gk[narrow], gs[narrow], (ge - gs)[narrow]] = True

    ends = torch.arange(L)[:, None] + torch.arange(W)[None, :]  # (L, W): i + w
    inside = ends < L
    span_mask = start_mask[:, :, None] & end_mask[:, ends.clamp(max=L - 1)] & inside  # (B, L, W)

    start_uncertain = torch.zeros((B, K, L), dtype=torch.bool)
    end_uncertain = torch.zeros((B, K, L), dtype=torch.bool)
    span_uncertain = torch.zeros((B, K, L, W), dtype=torch.bool)
    ub, uk, us, ue = unsure.unbind(1)
    unsure_narrow = ue - us < W  # wider ones are not candidates: nothing to exclude
    span_uncertain[
        ub[unsure_narrow], uk[unsure_narrow], us[unsure_narrow], (ue - us)[unsure_narrow]
    ] = True
    start_uncertain[unsure_starts[:, 0], unsure_starts[:, 1], unsure_starts[:, 2]] = True
    end_uncertain[unsure_ends[:, 0], unsure_ends[:, 1], unsure_ends[:, 2]] = True
    # gold wins: a cell that is gold is never uncertain (indexing, not a full (B, K, L, W) pass)
    start_uncertain[gb, gk, gs] = False
    end_uncertain[gb, gk, ge] = False
    span_uncertain[gb[narrow], gk[narrow], gs[narrow], (ge - gs)[narrow]] = False

    batch = {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "start_mask": start_mask,
        "end_mask": end_mask,
        "span_mask": span_mask,
        "start_labels": start_labels,
        "end_labels": end_labels,
        "span_labels": span_labels,
        "start_uncertain": start_uncertain,
        "end_uncertain": end_uncertain,
        "span_uncertain": span_uncertain,
        "offsets": offsets,
        "window_index": torch.tensor([ex.meta.window_index for ex in examples], dtype=torch.long),
    }
    return batch, [ex.meta for ex in examples]


def _batch_rows(
    examples: Sequence[WindowExample], field: str, width: int, num_labels: int
) -> torch.Tensor:
    """Stack one (m, width) array per window into (sum m, 1 + width), the window index first."""
    parts: list[npt.NDArray[np.int64]] = [np.zeros((0, 1 + width), dtype=np.int64)]
    for b, example in enumerate(examples):
        rows = getattr(example, field)
        if len(rows):
            parts.append(np.column_stack([np.full(len(rows), b, dtype=np.int64), rows]))
    stacked = np.concatenate(parts)
    if len(stacked) and not 0 <= stacked[:, 1].min() <= stacked[:, 1].max() < num_labels:
        raise ValueError(f"{field}: label id outside [0, {num_labels})")
    return torch.tensor(stacked, dtype=torch.long)
