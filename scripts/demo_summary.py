"""Print the demo's summary table: dictionary vs trained model on the held-out sample."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table


def main(out: Path) -> None:
    console = Console()
    table = Table(title="Held-out sample documents (gold, exact span + label)")
    for col in ("system", "precision", "recall", "F1"):
        table.add_column(col, justify="right" if col != "system" else "left")
    for name, file in (
        ("dictionary only", "dictionary_metrics.json"),
        ("BINDER trained on silver", "model_metrics.json"),
    ):
        m = json.loads((out / file).read_text())
        table.add_row(name, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}")
    console.print(table)
    console.print("[bold]Prediction[/] for:", (out / "sentence.txt").read_text().strip())
    for line in (out / "prediction.jsonl").read_text().splitlines():
        record = json.loads(line)
        for span in record["spans"]:
            surface = record["text"][span["start"] : span["end"]]
            console.print(f"  {surface!r:32} {span['label']:10} score {span['score']:.2f}")
    console.print(f"Outputs under {out}/ (silver Parquet, run directory with curves.png).")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "demo_out"))
