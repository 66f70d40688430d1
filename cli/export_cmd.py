"""``binder export``: a trained model as a self-contained folder that runs without torch.

A thin wrapper over :func:`binder_core.export.export_onnx`; torch, onnx and onnxruntime are
imported inside the command.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from cli._common import console, require_model_extra, require_onnx_extra, user_errors
from cli._options import OVERWRITE


class ExportFormat(str, Enum):
    onnx = "onnx"


class QuantizeChoice(str, Enum):
    no = "no"
    int8 = "int8"


class ExporterChoice(str, Enum):
    dynamo = "dynamo"
    torchscript = "torchscript"


class AttentionChoice(str, Enum):
    eager = "eager"
    sdpa = "sdpa"


@user_errors
def export_cli(
    run_dir: Path = typer.Argument(..., help="Run folder from `binder train`, or a model folder."),
    out_dir: Path = typer.Argument(
        ..., help="Export folder to write (an earlier export there is replaced)."
    ),
    fmt: ExportFormat = typer.Option(ExportFormat.onnx, "--format", help="Export format."),
    quantize: QuantizeChoice = typer.Option(
        QuantizeChoice.no, "--quantize", help="int8: dynamic quantization of the graph's weights."
    ),
    opset: int = typer.Option(18, "--opset", min=17, help="ONNX opset of the graph."),
    attention: AttentionChoice = typer.Option(
        AttentionChoice.eager, "--attention", help="The encoder's attention kernel while tracing."
    ),
    exporter: ExporterChoice = typer.Option(
        ExporterChoice.dynamo,
        "--exporter",
        help="dynamo (torch.export) or torchscript (the older tracer, whose graphs --optimize "
        "fuses best).",
    ),
    optimize: bool = typer.Option(
        False,
        "--optimize/--no-optimize",
        help="Apply onnxruntime's transformer fusions (BERT-like encoders).",
    ),
    overwrite: bool = OVERWRITE,
) -> None:
    """Export a model to ONNX, with its type vectors, tokenizer, configs and model card.

    `binder predict OUT_DIR ...` then runs it on onnxruntime, without torch.
    """
    require_model_extra()
    require_onnx_extra()
    from binder_core.export import ExportConfig, export_onnx

    config = ExportConfig(
        quantize="int8" if quantize == QuantizeChoice.int8 else "fp32",
        opset=opset,
        attention=attention.value,
        exporter=exporter.value,
        optimize=optimize,
    )
    with console.status(f"Exporting {run_dir} to {fmt.value} ...", refresh_per_second=2):
        meta = export_onnx(run_dir, out_dir, config, overwrite=overwrite)
    e = meta.export
    console.print(
        f"wrote {out_dir}: {fmt.value} {e.precision}, {len(meta.info.labels)} type(s), "
        f"max |onnx - torch| {e.max_abs_diff:.2g} on the check batch",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``export`` to the root ``binder`` app."""
    app.command("export")(export_cli)
