"""``binder link``: ground mentions in the compiled dictionary's concepts, and measure it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from cli._common import console, user_errors


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""

    @app.command("evaluate")
    @user_errors
    def evaluate_cmd(
        gold: Path = typer.Argument(
            ..., help="Gold data set (contract Parquet, with concept ids)."
        ),
        dictionary: Path = typer.Option(..., "--dict", help="Compiled dictionary to link with."),
        threshold: float | None = typer.Option(
            None, help="Abstain below this score (default: the one the index was built with)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
        errors: int = typer.Option(0, help="List this many wrong links (JSON: 'errors')."),
    ) -> None:
        """Link every gold mention from its surface and type; accuracy@1/@k, abstentions.

        Scored over the gold mentions whose concept the dictionary holds (a composite mention
        is right with any of its ids), overall, per type, and apart for the mentions the
        dictionary does not match exactly; the others are counted under not_held.
        """
        from dataclasses import replace

        from dictionaries import load_compiled
        from dictionaries.linking.index_file import linker_for
        from dictionaries.linking.linker import Linker, exact_test
        from pipelines.datasets.link_evaluate import evaluate_linking_dataset

        compiled = load_compiled(dictionary)
        linker = linker_for(dictionary, compiled)
        if threshold is not None:
            index = linker.index
            linker = Linker(replace(index, config=replace(index.config, threshold=threshold)))
        report = evaluate_linking_dataset(gold, linker, exact_test(compiled)).to_dict()
        report["errors"] = report["errors"][:errors]
        report["threshold"] = linker.index.config.threshold
        report["dictionary_fingerprint"] = compiled.fingerprint
        if as_json:
            console.print_json(json.dumps(report))
            return
        _print_report(report)


def _print_report(report: dict[str, Any]) -> None:
    from rich.table import Table

    k = next(key for key in report if key.startswith("accuracy@") and key != "accuracy@1")
    table = Table(show_header=True)
    for column in ("mentions", "", "n", "accuracy@1", k, "abstained"):
        table.add_column(column, justify="left" if column in ("mentions", "") else "right")

    def row(group: str, name: str, tally: dict[str, Any]) -> None:
        table.add_row(group, name, f"{tally['mentions']:,}", f"{tally['accuracy@1']:.3f}",
                      f"{tally[k]:.3f}", f"{tally['abstained']:.3f}")  # fmt: skip

    row("all", "", report)
    for label, tally in report["per_label"].items():
        row("all", label, tally)
    row("not exact", "", report["not_exact"])
    for label, tally in report["not_exact_per_label"].items():
        row("not exact", label, tally)
    row("exact", "", report["exact"])
    console.print(table)
    held = report["not_held"]
    console.print(
        f"not held by the dictionary: {held['mentions']:,} mentions "
        f"({held['abstained']:.3f} abstained); no gold id: {report['no_gold_id']:,}; "
        f"threshold {report['threshold']}",
        highlight=False,
    )
    for error in report["errors"]:
        console.print(json.dumps(error), highlight=False, markup=False)
