"""``binder silver stats`` and ``binder silver eval``: inspect and score silver Parquet."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer
from rich.table import Table

from cli._common import console, user_errors
from cli._options import config_option
from pipelines.datasets.evaluate import EvalConfig

if TYPE_CHECKING:
    from pipelines.datasets.evaluate import MissingPolicy, UncertainPolicy
    from pipelines.datasets.stats import SilverStats


class UncertainChoice(str, Enum):
    include = "include"
    exclude = "exclude"


class MissingChoice(str, Enum):
    false_negatives = "false-negatives"
    skip = "skip"


@user_errors
def stats_cli(
    silver_dir: Path = typer.Argument(..., help="Parquet file or folder of shards."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    html: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report."),
    png: Path | None = typer.Option(None, "--png", help="Write the charts as PNG into DIR."),
    top: int = typer.Option(10, "--top", min=0, help="Most frequent terms shown per label."),
) -> None:
    """Counts per label, spans per document, coverage, top terms, origins, uncertain spans."""
    from pipelines.datasets.stats import silver_stats, write_stats_html, write_stats_pngs

    stats = silver_stats(silver_dir, top_k=top)
    written = []
    if html is not None:
        written.append(write_stats_html(stats, html))
    if png is not None:
        written.extend(write_stats_pngs(stats, png))
    if as_json:
        typer.echo(json.dumps(stats.to_dict(), ensure_ascii=False))
    else:
        _print_stats(stats)
    for path in written:
        typer.echo(f"wrote {path}", err=True)


def _print_stats(stats: SilverStats) -> None:
    summary = Table(title=f"Silver data: {stats.path}", show_header=False)
    summary.add_row("documents", f"{stats.documents:,}")
    summary.add_row(
        "documents with ≥ 1 span",
        f"{stats.documents_with_spans:,} ({stats.document_coverage:.1%})",
    )
    summary.add_row(
        "characters covered",
        f"{stats.characters_covered:,} of {stats.characters:,} ({stats.character_coverage:.1%})",
    )
    summary.add_row(
        "spans per document",
        f"mean {stats.spans_per_document_mean:.2f}, max {stats.spans_per_document_max:,}",
    )
    summary.add_row("uncertain spans", f"{stats.uncertain:,}")
    summary.add_row("origins", ", ".join(f"{k}: {v:,}" for k, v in stats.origins.items()) or "-")
    for key, n in stats.labeling.items():
        if n:
            summary.add_row(key.replace("_", " "), f"{n:,}")
    console.print(summary)
    labels = Table(title="Spans per label")
    for name in ("label", "spans", "uncertain", "top terms"):
        labels.add_column(name, justify="right" if name in ("spans", "uncertain") else "left")
    for label, n in stats.spans_per_label.items():
        terms = ", ".join(f"{t} ({c})" for t, c in stats.top_terms.get(label, [])[:5])
        labels.add_row(label, f"{n:,}", f"{stats.uncertain_per_label.get(label, 0):,}", terms)
    console.print(labels)


@user_errors
def eval_cli(
    silver_dir: Path = typer.Argument(..., help="Silver Parquet file or folder of shards."),
    gold_dir: Path = typer.Argument(..., help="Gold Parquet (from `binder data convert`)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    # default and help of each from EvalConfig (declared once)
    uncertain: UncertainChoice = config_option(
        EvalConfig, "uncertain", "--uncertain", default=UncertainChoice(EvalConfig().uncertain)
    ),
    missing: MissingChoice = config_option(
        EvalConfig, "missing", "--missing", default=MissingChoice(EvalConfig().missing)
    ),
    label: list[str] = config_option(EvalConfig, "labels", "--label"),
) -> None:
    """Exact span + label precision, recall and F1 of silver against gold, joined on doc_id."""
    from pipelines.datasets.evaluate import silver_eval

    config = EvalConfig(
        uncertain=cast("UncertainPolicy", uncertain.value),
        missing=cast("MissingPolicy", missing.value),
        labels=tuple(label),
    )
    report = silver_eval(silver_dir, gold_dir, config)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    _print_eval(report)


def _print_eval(report: dict[str, Any]) -> None:
    table = Table(title=f"{report['silver']} vs gold {report['gold']} (exact span + label)")
    for name in ("label", "precision", "recall", "f1", "tp", "fp", "fn"):
        table.add_column(name, justify="left" if name == "label" else "right")

    def row(name: str, s: dict[str, Any], style: str = "") -> None:
        cells = [f"{s[k]:.4f}" for k in ("precision", "recall", "f1")]
        cells += [f"{s[k]:,}" for k in ("tp", "fp", "fn")]
        table.add_row(name, *cells, style=style)

    for label, scores in report["per_label"].items():
        row(label, scores)
    row("micro", report, style="bold")
    console.print(table)
    docs, spans = report["documents"], report["spans"]
    console.print(
        f"documents: {docs['matched']:,} matched, {docs['gold_only']:,} only in gold "
        f"({report['options']['missing']}), {docs['silver_only']:,} only in silver (not scored)"
        + (
            f", {docs['silver_duplicates']:,} repeated silver ids"
            if docs["silver_duplicates"]
            else ""
        )
    )
    console.print(
        f"silver spans: {spans['silver_uncertain']:,} uncertain "
        f"({report['options']['uncertain']}d), "
        f"{spans['silver_other_labels']:,} with labels outside {report['labels']} (not scored), "
        f"{spans['silver_any_label']:,} of any type ('*', never scored)"
    )
    unsure = report["uncertain"]
    if unsure["spans"]:
        console.print(
            f"uncertain spans: {unsure['spans']:,}, of which {unsure['spans_not_gold']:,} "
            f"not gold; gold spans missed by the certain spans: {unsure['gold_missed']:,}, "
            f"of which {unsure['gold_missed_covered']:,} covered by an uncertain span"
        )


def register(app: typer.Typer) -> None:
    """Add ``stats`` and ``eval`` to the ``binder silver`` group."""
    app.command("stats")(stats_cli)
    app.command("eval")(eval_cli)
