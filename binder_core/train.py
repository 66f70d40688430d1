"""The training loop: a generator of :class:`TrainEvent`, so the caller decides what to show.

``train(config)`` runs AdamW with linear warmup and decay, gradient clipping and accumulation,
AMP on CUDA (bf16, or fp16 with a GradScaler; full fp32 on CPU) and DDP when launched by
torchrun. Rank 0 writes everything under ``config.out_dir``::

    train_config.json   this TrainConfig
    metrics.jsonl       one JSON object per logged step ("train") and per dev evaluation ("eval")
    curves.png          training loss and dev F1
    checkpoints/        atomic checkpoints for --resume (see binder_core.checkpoint)
    best/               the model with the best dev F1 (the last one without dev data), as
                        save_model writes it, plus type_descriptions.json

The data position is counted in micro-batches per epoch. Every rank draws its micro-batches in
step; a rank whose shard runs out restarts it until every rank has run out, which ends the epoch
on all ranks at once (so uneven shards never hang). Resume rebuilds the epoch's stream, skips
the consumed micro-batches and then restores the RNG states, so the losses that follow are
those of an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from binder_core import distributed as dist_utils
from binder_core.checkpoint import (
    TrainerState,
    atomic_directory,
    capture_rng_state,
    latest_checkpoint,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)
from binder_core.data import (
    DataConfig,
    ParquetWindowDataset,
    TypeInputs,
    WindowMeta,
    build_type_inputs,
    load_type_descriptions,
    resolve_type_descriptions,
)
from binder_core.distributed import DistInfo
from binder_core.errors import ConfigError
from binder_core.evaluate import BEST_DIR, autocast_context, check_labels, score_dataset
from binder_core.losses import binder_loss
from binder_core.model import BinderModel, Scores, build_optimizer, save_model
from binder_core.plots import plot_curves, read_metrics
from binder_core.predict import pick_device
from binder_core.train_config import TrainConfig

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.jsonl"
CONFIG_FILE = "train_config.json"
CURVES_FILE = "curves.png"
Batch = tuple[dict[str, torch.Tensor], list[WindowMeta]]


@dataclass(frozen=True)
class TrainEvent:
    """What the loop reports; ``kind`` says which fields are set."""

    kind: Literal["start", "step", "eval", "done"]
    step: int
    total_steps: int
    epoch: int = 0
    loss: float | None = None  # "step": mean loss of the step's micro-batches (over ranks)
    lr: float | None = None  # "step": encoder learning rate
    metrics: dict[str, Any] = field(default_factory=dict)  # "eval": dev scores; "done": summary
    model: nn.Module | None = None  # "done": the trained model (last weights, not the best)


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None for full fp32. Reduced precision needs CUDA."""
    if device.type != "cuda":
        if amp in ("bf16", "fp16"):
            raise ConfigError(f"--amp {amp} needs a CUDA device; use --amp no on CPU")
        return None
    if amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "no": None}[amp]


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (each rank passes seed + rank)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class _TrainStep(nn.Module):
    """Types and windows in one forward, so DDP sees every parameter of the step."""

    def __init__(self, model: BinderModel) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        type_input_ids: torch.Tensor,
        type_attention_mask: torch.Tensor,
    ) -> Scores:
        types = self.model.encode_types(type_input_ids, type_attention_mask)
        return self.model(input_ids, attention_mask, types)


def train(config: TrainConfig) -> Iterator[TrainEvent]:
    """Train as ``config`` says, yielding a "start", one "step" per optimizer step, an "eval"
    per dev evaluation and a final "done" event. Joins a torchrun process group if there is one.
    """
    device = pick_device(config.device)
    info, created = dist_utils.init_distributed(device.type)
    if info.enabled and device.type == "cuda":
        device = torch.device("cuda", info.local_rank)
    try:
        yield from _Run(config, info, device).run()
    finally:
        dist_utils.shutdown(created)


class _Run:
    """One training run on one rank (the generator body of :func:`train`)."""

    def __init__(self, config: TrainConfig, info: DistInfo, device: torch.device) -> None:
        self.config = config
        self.info = info
        self.device = device
        self.run_dir = Path(config.out_dir)
        self.amp_dtype = resolve_amp(config.amp, device)

    # ------------------------------------------------------------------ setup
    def _setup(self) -> None:
        from transformers import AutoTokenizer, get_linear_schedule_with_warmup

        config = self.config
        self.checkpoint_path = self._check_run_dir()
        seed_everything(config.seed + self.info.rank)
        self.labels, self.data_config = self._resolve_labels()
        model_width = config.encoder_config.max_span_width_tokens
        if self.data_config.max_span_width_tokens != model_width:
            raise ConfigError(
                f"max_span_width_tokens differs between the model ({model_width}) and the data "
                f"({self.data_config.max_span_width_tokens}); the span band needs one width, "
                "set both to the same value"
            )
        self.descriptions = load_type_descriptions(
            resolve_type_descriptions(config.types_file) if config.types_file else None,
            self.labels,
        )
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(config.encoder_config.encoder)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot load a tokenizer from {config.encoder_config.encoder!r} "
                f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
                "pass a local Hugging Face model directory with --model"
            ) from None
        self.types: TypeInputs = build_type_inputs(self.tokenizer, self.labels, self.descriptions)
        self.model = BinderModel(config.encoder_config).to(self.device)
        self.step_module: nn.Module = _TrainStep(self.model)
        if self.info.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.step_module = nn.parallel.DistributedDataParallel(self.step_module, ids)
        self.optimizer = build_optimizer(self.model, config.lr, config.head_lr, config.weight_decay)
        self.dataset = ParquetWindowDataset(
            config.train_dir, self.tokenizer, self.data_config, self.labels, shuffle=True,
            rank=self.info.rank, world_size=self.info.world_size,
        )  # fmt: skip
        self.total_steps = self._total_steps()
        warmup = round(config.warmup_ratio * self.total_steps)
        self.scheduler = get_linear_schedule_with_warmup(self.optimizer, warmup, self.total_steps)
        fp16 = self.amp_dtype == torch.float16
        self.scaler = torch.amp.GradScaler("cuda") if fp16 else None

    def _check_run_dir(self) -> Path | None:
        """The checkpoint to resume from; refuse to overwrite a run without --resume."""
        config_file = self.run_dir / CONFIG_FILE
        checkpoint = latest_checkpoint(self.run_dir)
        if not self.config.resume:
            if config_file.exists():
                raise ConfigError(
                    f"{self.run_dir} already holds a training run; pass --resume to continue it "
                    "or choose another --out"
                )
            return None
        if config_file.exists():
            saved = TrainConfig.from_dict(json.loads(config_file.read_text()))
            changed = saved.resume_conflicts(self.config)
            if changed:
                raise ConfigError(
                    f"{config_file}: --resume with different settings {changed}; resume with "
                    "the same options (only max_steps, epochs, patience, eval/save/log "
                    "intervals and workers may change)"
                )
        if checkpoint is None:
            logger.warning("%s: no checkpoint to resume from; starting from step 0", self.run_dir)
        return checkpoint

    def _resolve_labels(self) -> tuple[tuple[str, ...], DataConfig]:
        """Types from --labels (checked against the data), else the data's, else --types'."""
        from binder_core.data import read_type_descriptions
        from binder_core.schema import open_dataset

        config = self.config
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
            return tuple(read_type_descriptions(resolve_type_descriptions(config.types_file))), (
                data_config
            )
        raise ConfigError(
            f"{config.train_dir}: the data names no entity types; give them with --labels "
            "or --types"
        )

    def _total_steps(self) -> int:
        """max_steps, or epochs x optimizer steps per epoch (counted on each rank's shard)."""
        config = self.config
        if config.epoch_limit is None:
            assert config.max_steps is not None
            return config.max_steps
        logger.info("counting training windows (give --max-steps to skip this pass)")
        readers = max(1, config.num_workers)
        batches = 0
        for worker in range(readers):
            reader = self.info.rank * readers + worker
            n = sum(1 for _ in self.dataset.iter_windows(reader, self.info.world_size * readers))
            batches += math.ceil(n / config.batch_size)
        batches = dist_utils.max_over_ranks(batches, self.info, self.device)
        if batches == 0:
            raise ConfigError(f"{config.train_dir}: no training windows")
        steps = config.epoch_limit * math.ceil(batches / config.grad_accumulation)
        return min(steps, config.max_steps) if config.max_steps is not None else steps

    # ------------------------------------------------------------------ data
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

    def _cycle(self, epoch: int) -> Iterator[tuple[Batch, bool]]:
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

    def _stream(self, state: TrainerState) -> Iterator[tuple[int, int, Batch]]:
        """(epoch, micro-batches consumed in it, batch), from the data position of ``state``.

        Restores the RNG states of a resumed run once its stream is back in position.
        """
        epoch, skip = state.epoch, state.batches_in_epoch
        rng = self._resume_rng
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

    # ------------------------------------------------------------------ loop
    def run(self) -> Iterator[TrainEvent]:
        self._setup()
        state = self._restore()
        config = self.config
        if self.info.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            (self.run_dir / CONFIG_FILE).write_text(json.dumps(config.to_dict(), indent=2) + "\n")
            self._trim_metrics(state.step)
        yield TrainEvent("start", state.step, self.total_steps, state.epoch)

        stream = _Lookahead(self._stream(state))
        self.step_module.train()
        stop_early = False
        last_eval_step = -1
        started, eval_seconds, tokens = time.perf_counter(), 0.0, 0
        while state.step < self.total_steps and not stop_early and stream.has_next():
            losses: list[float] = []
            windows = 0
            for micro in range(config.grad_accumulation):
                epoch, consumed, (batch, _) = stream.next()
                last = micro == config.grad_accumulation - 1 or not stream.has_next()
                losses.append(self._forward_backward(batch, sync=last))
                windows += int(batch["input_ids"].size(0))
                tokens += int(batch["attention_mask"].sum())
                state = replace(state, epoch=epoch, batches_in_epoch=consumed)
                if last:
                    break
            # a short last accumulation (end of data) still averages over its micro-batches
            scale = config.grad_accumulation / len(losses)
            self._optimizer_step(scale)
            loss = self._mean_over_ranks(sum(losses) / len(losses))
            state = replace(
                state,
                step=state.step + 1,
                windows_seen=state.windows_seen
                + dist_utils.sum_over_ranks(windows, self.info, self.device),
            )
            lr = float(self.scheduler.get_last_lr()[0])
            if config.log_every and state.step % config.log_every == 0:
                self._log({"kind": "train", "step": state.step, "epoch": state.epoch,
                           "loss": loss, "lr": lr, "windows": state.windows_seen})  # fmt: skip
            yield TrainEvent("step", state.step, self.total_steps, state.epoch, loss, lr)
            if config.dev_dir and config.eval_every and state.step % config.eval_every == 0:
                eval_started = time.perf_counter()
                state, stop_early, metrics = self._evaluate(state)
                eval_seconds += time.perf_counter() - eval_started
                last_eval_step = state.step
                yield TrainEvent("eval", state.step, self.total_steps, state.epoch, metrics=metrics)
            if config.save_every and state.step % config.save_every == 0:
                self._save_checkpoint(state)

        train_seconds = time.perf_counter() - started - eval_seconds
        if config.dev_dir and last_eval_step != state.step:
            eval_started = time.perf_counter()
            state, _, metrics = self._evaluate(state)
            eval_seconds += time.perf_counter() - eval_started
            yield TrainEvent("eval", state.step, self.total_steps, state.epoch, metrics=metrics)
        if not config.dev_dir:
            self._save_best(state, {})
        if config.save_every and state.step % config.save_every != 0:
            self._save_checkpoint(state)  # the end state, so --resume with more steps continues
        summary = {
            "best_f1": state.best_metric,
            "best_step": state.best_step,
            "stopped_early": stop_early,
            "windows": state.windows_seen,
            **self._cost_summary(train_seconds, eval_seconds, tokens),
        }
        self._log({"kind": "summary", "step": state.step, **summary})
        self._plot()
        dist_utils.barrier(self.info)
        yield TrainEvent("done", state.step, self.total_steps, state.epoch, metrics=summary,
                         model=self.model)  # fmt: skip

    def _cost_summary(self, train_seconds: float, eval_seconds: float, tokens: int) -> dict:
        """Wall time, throughput and peak memory of this run (tokens summed over ranks).

        Times and throughput cover this invocation only (a resumed run counts from its resume).
        """
        tokens = dist_utils.sum_over_ranks(tokens, self.info, self.device)
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        out = {
            "train_seconds": round(train_seconds, 1),
            "eval_seconds": round(eval_seconds, 1),
            "train_tokens": tokens,
            "tokens_per_second": round(tokens / train_seconds, 1) if train_seconds > 0 else None,
            "peak_rss_mb": round(peak_rss_mb, 1),
        }
        if self.device.type == "cuda":
            out["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated(self.device) / 2**20, 1)
        return out

    def _forward_backward(self, batch: dict[str, torch.Tensor], sync: bool) -> float:
        """Loss of one micro-batch, backpropagated (scaled by 1 / grad_accumulation)."""
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        no_sync = getattr(self.step_module, "no_sync", None)
        context = no_sync() if (no_sync is not None and not sync) else contextlib.nullcontext()
        with context:
            with autocast_context(self.device, self.amp_dtype):
                scores = self.step_module(
                    batch["input_ids"],
                    batch["attention_mask"],
                    self.types.type_input_ids.to(self.device),
                    self.types.type_attention_mask.to(self.device),
                )
            loss = binder_loss(scores, batch, self.config.loss_weights).total
            scaled = loss / self.config.grad_accumulation
            if self.scaler is not None:
                self.scaler.scale(scaled).backward()
            else:
                scaled.backward()
        return float(loss.detach())

    def _optimizer_step(self, grad_scale: float) -> None:
        if grad_scale != 1.0:
            for p in self.model.parameters():
                if p.grad is not None:
                    p.grad.mul_(grad_scale)
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        if self.config.max_grad_norm > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.max_grad_norm)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    def _mean_over_ranks(self, value: float) -> float:
        if not self.info.enabled:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(t)
        return float(t.item()) / self.info.world_size

    # ------------------------------------------------------------------ eval, files
    def _evaluate(self, state: TrainerState) -> tuple[TrainerState, bool, dict[str, Any]]:
        """Score the dev data on rank 0, keep the best model, decide on early stopping."""
        metrics: dict[str, Any] = {}
        if self.info.is_main:
            scores, documents = score_dataset(
                self.model, self.tokenizer, self.types, self.config.dev_dir or "",
                self.data_config, decoding=self.config.decoding,
                batch_size=self.config.eval_batch_size, device=self.device,
                amp_dtype=self.amp_dtype,
            )  # fmt: skip
            metrics = {**scores.to_dict(), "documents": documents}
        metrics = dist_utils.broadcast_object(metrics, self.info)
        f1 = float(metrics["f1"])
        improved = state.best_metric is None or f1 > state.best_metric
        if improved:
            state = replace(state, best_metric=f1, best_step=state.step, evals_since_best=0)
            self._save_best(state, metrics)
        else:
            state = replace(state, evals_since_best=state.evals_since_best + 1)
        self._log({"kind": "eval", "step": state.step, "epoch": state.epoch, **metrics,
                   "best_f1": state.best_metric})  # fmt: skip
        self._plot()
        patience = self.config.patience
        stop = patience is not None and state.evals_since_best >= patience
        if stop:
            logger.info("early stop at step %d: no dev F1 gain in %d evaluations",
                        state.step, patience)  # fmt: skip
        return state, stop, metrics

    def _save_best(self, state: TrainerState, metrics: dict[str, Any]) -> None:
        if not self.info.is_main:
            return
        extra = {
            "labels": list(self.labels),
            "type_descriptions": self.descriptions,
            "data_config": self.data_config.to_dict(),
            "decoding": self.config.decoding,
            "step": state.step,
            "dev": {k: metrics[k] for k in ("precision", "recall", "f1") if k in metrics},
        }
        with atomic_directory(self.run_dir / BEST_DIR) as tmp:
            save_model(self.model, self.tokenizer, tmp, extra=extra)
            (tmp / "type_descriptions.json").write_text(
                json.dumps(self.descriptions, indent=2, ensure_ascii=False) + "\n"
            )

    def _save_checkpoint(self, state: TrainerState) -> None:
        rng = dist_utils.gather_objects(capture_rng_state(), self.info)
        if self.info.is_main:
            save_checkpoint(
                self.run_dir,
                state,
                model=self.model.state_dict(),
                optimizer=self.optimizer.state_dict(),
                scheduler=self.scheduler.state_dict(),
                scaler=self.scaler.state_dict() if self.scaler is not None else None,
                rng=rng,
                keep=self.config.keep_checkpoints,
            )
        dist_utils.barrier(self.info)

    def _restore(self) -> TrainerState:
        self._resume_rng: dict[str, Any] | None = None
        if self.checkpoint_path is None:
            return TrainerState()
        ckpt = load_checkpoint(self.checkpoint_path)
        self.model.load_state_dict(ckpt.model)
        self.optimizer.load_state_dict(ckpt.optimizer)
        self.scheduler.load_state_dict(ckpt.scheduler)
        if self.scaler is not None and ckpt.scaler is not None:
            self.scaler.load_state_dict(ckpt.scaler)
        if len(ckpt.rng) == self.info.world_size:
            self._resume_rng = ckpt.rng[self.info.rank]
        else:
            logger.warning("checkpoint has RNG states of %d ranks, this run has %d; reseeding",
                           len(ckpt.rng), self.info.world_size)  # fmt: skip
        logger.info("resuming from %s (step %d)", ckpt.path, ckpt.state.step)
        return ckpt.state

    def _log(self, record: dict[str, Any]) -> None:
        if self.info.is_main:
            with (self.run_dir / METRICS_FILE).open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")

    def _trim_metrics(self, step: int) -> None:
        """On resume, drop the records a killed run wrote after its last checkpoint."""
        path = self.run_dir / METRICS_FILE
        if not path.exists():
            return
        kept = [line for line in read_metrics(path) if line["step"] <= step]
        path.write_text("".join(json.dumps(r) + "\n" for r in kept))

    def _plot(self) -> None:
        path = self.run_dir / METRICS_FILE
        if self.info.is_main and path.exists():
            plot_curves(read_metrics(path), self.run_dir / CURVES_FILE)


class _Lookahead:
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
