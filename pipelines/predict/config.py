"""The options of a prediction run, Beam-free so the CLI reads their defaults cheaply."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from binder_core.contract.errors import ConfigError
from binder_core.contract.options import check_declared, option, same_option
from binder_core.inference.options import Backend, InferenceOptions
from binder_core.model.config import Decoding
from pipelines.silver.config import ReadConfig, SilverConfig


@dataclass(frozen=True)
class PredictConfig:
    """One prediction run: what to read, which model, how to decode, where to write."""

    inputs: tuple[str, ...]  # files or globs, local or remote
    model: str  # an export folder or a model folder (local or remote); a local run folder too
    output: str  # folder for shards, ``_dead_letters/`` and ``_manifest.json``
    read: ReadConfig = field(default_factory=ReadConfig)
    # as ``binder silver build``: the same count keeps the silver set's order
    shards: int = same_option(SilverConfig, "shards")
    decoding: Decoding | None = same_option(InferenceOptions, "decoding")
    labels: tuple[str, ...] | None = None  # a subset of the model's types (default: all)
    backend: Backend = same_option(InferenceOptions, "backend")
    batch_size: int = same_option(InferenceOptions, "batch_size")
    threads: int | None = same_option(InferenceOptions, "threads")  # per worker
    link_dictionary: str | None = option(
        None,
        "A compiled dictionary: give each predicted span the concept id of the nearest "
        "dictionary concept of its type (none below the linker's threshold) and that name's "
        "cosine as its link_score.",
    )

    def __post_init__(self) -> None:
        if not self.inputs:
            raise ConfigError("no corpus given; pass one or more files or globs")
        if not self.model or not self.output:
            raise ConfigError("both a model (--model) and an output folder (--out) are needed")
        check_declared(self)
        InferenceOptions(
            decoding=self.decoding,
            batch_size=self.batch_size,
            backend=self.backend,
            threads=self.threads,
        )

    def options(self) -> dict[str, Any]:
        """What changes the rows (saved in the Parquet metadata and the manifest)."""
        read = asdict(self.read)
        for rows_unchanged in ("split_bytes", "batch_docs", "allow_partial_files"):
            read.pop(rows_unchanged)
        return {
            **read,
            "shards": self.shards,
            "decoding": self.decoding,
            "labels": list(self.labels) if self.labels else None,
            "backend": self.backend,
            "link_dictionary": self.link_dictionary,
        }
