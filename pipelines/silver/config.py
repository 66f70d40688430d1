"""The options of a silver labeling run, Beam-free so the CLI reads their defaults cheaply.

Each default and help text is declared once, here (``binder_core.contract.options.option``); the
typer options of ``binder silver build/submit`` and the argparse flags of ``python -m
pipelines.silver.pipeline`` both read them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from binder_core.contract.errors import ConfigError
from binder_core.contract.options import Bounds, at_least, check_declared, option, same_option
from dictionaries.config import MatchOptions, Overlap
from pipelines.silver.labeling_config import LabelingConfig

CorpusFormat = Literal["text", "jsonl", "pubtator"]
CORPUS_FORMATS: tuple[str, ...] = get_args(CorpusFormat)


@dataclass(frozen=True)
class ReadConfig:
    """How to cut a corpus into records and records into documents."""

    format: CorpusFormat = option("text", "text: one document per line; jsonl; pubtator.")
    id_field: str = option("id", "JSONL id field (absent: a content hash).")
    text_field: str = option("text", "JSONL text field.")
    max_doc_bytes: int = option(
        10 * 1024 * 1024, "Larger records become dead letters.", bounds=at_least(1)
    )
    split_bytes: int = option(
        8 * 1024 * 1024, "Read uncompressed files in ranges of this size.", bounds=at_least(1)
    )  # target byte-range size for parallel reading
    batch_docs: int = 1024  # records per batch handed to the labeler (one staged piece per shard)
    allow_partial_files: bool = option(
        False,
        "Exit 0 even when a compressed input ends early or is damaged (its records up to the "
        "damage are kept, and the manifest lists it under partial_files).",
    )

    def __post_init__(self) -> None:
        if self.format not in CORPUS_FORMATS:
            raise ConfigError(f"unknown corpus format {self.format!r}; use one of {CORPUS_FORMATS}")
        if not self.id_field or not self.text_field:
            raise ConfigError("--id-field and --text-field must not be empty")
        if self.id_field == self.text_field:
            raise ConfigError(f"--id-field and --text-field are both {self.id_field!r}")
        check_declared(self)
        if self.batch_docs < 1:
            raise ConfigError(f"batch_docs must be at least 1, got {self.batch_docs}")


@dataclass(frozen=True)
class SilverConfig:
    """One labeling run: what to read, which dictionary, how to match, where to write."""

    inputs: tuple[str, ...]  # files or globs, local or remote
    dictionary: str  # a compiled dictionary (``binder dict compile``), local or remote
    output: str  # folder for shards, ``_dead_letters/`` and ``_manifest.json``
    read: ReadConfig = field(default_factory=ReadConfig)
    # how to match: the matcher's own options (dictionaries.config.MatchOptions)
    overlap: Overlap = same_option(MatchOptions, "overlap")
    fuzzy: bool = same_option(MatchOptions, "fuzzy")
    fuzzy_threshold: float = same_option(MatchOptions, "fuzzy_threshold")
    shards: int = option(
        4,
        "Number of Parquet shards (fixed file names). Each is sorted and encoded in memory, "
        "which takes several times its text: raise it for corpora of many GB.",
        bounds=Bounds(1, 100_000),
    )
    labeling: LabelingConfig = field(default_factory=LabelingConfig)  # abbreviations
    heldout_dictionary: str | None = option(
        None,
        "Compiled held-out dictionary (`binder dict split`): its matches that no typed span "
        "overlaps are written with origin dict_heldout.",
    )
    uncertain_dictionary: str | None = option(
        None,
        "Compiled broad lexicon: its matches that no other span overlaps are written as "
        "uncertain spans of every type (label '*'), so they are never negatives.",
    )

    def __post_init__(self) -> None:
        if not self.inputs:
            raise ConfigError("no corpus given; pass one or more files or globs")
        if not self.dictionary or not self.output:
            raise ConfigError("both a dictionary (--dict) and an output folder (--out) are needed")
        if self.overlap not in get_args(Overlap):
            raise ConfigError(f"--overlap must be one of {get_args(Overlap)}, got {self.overlap!r}")
        check_declared(self)
        if self.heldout_dictionary and self.heldout_dictionary == self.dictionary:
            raise ConfigError("--heldout-dict is the --dict itself; give the held-out part")

    def options(self) -> dict[str, Any]:
        """What changes the rows (saved in the Parquet metadata and the manifest)."""
        read = asdict(self.read)
        for rows_unchanged in ("split_bytes", "batch_docs", "allow_partial_files"):
            read.pop(rows_unchanged)
        labeling = asdict(self.labeling)
        for added_later in ("name_labels", "composite_mentions"):
            if not labeling[added_later]:  # so runs without them keep their metadata, byte for byte
                del labeling[added_later]
        return {
            **read,
            "overlap": self.overlap,
            "fuzzy": self.fuzzy,
            "fuzzy_threshold": self.fuzzy_threshold,
            "shards": self.shards,
            **labeling,
            "heldout_dictionary": self.heldout_dictionary is not None,
            "uncertain_dictionary": self.uncertain_dictionary is not None,
        }


@dataclass(frozen=True)
class LocalRunnerConfig:
    """A local run: ``workers`` processes on this machine, no network."""

    workers: int = option(1, "Local worker processes (1: in this process).", bounds=at_least(1))

    def __post_init__(self) -> None:
        check_declared(self)
