"""``binder train``: a thin wrapper over :func:`binder_core.training.loop.train`.

Every option takes its default and help text from the configuration dataclasses
(:mod:`binder_core.model.config`, :mod:`binder_core.training.config`). torch is imported inside the
command, so ``binder --help`` stays fast.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

import typer

from binder_core.contract.options import help_of
from binder_core.data.config import DataConfig, UncertainSpans
from binder_core.model.config import Amp, Decoding, LossWeights, ModelConfig
from binder_core.training.config import TrainConfig
from binder_core.training.selection import Selection
from cli._common import console, err_console, require_model_extra, split_labels, user_errors
from cli._options import config_option


@user_errors
def train_cli(
    train: Path = typer.Option(..., "--train", help=help_of(TrainConfig, "train_dir")),
    out: Path = typer.Option(..., "--out", help=help_of(TrainConfig, "out_dir")),
    dev: Path | None = config_option(TrainConfig, "dev_dir", "--dev"),
    model: str | None = config_option(ModelConfig, "encoder", "--model"),
    types: str | None = config_option(TrainConfig, "types_file", "--types"),
    labels: str | None = config_option(TrainConfig, "labels", "--labels"),
    max_steps: int | None = config_option(TrainConfig, "max_steps", "--max-steps"),
    epochs: int | None = config_option(TrainConfig, "epochs", "--epochs"),
    batch_size: int = config_option(TrainConfig, "batch_size", "--batch-size"),
    grad_accumulation: int = config_option(TrainConfig, "grad_accumulation", "--grad-accumulation"),
    lr: float = config_option(TrainConfig, "lr", "--lr"),
    head_lr: float = config_option(TrainConfig, "head_lr", "--head-lr"),
    weight_decay: float = config_option(TrainConfig, "weight_decay", "--weight-decay"),
    warmup_ratio: float = config_option(TrainConfig, "warmup_ratio", "--warmup-ratio"),
    max_grad_norm: float = config_option(TrainConfig, "max_grad_norm", "--max-grad-norm"),
    amp: Amp | None = config_option(TrainConfig, "amp", "--amp"),
    gradient_checkpointing: bool = config_option(
        ModelConfig, "gradient_checkpointing", "--gradient-checkpointing"
    ),
    max_seq_length: int = config_option(DataConfig, "max_seq_length", "--max-seq-length"),
    pad_to_multiple: int = config_option(DataConfig, "pad_to_multiple", "--pad-to-multiple"),
    attention_dropout: float | None = config_option(
        ModelConfig, "attention_dropout", "--attention-dropout"
    ),
    window_overlap: int = config_option(DataConfig, "window_overlap_tokens", "--window-overlap"),
    max_span_width: int = config_option(ModelConfig, "max_span_width_tokens", "--max-span-width"),
    eval_every: int = config_option(TrainConfig, "eval_every", "--eval-every"),
    patience: int | None = config_option(TrainConfig, "patience", "--patience"),
    save_every: int = config_option(TrainConfig, "save_every", "--save-every"),
    log_every: int = config_option(TrainConfig, "log_every", "--log-every"),
    seed: int = config_option(TrainConfig, "seed", "--seed"),
    num_workers: int = config_option(TrainConfig, "num_workers", "--num-workers"),
    decoding: Decoding = config_option(TrainConfig, "decoding", "--decoding"),
    select: Selection | None = config_option(TrainConfig, "select", "--select"),
    monitor: list[str] = config_option(TrainConfig, "monitor", "--monitor"),
    device: str | None = config_option(TrainConfig, "device", "--device"),
    resume: bool = config_option(TrainConfig, "resume", "--resume"),
    uncertain: UncertainSpans = config_option(DataConfig, "uncertain_spans", "--uncertain"),
    negative_rate: float | None = config_option(
        TrainConfig, "negative_rate", "--negative-rate", min=0.0, max=1.0
    ),
    keep_empty_windows: float | None = config_option(
        TrainConfig, "keep_empty_windows", "--keep-empty-windows", min=0.0, max=1.0
    ),
    confident_margin: float | None = config_option(
        TrainConfig, "confident_margin", "--confident-margin"
    ),
    length_grouping: int | None = config_option(
        TrainConfig, "length_grouping", "--length-grouping", min=1
    ),
    confident_after: float = config_option(
        TrainConfig, "confident_after", "--confident-after", min=0.0, max=0.99
    ),
    mention_weight: float = config_option(LossWeights, "mention", "--mention-weight"),
    threshold_weight: float = config_option(LossWeights, "threshold", "--threshold-weight"),
    replace_mentions: float = config_option(TrainConfig, "replace_mentions", "--replace-mentions"),
    mention_dictionary: Path | None = config_option(
        TrainConfig, "mention_dictionary", "--mention-dictionary"
    ),
    mask_mentions: float = config_option(TrainConfig, "mask_mentions", "--mask-mentions"),
    max_passes: float | None = config_option(TrainConfig, "max_passes", "--max-passes"),
    encoder_anchor: float = config_option(TrainConfig, "encoder_anchor", "--encoder-anchor"),
) -> None:
    """Train a BINDER model on Parquet data (under torchrun: data-parallel)."""
    require_model_extra()
    from binder_core.training.config import default_encoder
    from binder_core.training.loop import train as run_training

    data = DataConfig(
        max_seq_length=max_seq_length,
        pad_to_multiple=pad_to_multiple,
        window_overlap_tokens=window_overlap,
        seed=seed,
        uncertain_spans=uncertain,
    )
    model_config = ModelConfig(
        encoder=model or default_encoder(),
        max_span_width_tokens=max_span_width,
        attention_dropout=attention_dropout,
        gradient_checkpointing=gradient_checkpointing,
    )
    config = TrainConfig(
        train_dir=str(train), out_dir=str(out), dev_dir=str(dev) if dev else None,
        model=model_config, types_file=types, labels=split_labels(labels),
        max_steps=max_steps, epochs=epochs, batch_size=batch_size,
        grad_accumulation=grad_accumulation, lr=lr, head_lr=head_lr, weight_decay=weight_decay,
        warmup_ratio=warmup_ratio, max_grad_norm=max_grad_norm, amp=amp,
        eval_every=eval_every, patience=patience, save_every=save_every, log_every=log_every,
        seed=seed, num_workers=num_workers, decoding=decoding, data=data, device=device,
        resume=resume, negative_rate=negative_rate, keep_empty_windows=keep_empty_windows,
        confident_margin=confident_margin, confident_after=confident_after,
        select=select, monitor=tuple(monitor), length_grouping=length_grouping,
        loss_weights=LossWeights(mention=mention_weight, threshold=threshold_weight),
        replace_mentions=replace_mentions,
        mention_dictionary=str(mention_dictionary) if mention_dictionary else None,
        mask_mentions=mask_mentions, max_passes=max_passes, encoder_anchor=encoder_anchor,
    )  # fmt: skip
    terms = _mention_terms(config)
    main_rank = os.environ.get("RANK", "0") == "0"
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    # shown from the "start" event on, so set-up errors print alone
    progress = Progress(
        TextColumn("[bold]train[/]"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[status]}"), TimeRemainingColumn(),
        console=err_console, disable=not main_rank,
    )  # fmt: skip
    task = progress.add_task("train", total=None, status="")
    command = shlex.join(["binder", *sys.argv[1:]])
    try:
        for event in run_training(config, command=command, mention_terms=terms):
            if event.kind == "start":
                progress.start()
                progress.update(task, total=event.total_steps, completed=event.step)
            elif event.kind == "step":
                progress.update(task, completed=event.step, status=f"loss {event.loss:.4f}")
            elif event.kind == "eval":
                m = event.metrics
                line = (
                    f"step {event.step}: dev P {m['precision']:.4f} R {m['recall']:.4f} "
                    f"F1 {m['f1']:.4f}"
                )
                if "heldout" in m:
                    line += f", held-out recall {m['heldout']['recall']:.4f}"
                for name, w in m.get("monitor", {}).items():
                    line += f"; {name} F1 {w['f1']:.4f}"
                progress.console.print(line, highlight=False)
            elif event.kind == "done":
                if progress.live.is_started:
                    progress.stop()
                if main_rank:
                    console.print(_summary(event.step, event.metrics, out))
    finally:
        if progress.live.is_started:
            progress.stop()


def _mention_terms(config: TrainConfig) -> dict[str, tuple[str, ...]] | None:
    """The terms by type that --replace-mentions draws from (None without the option)."""
    if not config.mention_dictionary or config.replace_mentions <= 0:
        return None
    from dictionaries import terms_by_label
    from pipelines.silver.dictionary_files import load_dictionary

    return terms_by_label(load_dictionary(config.mention_dictionary))


def _summary(step: int, summary: dict[str, Any], out: Path) -> str:
    best, by = summary.get("best_score"), summary.get("selected_by", "f1")
    return (
        f"done at step {step}"
        + (f"; best dev {by} {best:.4f} at step {summary['best_step']}" if best is not None else "")
        + (" (stopped early)" if summary.get("stopped_early") else "")
        + f"; model in {out / 'best'}"
        + (
            f"\n{summary['train_seconds']:.0f} s training ({summary['tokens_per_second']:,.0f} "
            f"tokens/s), {summary['eval_seconds']:.0f} s dev evaluation, "
            f"peak memory {summary['peak_rss_mb']:,.0f} MB"
            if summary.get("tokens_per_second")
            else ""
        )
    )


def register(app: typer.Typer) -> None:
    """Add ``train`` to the root ``binder`` app."""
    app.command("train")(train_cli)
