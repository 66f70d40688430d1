"""The training loop: a generator of :class:`TrainEvent`, so the caller decides what to show.

``train(config)`` runs AdamW with linear warmup and decay, gradient clipping and accumulation,
AMP where :mod:`binder_core.model.device` allows it, and DDP when launched by torchrun. It reads top
to bottom: set up (:func:`_prepare`), restore a checkpoint, then one optimizer step per loop
iteration, with dev evaluation, early stopping and checkpoints at their intervals. The run
folder's files are written by :class:`binder_core.training.run_folder.RunFolder` (rank 0 only), the
batches come from :mod:`binder_core.training.batches`.
"""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from binder_core.contract.errors import ConfigError
from binder_core.contract.outputs import output_folder
from binder_core.data.config import DataConfig
from binder_core.data.dataset import ParquetWindowDataset
from binder_core.data.type_descriptions import load_type_descriptions, resolve_type_descriptions
from binder_core.inference.evaluate import score_dataset
from binder_core.inference.torch_backend import Predictor
from binder_core.model.bi_encoder import BinderModel, build_optimizer
from binder_core.model.device import cpu_has_native_bf16, pick_device, resolve_amp
from binder_core.model.encoders import check_encoder, load_encoder_config
from binder_core.model.model_dir import ModelInfo, TrainingProvenance
from binder_core.model.saved_model import save_pretrained
from binder_core.model.type_inputs import TypeInputs, build_type_inputs
from binder_core.training import distributed as dist_utils
from binder_core.training.batches import (
    BatchStream,
    Lookahead,
    count_steps,
    resolve_labels,
    training_dataset,
    training_provenance,
)
from binder_core.training.checkpoint import (
    TrainerState,
    capture_rng_state,
    load_checkpoint,
    save_checkpoint,
    seed_everything,
)
from binder_core.training.config import TrainConfig
from binder_core.training.distributed import DistInfo
from binder_core.training.generalization import Anchors, encoder_anchors, encoder_lr, pull_towards
from binder_core.training.run_folder import RunFolder
from binder_core.training.selection import improves, selection_score
from binder_core.training.step import NegativePolicy, TrainStep, forward_backward, optimizer_step

logger = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class _Setup:
    """Everything a run is built from (made once by :func:`_prepare`, never changed)."""

    labels: tuple[str, ...]
    data_config: DataConfig
    descriptions: dict[str, str]
    tokenizer: Any
    types: TypeInputs
    model: BinderModel
    step_module: nn.Module  # the model, DDP-wrapped when distributed
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: torch.amp.GradScaler | None
    dataset: ParquetWindowDataset
    total_steps: int
    amp_dtype: torch.dtype | None
    provenance: TrainingProvenance
    negatives: NegativePolicy
    anchors: Anchors  # pretrained encoder weights (empty unless encoder_anchor > 0)


def train(
    config: TrainConfig,
    *,
    command: str = "",
    mention_terms: Mapping[str, Sequence[str]] | None = None,
) -> Iterator[TrainEvent]:
    """Train as ``config`` says, yielding a "start", one "step" per optimizer step, an "eval"
    per dev evaluation and a final "done" event. Joins a torchrun process group if there is one.

    ``command`` (the command line) is recorded with the saved model; ``mention_terms`` (terms by
    type, ``dictionaries.terms_by_label`` of ``config.mention_dictionary``) feed mention
    replacement.
    """
    device = pick_device(config.device)
    info, created = dist_utils.init_distributed(device.type)
    if info.enabled and device.type == "cuda":
        device = torch.device("cuda", info.local_rank)
    try:
        if not info.is_main:
            yield from _run(config, info, device, command, mention_terms)
            return
        inputs = [config.train_dir, *([config.dev_dir] if config.dev_dir else [])]
        inputs += [path for _, path in config.monitored]
        with output_folder(config.out_dir, "run", inputs=inputs, command=command or None,
                           resume=True):  # fmt: skip
            yield from _run(config, info, device, command, mention_terms)
    finally:
        dist_utils.shutdown(created)


def _run(
    config: TrainConfig, info: DistInfo, device: torch.device, command: str,
    mention_terms: Mapping[str, Sequence[str]] | None,
) -> Iterator[TrainEvent]:  # fmt: skip
    provenance = training_provenance(config.train_dir, command)
    # fill the data-dependent defaults (silver data, and a CPU that computes bf16 natively)
    cpu_bf16 = device.type == "cpu" and cpu_has_native_bf16()
    config = config.for_data(silver=provenance.silver, cpu_bf16=cpu_bf16)
    run = RunFolder(config.out_dir, is_main=info.is_main)
    checkpoint_path = run.resume_checkpoint(config, provenance.silver, cpu_bf16)
    seed_everything(config.seed + info.rank)
    s = _prepare(config, info, device, provenance, mention_terms)
    state, resume_rng = _restore(s, checkpoint_path, info)
    run.start(config, state.step)
    yield TrainEvent("start", state.step, s.total_steps, state.epoch)

    batches = BatchStream(s.dataset, config, info, device).batches(state, resume_rng)
    stream = Lookahead(batches)
    s.step_module.train()
    stop_early = False
    last_eval_step = -1
    started, eval_seconds, tokens = time.perf_counter(), 0.0, 0
    while state.step < s.total_steps and not stop_early and stream.has_next():
        losses: list[float] = []
        windows = 0
        for micro in range(config.grad_accumulation):
            epoch, consumed, (batch, _) = stream.next()
            last = micro == config.grad_accumulation - 1 or not stream.has_next()
            losses.append(
                forward_backward(
                    s.step_module,
                    batch,
                    s.types,
                    weights=config.loss_weights,
                    negatives=s.negatives,
                    step=state.step,
                    micro=micro,
                    rank=info.rank,
                    device=device,
                    amp_dtype=s.amp_dtype,
                    scaler=s.scaler,
                    grad_accumulation=config.grad_accumulation,
                    sync=last,
                )
            )
            windows += int(batch["input_ids"].size(0))
            tokens += int(batch["attention_mask"].sum())
            state = replace(state, epoch=epoch, batches_in_epoch=consumed)
            if last:
                break
        anchor_rate = encoder_lr(s.optimizer) * config.encoder_anchor  # this update's LR
        # a short last accumulation (end of data) still averages over its micro-batches
        optimizer_step(
            s.model, s.optimizer, s.scheduler, s.scaler, max_grad_norm=config.max_grad_norm,
            grad_scale=config.grad_accumulation / len(losses),
        )  # fmt: skip
        pull_towards(s.anchors, anchor_rate)
        loss = dist_utils.mean_over_ranks(sum(losses) / len(losses), info, device)
        windows_seen = state.windows_seen + dist_utils.sum_over_ranks(windows, info, device)
        state = replace(state, step=state.step + 1, windows_seen=windows_seen)
        lr = float(s.scheduler.get_last_lr()[0])
        if config.log_every and state.step % config.log_every == 0:
            run.log({"kind": "train", "step": state.step, "epoch": state.epoch, "loss": loss,
                     "lr": lr, "windows": state.windows_seen})  # fmt: skip
        yield TrainEvent("step", state.step, s.total_steps, state.epoch, loss, lr)
        if config.dev_dir and config.eval_every and state.step % config.eval_every == 0:
            eval_started = time.perf_counter()
            state, stop_early, metrics = _evaluate(s, config, state, run, info, device)
            eval_seconds += time.perf_counter() - eval_started
            last_eval_step = state.step
            yield TrainEvent("eval", state.step, s.total_steps, state.epoch, metrics=metrics)
        if config.save_every and state.step % config.save_every == 0:
            _save_checkpoint(s, config, state, run.path, info)

    train_seconds = time.perf_counter() - started - eval_seconds
    if config.dev_dir and last_eval_step != state.step:
        eval_started = time.perf_counter()
        state, _, metrics = _evaluate(s, config, state, run, info, device)
        eval_seconds += time.perf_counter() - eval_started
        yield TrainEvent("eval", state.step, s.total_steps, state.epoch, metrics=metrics)
    if not config.dev_dir:
        _save_best(s, config, state, {}, run, info)
    if config.save_every and state.step % config.save_every != 0:
        _save_checkpoint(s, config, state, run.path, info)  # the end state, for --resume
    summary = {
        "best_score": state.best_metric,
        "selected_by": config.select,
        "best_step": state.best_step,
        "stopped_early": stop_early,
        "windows": state.windows_seen,
        **_cost_summary(train_seconds, eval_seconds, tokens, info, device),
    }
    run.log({"kind": "summary", "step": state.step, **summary})
    run.plot()
    dist_utils.barrier(info)
    yield TrainEvent("done", state.step, s.total_steps, state.epoch, metrics=summary,
                     model=s.model)  # fmt: skip


def _prepare(
    config: TrainConfig, info: DistInfo, device: torch.device, provenance: TrainingProvenance,
    mention_terms: Mapping[str, Sequence[str]] | None,
) -> _Setup:  # fmt: skip
    """Labels, tokenizer, model, optimizer, data and schedule, in the order that seeds them."""
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    labels, data_config = resolve_labels(config)
    types_file = resolve_type_descriptions(config.types_file) if config.types_file else None
    descriptions = load_type_descriptions(types_file, labels)
    model_config = config.encoder_config
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_config.encoder)
    except (OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"cannot load a tokenizer from {model_config.encoder!r} ({reason}); "
            "pass a local Hugging Face model directory with --model"
        ) from None
    # refuse an encoder that cannot be served now, not at its first long window or at export
    encoder_config = load_encoder_config(model_config.encoder)
    check_encoder(model_config.encoder, encoder_config, tokenizer, data_config)
    types = build_type_inputs(tokenizer, labels, descriptions)
    model = BinderModel.from_pretrained_encoder(model_config).to(device)
    step_module: nn.Module = TrainStep(model)
    if info.enabled:
        ids = [device.index] if device.type == "cuda" else None
        step_module = nn.parallel.DistributedDataParallel(step_module, ids)
    optimizer = build_optimizer(model, config.lr, config.head_lr, config.weight_decay)
    dataset = training_dataset(config, tokenizer, data_config, labels, info, mention_terms)
    total_steps = count_steps(config, dataset, info, device)
    warmup = round(config.warmup_ratio * total_steps)
    scheduler = get_linear_schedule_with_warmup(optimizer, warmup, total_steps)
    amp_dtype = resolve_amp(str(config.amp), device)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    return _Setup(
        labels=labels, data_config=data_config, descriptions=descriptions, tokenizer=tokenizer,
        types=types, model=model, step_module=step_module, optimizer=optimizer,
        scheduler=scheduler, scaler=scaler, dataset=dataset, total_steps=total_steps,
        amp_dtype=amp_dtype, provenance=provenance,
        anchors=encoder_anchors(model) if config.encoder_anchor > 0 else [],
        negatives=NegativePolicy(
            rate=float(config.negative_rate),  # type: ignore[arg-type]
            confident_margin=config.exclusion_margin,
            confident_from_step=round(config.confident_after * total_steps),
            seed=config.seed,
        ),
    )  # fmt: skip


def _restore(
    s: _Setup, checkpoint_path: Path | None, info: DistInfo
) -> tuple[TrainerState, dict[str, Any] | None]:
    """The state to start from, and the RNG state to restore once the data is in position."""
    if checkpoint_path is None:
        return TrainerState(), None
    ckpt = load_checkpoint(checkpoint_path)
    s.model.load_state_dict(ckpt.model)
    s.optimizer.load_state_dict(ckpt.optimizer)
    s.scheduler.load_state_dict(ckpt.scheduler)
    if s.scaler is not None and ckpt.scaler is not None:
        s.scaler.load_state_dict(ckpt.scaler)
    rng = None
    if len(ckpt.rng) == info.world_size:
        rng = ckpt.rng[info.rank]
    else:
        logger.warning("checkpoint has RNG states of %d ranks, this run has %d; reseeding",
                       len(ckpt.rng), info.world_size)  # fmt: skip
    logger.info("resuming from %s (step %d)", ckpt.path, ckpt.state.step)
    return ckpt.state, rng


def _evaluate(
    s: _Setup, config: TrainConfig, state: TrainerState, run: RunFolder, info: DistInfo,
    device: torch.device,
) -> tuple[TrainerState, bool, dict[str, Any]]:  # fmt: skip
    """Score the dev data on rank 0, keep the best model, decide on early stopping."""
    metrics: dict[str, Any] = {}
    if info.is_main:
        predictor = Predictor(
            s.model, s.tokenizer, s.labels, s.descriptions, s.data_config, device,
            amp_dtype=s.amp_dtype,
        )  # fmt: skip
        scores, documents, _ = score_dataset(
            predictor, config.dev_dir or "", decoding=config.decoding,
            batch_size=config.eval_batch_size,
        )  # fmt: skip
        metrics = {**scores.to_dict(), "documents": documents}
        for name, path in config.monitored:
            watched, _, _ = score_dataset(
                predictor, path, decoding=config.decoding, batch_size=config.eval_batch_size
            )
            metrics.setdefault("monitor", {})[name] = watched.to_dict()
    metrics = dist_utils.broadcast_object(metrics, info)
    select = str(config.select)
    score = selection_score(metrics, select)
    metrics["selection"] = {"by": select, "score": score}
    if improves(score, state.best_metric, select):
        state = replace(state, best_metric=score, best_step=state.step, evals_since_best=0)
        _save_best(s, config, state, metrics, run, info)
    else:
        state = replace(state, evals_since_best=state.evals_since_best + 1)
    run.log({"kind": "eval", "step": state.step, "epoch": state.epoch, **metrics,
             "best_score": state.best_metric})  # fmt: skip
    run.plot()
    patience = config.patience
    stop = patience is not None and state.evals_since_best >= patience
    if stop:
        logger.info("early stop at step %d: no dev %s gain in %d evaluations",
                    state.step, select, patience)  # fmt: skip
    return state, stop, metrics


def _save_best(
    s: _Setup, config: TrainConfig, state: TrainerState, metrics: dict[str, Any],
    run: RunFolder, info: DistInfo,
) -> None:  # fmt: skip
    if not info.is_main:
        return
    model_info = ModelInfo(
        labels=s.labels,
        type_descriptions=s.descriptions,
        data_config=s.data_config,
        decoding=config.decoding,
        step=state.step,
        dev={k: metrics[k] for k in ("precision", "recall", "f1") if k in metrics},
        provenance=s.provenance,
    )
    save_pretrained(s.model, s.tokenizer, model_info, run.best_dir)


def _save_checkpoint(
    s: _Setup, config: TrainConfig, state: TrainerState, run_dir: Path, info: DistInfo
) -> None:
    rng = dist_utils.gather_objects(capture_rng_state(), info)
    if info.is_main:
        save_checkpoint(
            run_dir,
            state,
            model=s.model.state_dict(),
            optimizer=s.optimizer.state_dict(),
            scheduler=s.scheduler.state_dict(),
            scaler=s.scaler.state_dict() if s.scaler is not None else None,
            rng=rng,
            keep=config.keep_checkpoints,
        )
    dist_utils.barrier(info)


def _cost_summary(
    train_seconds: float, eval_seconds: float, tokens: int, info: DistInfo, device: torch.device
) -> dict[str, Any]:
    """Wall time, throughput and peak memory of this run (tokens summed over ranks).

    Times and throughput cover this invocation only (a resumed run counts from its resume).
    """
    tokens = dist_utils.sum_over_ranks(tokens, info, device)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    out: dict[str, Any] = {
        "train_seconds": round(train_seconds, 1),
        "eval_seconds": round(eval_seconds, 1),
        "train_tokens": tokens,
        "tokens_per_second": round(tokens / train_seconds, 1) if train_seconds > 0 else None,
        "peak_rss_mb": round(peak_rss_mb, 1),
    }
    if device.type == "cuda":
        out["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return out
