"""``binder evaluate`` and ``binder predict``: thin wrappers over binder_core.

Both take a torch model (a run or model folder from ``binder train``) or an export folder
(``binder export``), which runs on onnxruntime without torch
(:mod:`binder_core.inference.backends`). torch and transformers are imported inside the commands,
and only for torch models, so ``binder --help`` stays fast. With ``--dictionary`` both run the
hybrid of the model and a compiled dictionary (:mod:`binder_core.inference.hybrid` states the merge
rule).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from binder_core.inference.hybrid import HybridOptions, HybridRule
from binder_core.inference.options import Backend, InferenceOptions, InputFormat
from binder_core.model.config import Amp, Decoding
from cli._common import (
    console,
    err_console,
    require_backend_extra,
    split_labels,
    user_errors,
)
from cli._options import config_option

MODEL_HELP = "Run folder (`binder train`), model folder, or export folder (`binder export`)."
DICTIONARY_HELP = (
    "A compiled dictionary (`binder dict compile`): merge its matches with the model's "
    "predictions (the hybrid)."
)
# Declared once (binder_core.inference.options.InferenceOptions), shared with `silver predict`.
DECODING = config_option(InferenceOptions, "decoding", "--decoding")
BATCH_SIZE = config_option(InferenceOptions, "batch_size", "--batch-size")
BACKEND = config_option(InferenceOptions, "backend", "--backend")
THREADS = config_option(InferenceOptions, "threads", "--threads")
AMP = config_option(InferenceOptions, "amp", "--amp")
LINK_HELP = (
    "With --dictionary: give every span without a concept id (the model's) the id of the "
    "dictionary concept whose names are nearest, or none below the linker's threshold "
    "(`binder link evaluate` measures it); its link_score is the nearest name's cosine."
)
# Declared once (binder_core.inference.hybrid.HybridOptions).
HYBRID = config_option(HybridOptions, "rule", "--hybrid")
HYBRID_MARGIN = config_option(HybridOptions, "model_margin", "--hybrid-margin")
HYBRID_TRUST = config_option(HybridOptions, "trust", "--hybrid-trust")


def _tagger(dictionary: Path | None, model: Path) -> Any:
    """The dictionary side of a hybrid, checked against the model's types (or None). It labels
    text as the model's silver training data was labelled (abbreviations, composite mentions,
    whole names: the options its manifest recorded); defaults for a model trained on gold."""
    if dictionary is None:
        return None
    from binder_core.inference.backends import model_info
    from pipelines.silver.labeling_config import LabelingConfig
    from pipelines.silver.tagging import dictionary_tagger

    info = model_info(model)
    options = info.provenance.silver_options if info.provenance is not None else {}
    return dictionary_tagger(str(dictionary), info.labels, LabelingConfig.from_options(options))


def _linker(dictionary: Path | None, link: bool) -> Any:
    """The concept linker of ``dictionary`` as a span hook (or None)."""
    if dictionary is None or not link:
        return None
    from dictionaries.linking.spans import span_linker
    from pipelines.silver.dictionary_files import load_dictionary

    return span_linker(dictionary, load_dictionary(str(dictionary)))


@user_errors
def evaluate_cli(
    run_dir: Path = typer.Argument(..., help=MODEL_HELP),
    data_dir: Path = typer.Argument(..., help="Labelled Parquet file or folder."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    decoding: Decoding | None = DECODING,
    batch_size: int = BATCH_SIZE,
    labels: str | None = typer.Option(None, "--labels", help="Score only these types."),
    device: str | None = typer.Option(None, "--device"),
    amp: Amp = AMP,
    backend: Backend = BACKEND,
    threads: int | None = THREADS,
    dictionary: Path | None = typer.Option(None, "--dictionary", help=DICTIONARY_HELP),
    hybrid: HybridRule = HYBRID,
    hybrid_margin: float = HYBRID_MARGIN,
    hybrid_trust: float | None = HYBRID_TRUST,
    link: bool = typer.Option(True, "--link/--no-link", help=LINK_HELP),
) -> None:
    """Exact-match precision, recall and F1 (micro and per type) of a model on gold data."""
    options = HybridOptions(hybrid, hybrid_margin, hybrid_trust)  # refused before any loading
    require_backend_extra(run_dir, backend, scoring=True)
    from binder_core.inference.evaluate import evaluate

    scores = evaluate(
        run_dir, data_dir, decoding, batch_size, device=device, labels=split_labels(labels),
        amp=amp, dictionary=_tagger(dictionary, run_dir),
        hybrid=options, backend=backend,
        threads=threads, linker=_linker(dictionary, link),
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(scores, sort_keys=True))
        return
    from rich.table import Table

    what = f"{scores['decoding']}" + (f", hybrid rule: {hybrid}" if dictionary else "")
    table = Table(title=f"{data_dir} ({scores['documents']} documents, {what})")
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
    if scores.get("hybrid_trust"):
        trust = ", ".join(f"{k} {v:.2f}" for k, v in scores["hybrid_trust"].items())
        console.print(f"hybrid: the dictionary's trust per type (logits): {trust}", highlight=False)
    if "systems" in scores:
        _print_systems(scores["systems"])
    if "heldout" in scores:
        h = scores["heldout"]
        console.print(
            f"held-out dictionary concepts: {h['found']:,} of {h['support']:,} mentions found, "
            f"recall {h['recall']:.4f}",
            highlight=False,
        )


def _print_systems(systems: dict[str, Any]) -> None:
    """Micro F1 of the model, the dictionary and the hybrid: span + type, and + concept."""
    from rich.table import Table

    table = Table(title="each side alone (micro F1)")
    for column in ("system", "span + type", "span + type + concept"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for name in ("model", "dictionary", "hybrid"):
        if name in systems:
            concept = systems.get(name + "_concept")
            table.add_row(name, f"{systems[name]['f1']:.4f}",
                          f"{concept['f1']:.4f}" if concept else "-")  # fmt: skip
    console.print(table)


@user_errors
def predict_cli(
    run_dir: Path = typer.Argument(..., help=MODEL_HELP),
    input_path: Path = typer.Argument(..., help="Text (a doc per line), JSONL or Parquet."),
    output: Path = typer.Argument(..., help="Output .jsonl or .parquet (contract schema)."),
    fmt: InputFormat = typer.Option("auto", "--format", help="Input format (auto: by suffix)."),
    text_field: str = typer.Option("text", "--text-field", help="JSONL field with the text."),
    id_field: str = typer.Option("id", "--id-field", help="JSONL field with the document id."),
    decoding: Decoding | None = DECODING,
    batch_size: int = BATCH_SIZE,
    device: str | None = typer.Option(None, "--device"),
    amp: Amp = AMP,
    backend: Backend = BACKEND,
    threads: int | None = THREADS,
    dictionary: Path | None = typer.Option(None, "--dictionary", help=DICTIONARY_HELP),
    hybrid: HybridRule = HYBRID,
    hybrid_margin: float = HYBRID_MARGIN,
    hybrid_trust: float | None = HYBRID_TRUST,
    link: bool = typer.Option(True, "--link/--no-link", help=LINK_HELP),
) -> None:
    """Tag documents with a trained or exported model (with --dictionary: the hybrid)."""
    options = HybridOptions(hybrid, hybrid_margin, hybrid_trust)  # refused before any loading
    require_backend_extra(run_dir, backend)
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from binder_core.inference.backends import load_predictor
    from binder_core.inference.predict import predict_file

    tagger = _tagger(dictionary, run_dir)
    linker = _linker(dictionary, link)
    predictor = load_predictor(run_dir, backend=backend, device=device, amp=amp, threads=threads)
    done = 0
    with Progress(
        SpinnerColumn(),
        TextColumn("predict: {task.completed} documents"),
        console=err_console,
        transient=True,  # "wrote N documents" follows; an error is the only line on stderr
    ) as progress:
        task = progress.add_task("predict", total=None)
        for done in predict_file(
            predictor, input_path, output, fmt=fmt, text_field=text_field,
            id_field=id_field, decoding=decoding, batch_size=batch_size,
            dictionary=tagger, hybrid=options,
            linker=linker,
        ):  # fmt: skip
            progress.update(task, completed=done)
    console.print(f"wrote {done} documents to {output} ({predictor.backend})")


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` and ``predict`` to the root ``binder`` app."""
    app.command("evaluate")(evaluate_cli)
    app.command("predict")(predict_cli)
