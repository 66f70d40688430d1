"""``binder export``: a trained model as a self-contained folder that runs without torch.

A thin wrapper over :func:`binder_core.serving.export.export_onnx`; torch, onnx and onnxruntime are
imported inside the command.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from binder_core.serving.export_config import Attention, ExportConfig, Exporter
from cli._common import console, require_model_extra, require_onnx_extra, user_errors
from cli._options import OVERWRITE, config_option


class ExportFormat(str, Enum):
    onnx = "onnx"


class QuantizeChoice(str, Enum):
    no = "no"
    int8 = "int8"


@user_errors
def export_cli(
    run_dir: Path = typer.Argument(..., help="Run folder from `binder train`, or a model folder."),
    out_dir: Path = typer.Argument(
        ..., help="Export folder to write (an earlier export there is replaced)."
    ),
    fmt: ExportFormat = typer.Option(ExportFormat.onnx, "--format", help="Export format."),
    # defaults, help and ranges from ExportConfig (declared once)
    quantize: QuantizeChoice = config_option(
        ExportConfig, "quantize", "--quantize", default=QuantizeChoice.no
    ),
    opset: int = config_option(ExportConfig, "opset", "--opset"),
    attention: Attention = config_option(ExportConfig, "attention", "--attention"),
    exporter: Exporter = config_option(ExportConfig, "exporter", "--exporter"),
    optimize: bool = config_option(ExportConfig, "optimize", "--optimize/--no-optimize"),
    overwrite: bool = OVERWRITE,
) -> None:
    """Export a model to ONNX, with its type vectors, tokenizer, configs and model card.

    `binder predict OUT_DIR ...` then runs it on onnxruntime, without torch.
    """
    require_model_extra()
    require_onnx_extra()
    from binder_core.serving.export import export_onnx

    config = ExportConfig(
        quantize="int8" if quantize == QuantizeChoice.int8 else "fp32",
        opset=opset,
        attention=attention,
        exporter=exporter,
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
