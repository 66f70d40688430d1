"""``binder silver build`` (local) and ``binder silver submit`` (remote Beam runner)."""

from __future__ import annotations

import json
import time
from enum import Enum
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from binder_core.contract.options import default_of, help_of
from cli._common import console, user_errors
from cli._options import OVERWRITE, config_option, split_csv
from pipelines.silver.config import LocalRunnerConfig, ReadConfig, SilverConfig
from pipelines.silver.labeling_config import LabelingConfig

if TYPE_CHECKING:
    from pipelines.runners.execution import Execution


class FormatChoice(str, Enum):
    text = "text"
    jsonl = "jsonl"
    pubtator = "pubtator"


class OverlapChoice(str, Enum):
    longest = "longest"
    all = "all"


class LongFormChoice(str, Enum):
    exact = "exact"
    end = "end"


CORPUS = typer.Argument(..., help="Corpus files or quoted globs (local or remote; .gz is fine).")
DICT = typer.Option(..., "--dict", help="Compiled dictionary (from `binder dict compile`).")
OUT = typer.Option(..., "--out", help="Output folder: Parquet shards, _dead_letters/, manifest.")
# Defaults and help come from the configuration dataclasses (one declaration each).
FORMAT = config_option(
    ReadConfig, "format", "--format", "-f", default=FormatChoice(ReadConfig().format)
)
ID_FIELD = config_option(ReadConfig, "id_field", "--id-field")
TEXT_FIELD = config_option(ReadConfig, "text_field", "--text-field")
SHARDS = config_option(SilverConfig, "shards", "--shards")
OVERLAP = config_option(
    SilverConfig, "overlap", "--overlap", default=OverlapChoice(default_of(SilverConfig, "overlap"))
)
FUZZY = config_option(SilverConfig, "fuzzy", "--fuzzy/--no-fuzzy")
FUZZY_THRESHOLD = config_option(SilverConfig, "fuzzy_threshold", "--fuzzy-threshold")
MAX_DOC_BYTES = config_option(ReadConfig, "max_doc_bytes", "--max-doc-bytes")
SPLIT_BYTES = config_option(ReadConfig, "split_bytes", "--split-bytes")
ALLOW_PARTIAL = config_option(ReadConfig, "allow_partial_files", "--allow-partial-files")
AS_JSON = typer.Option(False, "--json", help="Print the run manifest as one JSON object.")
ABBREVIATIONS = config_option(LabelingConfig, "abbreviations", "--abbreviations/--no-abbreviations")
LONG_FORM = config_option(
    LabelingConfig,
    "abbreviation_long_form",
    "--abbreviation-long-form",
    default=LongFormChoice(LabelingConfig().abbreviation_long_form),
)
COMPOSITES = config_option(
    LabelingConfig, "composite_mentions", "--composite-mentions/--no-composite-mentions"
)
NAME_LABELS = config_option(
    LabelingConfig,
    "name_labels",
    "--name-label",
    help=help_of(LabelingConfig, "name_labels") + " Repeat or comma-separate, e.g. PER.",
)
HELDOUT_DICT = config_option(SilverConfig, "heldout_dictionary", "--heldout-dict")
UNCERTAIN_DICT = config_option(SilverConfig, "uncertain_dictionary", "--uncertain-dict")
WORKERS = config_option(LocalRunnerConfig, "workers", "--workers", "-w")


def _config(
    corpus: list[str],
    dictionary: str,
    out: str,
    fmt: FormatChoice,
    id_field: str,
    text_field: str,
    shards: int,
    overlap: OverlapChoice,
    fuzzy: bool,
    fuzzy_threshold: float,
    max_doc_bytes: int,
    split_bytes: int,
    abbreviations: bool,
    long_form: LongFormChoice,
    heldout_dict: str | None,
    uncertain_dict: str | None,
    name_labels: list[str],
    composites: bool,
    allow_partial: bool,
) -> SilverConfig:
    read = ReadConfig(
        format=fmt.value,
        id_field=id_field,
        text_field=text_field,
        max_doc_bytes=max_doc_bytes,
        split_bytes=split_bytes,
        allow_partial_files=allow_partial,
    )
    return SilverConfig(
        inputs=tuple(corpus),
        dictionary=dictionary,
        output=out,
        read=read,
        overlap=overlap.value,
        fuzzy=fuzzy,
        fuzzy_threshold=fuzzy_threshold,
        shards=shards,
        labeling=LabelingConfig(
            abbreviations=abbreviations,
            abbreviation_long_form=long_form.value,
            composite_mentions=composites,
            name_labels=split_csv(name_labels),
        ),
        heldout_dictionary=heldout_dict,
        uncertain_dictionary=uncertain_dict,
    )


def _run(config: SilverConfig, execution: Execution, as_json: bool, overwrite: bool) -> None:
    from pipelines.corpus.damaged_input import check_partial_files
    from pipelines.silver.pipeline import build_silver

    started = time.perf_counter()
    with console.status(f"Labeling on {execution.description} ...", refresh_per_second=2):
        manifest = build_silver(config, execution, overwrite=overwrite)
    if as_json:
        typer.echo(json.dumps(manifest, ensure_ascii=False, sort_keys=True))
    else:
        _print_summary(manifest, config.output, time.perf_counter() - started)
    check_partial_files(manifest, config.read.allow_partial_files)


def _print_summary(manifest: dict[str, Any], output: str, seconds: float) -> None:
    print_pipeline_summary("Silver labels", manifest, output, seconds)


def print_pipeline_summary(
    title: str,
    manifest: dict[str, Any],
    output: str,
    seconds: float,
    first_rows: tuple[tuple[str, str], ...] = (),
) -> None:
    """The summary table of a Beam pipeline's manifest (silver build, silver predict)."""
    counts = manifest["counts"]
    table = Table(title=title, show_header=False)
    for key, value in first_rows:
        table.add_row(key, value)
    table.add_row("input records", f"{counts['input_records']:,}")
    table.add_row("documents", f"{counts['rows']:,}")
    table.add_row("spans", f"{counts['spans']:,}")
    for label, n in counts["spans_by_label"].items():
        table.add_row(f"  {label}", f"{n:,}")
    for origin, n in counts.get("spans_by_origin", {}).items():
        table.add_row(f"  origin {origin}", f"{n:,}")
    for key, n in counts.get("labeling", {}).items():
        if n:
            table.add_row(f"  {key.replace('_', ' ')}", f"{n:,}")
    table.add_row("dead letters", f"{counts['dead_letters']:,}")
    for reason, n in counts["dead_letters_by_reason"].items():
        table.add_row(f"  {reason}", f"{n:,}")
    for partial in manifest.get("partial_files", []):
        state = "truncated" if partial["reason"] == "truncated_file" else "corrupt"
        table.add_row(f"  {state} file", f"{partial['path']} (at line {partial['line']})")
    table.add_row("output", f"{output} ({len(manifest['shards'])} shards)")
    table.add_row("runner", manifest["runner"])
    table.add_row("time", f"{seconds:.1f} s")
    console.print(table)
    if not counts["balanced"]:
        console.print("[bold red]records do not add up: see _manifest.json[/]")


@user_errors
def build_cli(
    corpus: list[str] = CORPUS,
    dictionary: str = DICT,
    out: str = OUT,
    fmt: FormatChoice = FORMAT,
    id_field: str = ID_FIELD,
    text_field: str = TEXT_FIELD,
    shards: int = SHARDS,
    workers: int = WORKERS,
    overlap: OverlapChoice = OVERLAP,
    fuzzy: bool = FUZZY,
    fuzzy_threshold: float = FUZZY_THRESHOLD,
    max_doc_bytes: int = MAX_DOC_BYTES,
    split_bytes: int = SPLIT_BYTES,
    allow_partial: bool = ALLOW_PARTIAL,
    abbreviations: bool = ABBREVIATIONS,
    long_form: LongFormChoice = LONG_FORM,
    name_labels: list[str] = NAME_LABELS,
    composites: bool = COMPOSITES,
    heldout_dict: str | None = HELDOUT_DICT,
    uncertain_dict: str | None = UNCERTAIN_DICT,
    overwrite: bool = OVERWRITE,
    as_json: bool = AS_JSON,
) -> None:
    """Label a corpus with a dictionary on this machine (no network) and write silver Parquet."""
    # Before Beam is imported here: the worker template (which `cli.launch` may have started
    # already) loads the dictionaries on another core while this process imports Beam. For one
    # worker the load runs on a thread here, which overlaps that import only while it reads the
    # file (checking the tables holds the GIL).
    dictionaries = [d for d in (dictionary, heldout_dict, uncertain_dict) if d]
    if workers > 1:
        from pipelines.runners.worker_pool import warm_template

        warm_template(dictionaries)
    else:
        from pipelines.silver.dictionary_files import prefetch_dictionaries

        prefetch_dictionaries(dictionaries)
    from pipelines.runners.execution import local_execution

    config = _config(
        corpus, dictionary, out, fmt, id_field, text_field, shards, overlap, fuzzy,
        fuzzy_threshold, max_doc_bytes, split_bytes, abbreviations, long_form,
        heldout_dict, uncertain_dict, name_labels, composites, allow_partial,
    )  # fmt: skip
    _run(config, local_execution(LocalRunnerConfig(workers=workers)), as_json, overwrite)


@user_errors
def submit_cli(
    ctx: typer.Context,
    corpus: list[str] = CORPUS,
    dictionary: str = DICT,
    out: str = OUT,
    fmt: FormatChoice = FORMAT,
    id_field: str = ID_FIELD,
    text_field: str = TEXT_FIELD,
    shards: int = SHARDS,
    overlap: OverlapChoice = OVERLAP,
    fuzzy: bool = FUZZY,
    fuzzy_threshold: float = FUZZY_THRESHOLD,
    max_doc_bytes: int = MAX_DOC_BYTES,
    split_bytes: int = SPLIT_BYTES,
    allow_partial: bool = ALLOW_PARTIAL,
    abbreviations: bool = ABBREVIATIONS,
    long_form: LongFormChoice = LONG_FORM,
    name_labels: list[str] = NAME_LABELS,
    composites: bool = COMPOSITES,
    heldout_dict: str | None = HELDOUT_DICT,
    uncertain_dict: str | None = UNCERTAIN_DICT,
    stage: bool = typer.Option(
        True, "--stage/--no-stage", help="Stage this package to the workers (setup.py)."
    ),
    overwrite: bool = OVERWRITE,
    as_json: bool = AS_JSON,
) -> None:
    """Submit the labeling job to a Beam runner; other options go to Beam unchanged.

    Example: binder silver submit 'gs://b/corpus/*.jsonl.gz' --dict gs://b/mesh.dict
    --out gs://b/silver --format jsonl --runner DataflowRunner --project P --region R
    --temp_location gs://b/tmp
    """
    from pipelines.runners.execution import remote_execution

    beam_args, corpus = _split_beam_args(ctx.args, corpus)
    config = _config(
        corpus, dictionary, out, fmt, id_field, text_field, shards, overlap, fuzzy,
        fuzzy_threshold, max_doc_bytes, split_bytes, abbreviations, long_form,
        heldout_dict, uncertain_dict, name_labels, composites, allow_partial,
    )  # fmt: skip
    _run(config, remote_execution(beam_args, stage_package=stage), as_json, overwrite)


def _split_beam_args(extra: list[str], corpus: list[str]) -> tuple[list[str], list[str]]:
    """Unknown options land in ``ctx.args`` or, as ``--flag value`` pairs, among the corpus
    arguments; pull every ``--option`` (and a value that follows it) out for Beam."""
    beam_args = list(extra)
    paths: list[str] = []
    items = list(corpus)
    i = 0
    while i < len(items):
        item = items[i]
        if item.startswith("--"):
            beam_args.append(item)
            if "=" not in item and i + 1 < len(items) and not items[i + 1].startswith("--"):
                beam_args.append(items[i + 1])
                i += 1
        else:
            paths.append(item)
        i += 1
    return beam_args, paths


def register(app: typer.Typer) -> None:
    """Add ``build`` and ``submit`` to the ``binder silver`` group."""
    app.command("build")(build_cli)
    app.command(
        "submit",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(submit_cli)
