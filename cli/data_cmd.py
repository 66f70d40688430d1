"""``binder data convert``: gold data sets (PubTator, CoNLL-style, BINDER JSONL) to Parquet."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer
from rich.table import Table

from binder_core.contract.errors import ConfigError
from binder_core.contract.options import default_of
from cli._common import console, user_errors
from cli._options import OVERWRITE, config_option
from pipelines.gold.convert import ConvertConfig

if TYPE_CHECKING:
    from pipelines.gold.conll import IobScheme
    from pipelines.gold.convert import GoldFormat


class GoldFormatChoice(str, Enum):
    pubtator = "pubtator"
    conll = "conll"
    binder_jsonl = "binder-jsonl"


class SchemeChoice(str, Enum):
    auto = "auto"
    iob1 = "iob1"
    iob2 = "iob2"


def _parse_label_map(items: list[str]) -> dict[str, str]:
    mapping = {}
    for item in items:
        source, sep, target = item.partition("=")
        if not sep or not source or not target:
            raise ConfigError(f"--label-map {item!r}: write it as FROM=TO, e.g. Modifier=Disease")
        mapping[source] = target
    return mapping


@user_errors
def convert_cli(
    inputs: list[str] = typer.Argument(
        ...,
        metavar="INPUT... OUT_DIR",
        help="Gold files or quoted glob patterns, then the output folder (last).",
    ),
    fmt: GoldFormatChoice = typer.Option(..., "--format", "-f", help="Input format."),
    # default, help and range of each from ConvertConfig (declared once)
    scheme: SchemeChoice = config_option(
        ConvertConfig,
        "scheme",
        "--scheme",
        default=SchemeChoice(default_of(ConvertConfig, "scheme")),
    ),
    label_map: list[str] = config_option(ConvertConfig, "label_map", "--label-map", default=[]),
    keep_label: list[str] = config_option(ConvertConfig, "keep_labels", "--keep-label"),
    shards: int = config_option(ConvertConfig, "num_shards", "--shards"),
    overwrite: bool = OVERWRITE,
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Convert gold NER data to the binder-ner Parquet schema (origin = gold).

    PubTator: doc_id = PMID, text = title + " " + abstract. CoNLL: tag in the last column,
    -DOCSTART- starts a document (else one document per sentence), tokens joined by spaces.
    binder-jsonl: BINDER JSONL (text + entity_* char offsets) or W2NER JSON (sentence + ner).
    """
    from pipelines.gold.convert import ConvertConfig, convert_gold

    if len(inputs) < 2:
        raise ConfigError("give at least one INPUT and then OUT_DIR")
    *sources, out_dir = inputs
    config = ConvertConfig(
        format=cast("GoldFormat", fmt.value),
        scheme=cast("IobScheme", scheme.value),
        label_map=_parse_label_map(label_map),
        keep_labels=tuple(keep_label),
        num_shards=shards,
    )
    result = convert_gold(sources, Path(out_dir), config, overwrite=overwrite)
    if as_json:
        typer.echo(json.dumps(result.manifest, ensure_ascii=False))
        return
    console.print(f"{result.documents:,} gold documents -> {result.out_dir}", highlight=False)
    table = Table()
    table.add_column("label")
    table.add_column("spans", justify="right")
    for label, n in result.spans_per_label.items():
        table.add_row(label, f"{n:,}")
    table.add_row("[bold]total[/]", f"[bold]{sum(result.spans_per_label.values()):,}[/]")
    console.print(table)
    counts = result.manifest["counts"]
    for key in ("duplicate_documents_skipped", "duplicate_spans_removed"):
        if counts[key]:
            console.print(f"{key.replace('_', ' ')}: {counts[key]:,}")


@user_errors
def split_cli(
    source: Path = typer.Argument(..., help="Parquet file or folder of shards (gold or silver)."),
    out_dir: Path = typer.Argument(..., help="Output folder: one sub-folder per part."),
    part: list[str] = typer.Option(
        ..., "--part", "-p", help="NAME=FRACTION (repeatable; fractions add up to 1)."
    ),
    seed: int = typer.Option(0, "--seed", help="Changes which documents go where."),
    overwrite: bool = OVERWRITE,
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Split a data set into parts by a hash of each document id (reproducible anywhere).

    Example: binder data split gold/ splits/ --part train=0.8 --part dev=0.1 --part test=0.1
    """
    from pipelines.datasets.split import parse_parts, split_dataset

    result = split_dataset(source, out_dir, parse_parts(part), seed=seed, overwrite=overwrite)
    if as_json:
        typer.echo(json.dumps(result.manifest, ensure_ascii=False))
        return
    table = Table()
    for column in ("part", "documents", "spans"):
        table.add_column(column, justify="left" if column == "part" else "right")
    for name, n in result.documents.items():
        table.add_row(name, f"{n:,}", f"{result.spans[name]:,}")
    table.add_row(
        "[bold]total[/]",
        f"[bold]{sum(result.documents.values()):,}[/]",
        f"[bold]{sum(result.spans.values()):,}[/]",
    )
    console.print(
        f"{sum(result.documents.values()):,} documents -> {out_dir}/<part>", highlight=False
    )
    console.print(table)


@user_errors
def texts_cli(
    source: Path = typer.Argument(..., help="Parquet file or folder of shards (gold or silver)."),
    out_file: Path = typer.Argument(..., help="JSONL file to write: one {id, text} per line."),
) -> None:
    """Write the texts of a data set as a JSONL corpus (ids kept, spans left out).

    Example: binder data texts gold_conll/ conll.jsonl; binder silver build conll.jsonl
    --format jsonl --dict D --out silver/ (doc ids and texts then match the gold set).
    """
    from pipelines.datasets.texts import write_texts

    count = write_texts(source, out_file)
    console.print(f"{count:,} documents -> {out_file}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``convert``, ``split`` and ``texts`` to the ``binder data`` group."""
    app.command("convert")(convert_cli)
    app.command("split")(split_cli)
    app.command("texts")(texts_cli)
