"""``binder silver augment``: one self-training round, silver spans plus a model's predictions."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from cli._common import console, user_errors
from cli._options import OVERWRITE


@user_errors
def augment_cli(
    silver_dir: Path = typer.Argument(..., help="Silver Parquet file or folder of shards."),
    predictions: Path = typer.Argument(
        ..., help="`binder predict RUN SILVER_DIR preds.parquet` output on that same silver set."
    ),
    out_dir: Path = typer.Argument(..., help="Output folder for the augmented silver set."),
    min_score: float = typer.Option(
        0.9,
        "--min-score",
        help="Predictions at or above it become positives; those below, uncertain spans.",
    ),
    overwrite: bool = OVERWRITE,
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Add the predictions the dictionary missed (it wins where they overlap) to silver labels.

    Self-training: train, predict on the silver text, augment, train again on OUT_DIR.
    """
    from pipelines.silver.augment import augment_silver

    result = augment_silver(silver_dir, predictions, out_dir, min_score, overwrite=overwrite)
    if as_json:
        typer.echo(json.dumps(result.manifest, ensure_ascii=False))
        return
    counts = result.manifest["counts"]
    console.print(
        f"{result.documents:,} documents -> {out_dir}: {counts['silver_spans']:,} silver spans, "
        f"{counts['predicted_spans']:,} predicted",
        highlight=False,
    )
    table = Table()
    table.add_column("predicted spans")
    table.add_column("count", justify="right")
    for key in ("agreed_with_dictionary", "overlapping_dictionary", "added", "added_uncertain"):
        table.add_row(key.replace("_", " "), f"{counts[key]:,}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``augment`` to the ``binder silver`` group."""
    app.command("augment")(augment_cli)
