"""``binder train``, ``binder evaluate`` and ``binder predict``: thin wrappers over binder_core.

torch and transformers are imported inside the commands, so ``binder --help`` stays fast.
"""

from __future__ import annotations

import json
import os
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from binder_core.errors import ConfigError
from cli._common import console, err_console, user_errors


def _require_model_extra() -> None:
    """torch/transformers are an extra, so silver-only installs (Beam workers) stay light."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"the model commands need torch and transformers ({exc.name} is missing): "
            "install a torch build for your machine, then pip install 'binder-ner[model]'"
        ) from None


class AmpChoice(str, Enum):
    auto = "auto"
    bf16 = "bf16"
    fp16 = "fp16"
    no = "no"


class DecodingChoice(str, Enum):
    flat = "flat"
    nested = "nested"


class UncertainChoice(str, Enum):
    exclude = "exclude"
    negative = "negative"
    positive = "positive"


class InputFormatChoice(str, Enum):
    auto = "auto"
    text = "text"
    jsonl = "jsonl"
    parquet = "parquet"


def _split_labels(labels: str | None) -> tuple[str, ...] | None:
    if not labels:
        return None
    return tuple(label.strip() for label in labels.split(",") if label.strip())


@user_errors
def train_cli(
    train: Path = typer.Option(..., "--train", help="Training Parquet file or folder of shards."),
    out: Path = typer.Option(..., "--out", help="Run folder (checkpoints, metrics, best model)."),
    dev: Path | None = typer.Option(None, "--dev", help="Dev Parquet, scored every --eval-every."),
    model: str | None = typer.Option(
        None, "--model", help="Hugging Face encoder path or id (default: the offline MiniLM)."
    ),
    types: str | None = typer.Option(
        None, "--types", help="Type descriptions (JSON/YAML/JSONL file, or a shipped name)."
    ),
    labels: str | None = typer.Option(
        None, "--labels", help="Comma-separated types to train on (default: the data's)."
    ),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Optimizer steps."),
    epochs: int | None = typer.Option(None, "--epochs", help="Passes over the data (default 3)."),
    batch_size: int = typer.Option(8, "--batch-size", help="Windows per micro-batch per process."),
    grad_accumulation: int = typer.Option(1, "--grad-accumulation"),
    lr: float = typer.Option(3e-5, "--lr", help="Encoder learning rate."),
    head_lr: float = typer.Option(1e-3, "--head-lr", help="Heads' learning rate."),
    weight_decay: float = typer.Option(0.01, "--weight-decay"),
    warmup_ratio: float = typer.Option(0.1, "--warmup-ratio"),
    max_grad_norm: float = typer.Option(1.0, "--max-grad-norm", help="0 turns clipping off."),
    amp: AmpChoice = typer.Option(AmpChoice.auto, "--amp", help="Mixed precision (CUDA only)."),
    gradient_checkpointing: bool = typer.Option(False, "--gradient-checkpointing"),
    max_seq_length: int = typer.Option(256, "--max-seq-length", help="Tokens per window."),
    window_overlap: int = typer.Option(64, "--window-overlap", help="Tokens shared by windows."),
    max_span_width: int = typer.Option(30, "--max-span-width", help="Widest span, in tokens."),
    eval_every: int = typer.Option(500, "--eval-every", help="Steps between dev evaluations."),
    patience: int | None = typer.Option(None, "--patience", help="Evaluations without gain."),
    save_every: int = typer.Option(500, "--save-every", help="Steps between checkpoints."),
    log_every: int = typer.Option(10, "--log-every"),
    seed: int = typer.Option(42, "--seed"),
    num_workers: int = typer.Option(0, "--num-workers", help="DataLoader workers per process."),
    decoding: DecodingChoice = typer.Option(DecodingChoice.flat, "--decoding"),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda, cuda:1 (default: auto)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the newest checkpoint."),
    uncertain: UncertainChoice = typer.Option(
        UncertainChoice.exclude,
        "--uncertain",
        help="Spans marked uncertain: exclude from negatives (default), treat as negative, "
        "or as positive.",
    ),
    mention_weight: float = typer.Option(0.5, "--mention-weight", help="Mention-loss weight."),
    threshold_weight: float = typer.Option(
        0.5, "--threshold-weight", help="Thresholding-loss weight (0 turns it off)."
    ),
) -> None:
    """Train a BINDER model on Parquet data (under torchrun: data-parallel)."""
    _require_model_extra()
    from binder_core.config import LossWeights, ModelConfig
    from binder_core.data import DataConfig
    from binder_core.train import train as run_training
    from binder_core.train_config import TrainConfig, default_encoder

    data = DataConfig(
        max_seq_length=max_seq_length,
        window_overlap_tokens=window_overlap,
        max_span_width_tokens=max_span_width,
        seed=seed,
        uncertain_spans=uncertain.value,
    )
    model_config = ModelConfig(
        encoder=model or default_encoder(),
        max_span_width_tokens=max_span_width,
        gradient_checkpointing=gradient_checkpointing,
    )
    config = TrainConfig(
        train_dir=str(train), out_dir=str(out), dev_dir=str(dev) if dev else None,
        model=model_config, types_file=types, labels=_split_labels(labels),
        max_steps=max_steps, epochs=epochs, batch_size=batch_size,
        grad_accumulation=grad_accumulation, lr=lr, head_lr=head_lr, weight_decay=weight_decay,
        warmup_ratio=warmup_ratio, max_grad_norm=max_grad_norm, amp=amp.value,
        eval_every=eval_every, patience=patience, save_every=save_every, log_every=log_every,
        seed=seed, num_workers=num_workers, decoding=decoding.value, data=data, device=device,
        resume=resume,
        loss_weights=LossWeights(mention=mention_weight, threshold=threshold_weight),
    )  # fmt: skip
    main_rank = os.environ.get("RANK", "0") == "0"
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    # shown from the "start" event on, so set-up errors print alone
    progress = Progress(
        TextColumn("[bold]train[/]"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[status]}"), TimeRemainingColumn(),
        console=err_console, disable=not main_rank,
    )  # fmt: skip
    task = progress.add_task("train", total=None, status="")
    try:
        for event in run_training(config):
            if event.kind == "start":
                progress.start()
                progress.update(task, total=event.total_steps, completed=event.step)
            elif event.kind == "step":
                progress.update(task, completed=event.step, status=f"loss {event.loss:.4f}")
            elif event.kind == "eval":
                m = event.metrics
                progress.console.print(
                    f"step {event.step}: dev P {m['precision']:.4f} R {m['recall']:.4f} "
                    f"F1 {m['f1']:.4f}"
                )
            elif event.kind == "done":
                if progress.live.is_started:
                    progress.stop()
                if main_rank:
                    console.print(_summary(event.step, event.metrics, out))
    finally:
        if progress.live.is_started:
            progress.stop()


def _summary(step: int, summary: dict[str, Any], out: Path) -> str:
    best = summary.get("best_f1")
    return (
        f"done at step {step}"
        + (f"; best dev F1 {best:.4f} at step {summary['best_step']}" if best is not None else "")
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


@user_errors
def evaluate_cli(
    run_dir: Path = typer.Argument(..., help="Run folder from `binder train`, or a model folder."),
    data_dir: Path = typer.Argument(..., help="Labelled Parquet file or folder."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    decoding: DecodingChoice = typer.Option(DecodingChoice.flat, "--decoding"),
    batch_size: int = typer.Option(16, "--batch-size"),
    labels: str | None = typer.Option(None, "--labels", help="Score only these types."),
    device: str | None = typer.Option(None, "--device"),
) -> None:
    """Exact-match precision, recall and F1 (micro and per type) of a model on gold data."""
    _require_model_extra()
    from binder_core.evaluate import evaluate

    scores = evaluate(
        run_dir, data_dir, decoding.value, batch_size, device=device, labels=_split_labels(labels)
    )
    if as_json:
        typer.echo(json.dumps(scores, sort_keys=True))
        return
    from rich.table import Table

    table = Table(title=f"{data_dir} ({scores['documents']} documents, {decoding.value})")
    for column in ("type", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == "type" else "right")
    rows = [*scores["per_label"].items(), ("micro", scores)]
    for name, s in rows:
        table.add_row(
            name, f"{s['precision']:.4f}", f"{s['recall']:.4f}", f"{s['f1']:.4f}", str(s["support"])
        )
    console.print(table)
    if "nested" in scores:
        n = scores["nested"]
        console.print(
            f"nested gold spans (inside or around another): {n['found']:,} of {n['support']:,} "
            f"found exactly, recall {n['recall']:.4f}",
            highlight=False,
        )


@user_errors
def predict_cli(
    run_dir: Path = typer.Argument(..., help="Run folder from `binder train`, or a model folder."),
    input_path: Path = typer.Argument(..., help="Text (a doc per line), JSONL or Parquet."),
    output: Path = typer.Argument(..., help="Output .jsonl or .parquet (contract schema)."),
    fmt: InputFormatChoice = typer.Option(InputFormatChoice.auto, "--format"),
    text_field: str = typer.Option("text", "--text-field", help="JSONL field with the text."),
    id_field: str = typer.Option("id", "--id-field", help="JSONL field with the document id."),
    decoding: DecodingChoice = typer.Option(DecodingChoice.flat, "--decoding"),
    batch_size: int = typer.Option(16, "--batch-size", help="Windows per forward pass."),
    device: str | None = typer.Option(None, "--device"),
) -> None:
    """Tag documents with a trained model."""
    _require_model_extra()
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from binder_core.predict import load, predict_file

    predictor = load(run_dir, device=device)
    done = 0
    with Progress(
        SpinnerColumn(), TextColumn("predict: {task.completed} documents"), console=err_console
    ) as progress:
        task = progress.add_task("predict", total=None)
        for done in predict_file(
            predictor, input_path, output, fmt=fmt.value, text_field=text_field,
            id_field=id_field, decoding=decoding.value, batch_size=batch_size,
        ):  # fmt: skip
            progress.update(task, completed=done)
    console.print(f"wrote {done} documents to {output}")


def register(app: typer.Typer) -> None:
    """Add ``train``, ``evaluate`` and ``predict`` to the root ``binder`` app."""
    app.command("train")(train_cli)
    app.command("evaluate")(evaluate_cli)
    app.command("predict")(predict_cli)
