"""``binder silver predict``: a model over a corpus as a Beam pipeline, local or submitted.

A thin wrapper over :func:`pipelines.predict.pipeline.predict_corpus`. Without ``--runner`` it
runs on this machine (Beam's FnApiRunner, ``--workers`` processes, no network); with
``--runner`` every option it does not know goes to Beam unchanged, as with ``binder silver
submit``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import typer

from binder_core.contract.errors import ConfigError
from binder_core.inference.options import Backend
from binder_core.model.config import Decoding
from cli._common import console, split_labels, user_errors
from cli._options import OVERWRITE, config_option
from cli.model_cmd import BACKEND, BATCH_SIZE, DECODING, THREADS
from cli.silver_cmd import (
    ALLOW_PARTIAL,
    CORPUS,
    FORMAT,
    ID_FIELD,
    MAX_DOC_BYTES,
    SHARDS,
    SPLIT_BYTES,
    TEXT_FIELD,
    WORKERS,
    FormatChoice,
    _split_beam_args,
    print_pipeline_summary,
)
from pipelines.predict.config import PredictConfig


@user_errors
def predict_cli(
    ctx: typer.Context,
    corpus: list[str] = CORPUS,
    model: str = typer.Option(
        ..., "--model", help="Export folder (`binder export`, no torch needed) or model folder."
    ),
    out: str = typer.Option(..., "--out", help="Output folder: Parquet shards, manifest."),
    fmt: FormatChoice = FORMAT,
    id_field: str = ID_FIELD,
    text_field: str = TEXT_FIELD,
    shards: int = SHARDS,
    decoding: Decoding | None = DECODING,
    labels: str | None = typer.Option(None, "--labels", help="Predict only these types."),
    backend: Backend = BACKEND,
    batch_size: int = BATCH_SIZE,
    threads: int | None = THREADS,
    max_doc_bytes: int = MAX_DOC_BYTES,
    split_bytes: int = SPLIT_BYTES,
    allow_partial: bool = ALLOW_PARTIAL,
    workers: int = WORKERS,
    stage: bool = typer.Option(
        True, "--stage/--no-stage", help="With --runner: stage this package to the workers."
    ),
    link_dict: str | None = config_option(PredictConfig, "link_dictionary", "--link-dict"),
    overwrite: bool = OVERWRITE,
    as_json: bool = typer.Option(False, "--json", help="Print the run manifest as JSON."),
) -> None:
    """Tag a corpus with a model in Beam; writes Parquet that `binder silver augment` reads.

    Local by default; with --runner (DataflowRunner, FlinkRunner, SparkRunner, PortableRunner)
    other options go to Beam unchanged. Use the --shards of the silver set to augment it.
    """
    from pipelines.corpus.damaged_input import check_partial_files
    from pipelines.predict.pipeline import predict_corpus
    from pipelines.runners.execution import LocalRunnerConfig, local_execution, remote_execution
    from pipelines.silver.config import ReadConfig

    beam_args, corpus = _split_beam_args(ctx.args, corpus)
    read = ReadConfig(
        format=fmt.value, id_field=id_field, text_field=text_field,
        max_doc_bytes=max_doc_bytes, split_bytes=split_bytes, allow_partial_files=allow_partial,
    )  # fmt: skip
    config = PredictConfig(
        inputs=tuple(corpus),
        model=model,
        output=out,
        read=read,
        shards=shards,
        decoding=decoding,
        labels=split_labels(labels),
        backend=backend,
        batch_size=batch_size,
        threads=threads,
        link_dictionary=link_dict,
    )
    if any(a == "--runner" or a.startswith("--runner=") for a in beam_args):
        execution = remote_execution(beam_args, stage_package=stage)
    elif beam_args:
        raise ConfigError(
            f"unknown option(s) {beam_args}: Beam options need --runner (without one the "
            "pipeline runs locally; see --workers)"
        )
    else:
        execution = local_execution(LocalRunnerConfig(workers=workers))
    started = time.perf_counter()
    with console.status(f"Predicting on {execution.description} ...", refresh_per_second=2):
        manifest = predict_corpus(config, execution, overwrite=overwrite)
    if as_json:
        typer.echo(json.dumps(manifest, ensure_ascii=False, sort_keys=True))
    else:
        _print_summary(manifest, out, time.perf_counter() - started)
    check_partial_files(manifest, read.allow_partial_files)


def _print_summary(manifest: dict[str, Any], output: str, seconds: float) -> None:
    model = manifest["model"]
    print_pipeline_summary("Predictions", manifest, output, seconds,
                           (("model", f"{model['path']} ({model['kind']})"),))  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``predict`` to the ``binder silver`` group."""
    app.command(
        "predict",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(predict_cli)
