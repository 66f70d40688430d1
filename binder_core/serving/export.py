"""``binder export``: a trained model as a self-contained ONNX folder (layout:
:mod:`binder_core.inference.export_dir`).

The graph is :meth:`binder_core.model.bi_encoder.BinderModel.text_span_parts`, traced by
``torch.onnx.export`` with dynamic batch and length axes: the text encoder and the span head's
token terms. What does not depend on the text is computed once here and stored beside it: the
scaled span type vectors of the model's labels and the span head's width terms. Span vectors,
thresholds and decoding run at prediction time in the shared numpy code, so the export cannot
drift from the torch path; :func:`export_onnx` checks the graph's outputs against the torch
model's on two batches of different shapes before it writes anything.

Options (:class:`ExportConfig`): ``exporter`` (``dynamo``, torch's default, or the older
``torchscript`` tracer), ``optimize`` (onnxruntime's transformer fusions: one fused attention
kernel per layer, fused layer norms and GELU; for BERT-like encoders), and ``quantize="int8"``
(onnxruntime's dynamic quantization: int8 weights, activations quantized on the fly).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from binder_core.contract.errors import BinderError, ConfigError
from binder_core.contract.outputs import EXPORT_CONFIG_NAME, check_output_path, output_folder
from binder_core.data.batching import window_inputs
from binder_core.data.windows import windows_for_texts
from binder_core.inference.export_dir import (
    GRAPH_NAME,
    INPUT_NAMES,
    OUTPUT_NAMES,
    TOKENIZER_NAME,
    TYPE_VECTORS_KEY,
    VECTORS_NAME,
    WIDTH_VECTORS_KEY,
    ExportInfo,
    ExportMeta,
)
from binder_core.inference.onnx_backend import onnx_session
from binder_core.inference.torch_backend import Predictor
from binder_core.model.bi_encoder import BinderModel
from binder_core.model.model_dir import CARD_NAME, render_model_card
from binder_core.model.saved_model import from_pretrained
from binder_core.serving.export_config import ExportConfig

logger = logging.getLogger(__name__)

PARITY_TOLERANCE = 1e-4
"""Largest |ONNX - torch| of an fp32 graph's outputs on the check batch; more is an error."""

CHECK_TEXTS = (
    "Cisplatin induced nephrotoxicity and hearing loss in mice.",
    "Naloxone reversed the effects of morphine; no renal failure was seen.",
)
"""The batch the graph is traced on (two windows of different lengths, so padded)."""

CHECK_TEXTS_OTHER_SHAPE = (
    "Lithium carbonate can cause diabetes insipidus.",
    " ".join(["Acute renal failure after treatment with gentamicin and cisplatin."] * 40),
    "Aspirin.",
)
"""A second batch of another batch size and length: the graph must not have kept the traced
shapes."""


class ExportError(BinderError):
    """The exported graph does not reproduce the model (a tracer or runtime problem)."""


class _SpanParts(nn.Module):
    """The graph: (input_ids, attention_mask) -> (start_parts, end_parts)."""

    def __init__(self, model: BinderModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> tuple[Tensor, Tensor]:
        return self.model.text_span_parts(input_ids, attention_mask)


def _inputs(predictor: Predictor, texts: tuple[str, ...]) -> dict[str, np.ndarray]:
    windows = windows_for_texts(list(texts), predictor.tokenizer, predictor.data_config)
    arrays = window_inputs(windows, predictor.max_span_width_tokens, predictor.pad_id)
    return {name: arrays[name] for name in INPUT_NAMES}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporters' and quantizer's notices about their own internals stay out of the CLI."""
    loggers = [logging.getLogger(), logging.getLogger("torch.onnx")]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)


def _trace(
    model: BinderModel, sample: dict[str, np.ndarray], path: Path, config: ExportConfig
) -> None:
    """Write the graph of :class:`_SpanParts` to ``path`` with dynamic batch and length."""
    args = tuple(torch.from_numpy(sample[name]) for name in INPUT_NAMES)
    big = sum(p.numel() * p.element_size() for p in model.parameters()) > 1.5 * 2**30
    graph = _SpanParts(model).eval()
    with _quiet(), torch.no_grad():
        if config.exporter == "dynamo":
            dims = {0: torch.export.Dim("batch"), 1: torch.export.Dim("length")}
            torch.onnx.export(
                graph, args, str(path), dynamo=True, input_names=list(INPUT_NAMES),
                output_names=list(OUTPUT_NAMES), dynamic_shapes={n: dims for n in INPUT_NAMES},
                opset_version=config.opset, external_data=big, verbose=False,
            )  # fmt: skip
        else:
            axes = {n: {0: "batch", 1: "length"} for n in (*INPUT_NAMES, *OUTPUT_NAMES)}
            torch.onnx.export(
                graph, args, str(path), dynamo=False, input_names=list(INPUT_NAMES),
                output_names=list(OUTPUT_NAMES), dynamic_axes=axes, opset_version=config.opset,
            )  # fmt: skip


def _optimize(path: Path, encoder_config: Any) -> None:
    """onnxruntime's transformer fusions (attention, layer norm, GELU), in place."""
    from onnxruntime.transformers.optimizer import optimize_model

    with _quiet():
        optimized = optimize_model(
            str(path), model_type="bert", num_heads=int(encoder_config.num_attention_heads),
            hidden_size=int(encoder_config.hidden_size),
        )  # fmt: skip
        optimized.save_model_to_file(str(path))


def _quantize(source: Path, target: Path) -> None:
    """Dynamic int8 quantization of the graph's matrix products."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet():
        quantize_dynamic(
            str(source), str(target), weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )  # fmt: skip


def _versions() -> dict[str, str]:
    import onnx
    import onnxruntime

    return {
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def export_onnx(
    model_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    config: ExportConfig | None = None,
    *,
    overwrite: bool = False,
) -> ExportMeta:
    """Export the model (or run folder) at ``model_path`` to ``out_dir``; returns its metadata.

    ``out_dir`` is replaced whole (:func:`binder_core.contract.outputs.output_folder`); a folder
    that holds files binder-ner did not write is refused unless ``overwrite``. Raises
    :class:`ExportError` when an fp32 graph's outputs differ from the torch model's by more than
    :data:`PARITY_TOLERANCE`.
    """
    config = config or ExportConfig()
    check_output_path(out_dir, inputs=[model_path], overwrite=overwrite, kind="export")
    saved = from_pretrained(model_path, device="cpu")
    model = saved.model.eval()
    model.text_encoder.set_attn_implementation(config.attention)
    info = saved.info
    predictor = Predictor(
        model, saved.tokenizer, info.labels, info.type_descriptions, info.data_config,
        torch.device("cpu"), amp_dtype=None, decoding=info.decoding,
    )  # fmt: skip
    sample = _inputs(predictor, CHECK_TEXTS)
    checks = [sample, _inputs(predictor, CHECK_TEXTS_OTHER_SHAPE)]
    with torch.no_grad():
        expected = [predictor.encode_parts(inputs) for inputs in checks]
        type_vectors = predictor.span_type_matrix(info.labels)
        width_vectors = predictor.width_vectors()
    with (
        tempfile.TemporaryDirectory() as scratch,
        output_folder(out_dir, "export", inputs=[model_path], overwrite=overwrite) as tmp,
    ):
        traced = Path(scratch) / GRAPH_NAME
        _trace(model, sample, traced, config)
        if config.optimize:
            _optimize(traced, model.text_encoder.config)
        if config.quantize == "int8":
            _quantize(traced, tmp / GRAPH_NAME)
        else:
            shutil.move(traced, tmp / GRAPH_NAME)
        session = onnx_session(tmp / GRAPH_NAME)
        diff = 0.0
        for inputs, wanted in zip(checks, expected, strict=True):
            got = session.run(list(OUTPUT_NAMES), inputs)
            for g, e in zip(got, wanted, strict=True):
                diff = max(diff, float(np.abs(g - e).max()))
        if config.quantize == "fp32" and not diff <= PARITY_TOLERANCE:
            raise ExportError(
                f"the exported graph differs from the torch model by {diff:.3g} "
                f"(> {PARITY_TOLERANCE}) on the check batches; try another --exporter, "
                "--attention or --opset"
            )
        logger.info("export parity: max |onnx - torch| = %.3g (%s)", diff, config.quantize)
        vectors = {TYPE_VECTORS_KEY: type_vectors, WIDTH_VECTORS_KEY: width_vectors}
        np.savez(tmp / VECTORS_NAME, allow_pickle=False, **vectors)
        saved.tokenizer.save_pretrained(tmp)
        if not (tmp / TOKENIZER_NAME).is_file():
            raise ConfigError(f"the model's tokenizer wrote no {TOKENIZER_NAME}; it must be fast")
        meta = ExportMeta(
            Path(out_dir),
            model.config,
            info,
            ExportInfo(
                precision=config.quantize,
                opset=config.opset,
                exporter=config.exporter,
                optimized=config.optimize,
                cls_token_id=int(saved.tokenizer.cls_token_id),
                sep_token_id=int(saved.tokenizer.sep_token_id),
                pad_token_id=predictor.pad_id,
                source=str(saved.path.resolve()),
                max_abs_diff=diff,
                versions=_versions(),
            ),
        )
        (tmp / EXPORT_CONFIG_NAME).write_text(meta.to_json(), encoding="utf-8")
        (tmp / CARD_NAME).write_text(render_export_card(meta), encoding="utf-8")
    logger.info("exported %s to %s (%s)", saved.path, out_dir, config.quantize)
    return meta


def render_export_card(meta: ExportMeta) -> str:
    """The model card of the source model plus what the export holds and how to run it."""
    e = meta.export
    parity = "" if e.max_abs_diff is None else f"; max |onnx - torch| {e.max_abs_diff:.3g}"
    lines = [
        render_model_card(meta.model, meta.info).rstrip("\n"),
        "",
        "## This export",
        "",
        f"- ONNX graph `{GRAPH_NAME}` (opset {e.opset}, {e.precision}, {e.exporter} exporter"
        f"{', fused' if e.optimized else ''}): the text encoder and the span head's token terms, "
        "dynamic batch and length",
        f"- `{VECTORS_NAME}`: the labels' span type vectors and the width terms, computed once",
        f"- exported from `{e.source}`{parity} on the check batch",
        "- runs with onnxruntime, tokenizers, numpy and pyarrow only "
        "(`pip install 'binder-ner[onnx]'`; no torch)",
        "",
    ]
    return "\n".join(lines)
