"""A list of records that Beam passes between fused steps without measuring it.

Beam estimates the byte size of a sample of every PCollection's elements by encoding them with
the PCollection's coder. For batches of documents that means pickling thousands of texts and
spans that never leave the worker. :class:`Batch` has its own coder whose size estimate is a
constant-time guess; encoding (when a runner does move a batch) is a plain pickle.
"""

from __future__ import annotations

import pickle
from typing import Any

from apache_beam import coders

_BYTES_PER_ITEM_GUESS = 1024


class Batch(list):
    """A plain list of records (raw records, documents or labeled rows)."""


class BatchCoder(coders.Coder):
    """Pickles a :class:`Batch`; estimates its size without encoding it."""

    def encode(self, value: Batch) -> bytes:
        return pickle.dumps(list(value), protocol=pickle.HIGHEST_PROTOCOL)

    def decode(self, encoded: bytes) -> Batch:
        return Batch(pickle.loads(encoded))

    def is_deterministic(self) -> bool:
        return False

    def estimate_size(self, value: Any) -> int:
        return len(value) * _BYTES_PER_ITEM_GUESS

    def to_type_hint(self) -> type:
        return Batch


coders.registry.register_coder(Batch, BatchCoder)
