"""The ONNX runtime backend: an export folder (``binder export``) tagged with onnxruntime.

Needs onnxruntime, tokenizers, numpy and pyarrow (``pip install 'binder-ner[onnx]'``), and never
imports torch or transformers: the graph gives the span head's token terms, and the windows,
batches, span vectors, thresholds and decoding are
:class:`binder_core.inference.engine.SpanTagger`'s,
the same code the torch backend runs. Type vectors were computed at export, so this backend
tags the model's own labels (or a subset of them), and no type encoder runs here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from binder_core.contract.errors import ConfigError, InputError
from binder_core.data.batching import InputArrays
from binder_core.data.tokenization import TokenizerFile
from binder_core.inference.engine import Floats, SpanTagger
from binder_core.inference.export_dir import (
    GRAPH_NAME,
    INPUT_NAMES,
    OUTPUT_NAMES,
    TOKENIZER_NAME,
    TYPE_VECTORS_KEY,
    VECTORS_NAME,
    WIDTH_VECTORS_KEY,
    ExportMeta,
    read_export,
)


def onnx_session(path: str | os.PathLike[str], threads: int | None = None) -> Any:
    """An onnxruntime CPU session with every graph optimization on."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ConfigError(
            "running an exported model needs onnxruntime: pip install 'binder-ner[onnx]'"
        ) from None
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads is not None:
        options.intra_op_num_threads = int(threads)
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own error types for a damaged graph
        raise InputError(
            f"unreadable ONNX graph ({type(exc).__name__}: {exc})", path=str(path)
        ) from None


class OnnxPredictor(SpanTagger):
    """An exported model on onnxruntime, with the API of the torch backend's ``Predictor``."""

    backend = "onnx"

    def __init__(
        self,
        session: Any,
        tokenizer: Any,
        meta: ExportMeta,
        type_vectors: Floats,
        width_vectors: Floats,
        *,
        min_margin: float = 0.0,
    ) -> None:
        """``type_vectors`` (K, d): the scaled span type vectors of ``meta.info.labels``, in
        order; ``width_vectors`` (W, d): the span head's width terms."""
        info = meta.info
        super().__init__(
            tokenizer, info.labels, info.data_config, meta.model.max_span_width_tokens,
            min_margin=min_margin, decoding=info.decoding,
        )  # fmt: skip
        if type_vectors.shape[0] != len(info.labels):
            raise InputError(
                f"{len(info.labels)} labels but {type_vectors.shape[0]} type vectors",
                path=str(meta.path / VECTORS_NAME),
            )
        if width_vectors.shape[0] != self.max_span_width_tokens:
            raise InputError(
                f"{width_vectors.shape[0]} width vectors for spans of up to "
                f"{self.max_span_width_tokens} tokens",
                path=str(meta.path / VECTORS_NAME),
            )
        self.session = session
        self.meta = meta
        self.precision = meta.export.precision
        self._rows = {label: k for k, label in enumerate(info.labels)}
        self._type_vectors = np.ascontiguousarray(type_vectors, dtype=np.float32)
        self._width_vectors = np.ascontiguousarray(width_vectors, dtype=np.float32)

    @classmethod
    def from_export(
        cls,
        path: str | os.PathLike[str],
        *,
        min_margin: float = 0.0,
        threads: int | None = None,
    ) -> OnnxPredictor:
        """A predictor for an export folder (or a folder whose ``best/`` is one)."""
        meta = read_export(path)
        e = meta.export
        tokenizer = TokenizerFile.from_file(
            meta.path / TOKENIZER_NAME, e.cls_token_id, e.sep_token_id, e.pad_token_id
        )
        try:
            with np.load(meta.path / VECTORS_NAME, allow_pickle=False) as vectors:
                types, widths = vectors[TYPE_VECTORS_KEY], vectors[WIDTH_VECTORS_KEY]
        except (OSError, KeyError, ValueError) as exc:
            raise InputError(
                f"unreadable vectors ({exc})", path=str(meta.path / VECTORS_NAME)
            ) from None
        session = onnx_session(meta.path / GRAPH_NAME, threads)
        return cls(session, tokenizer, meta, types, widths, min_margin=min_margin)

    def span_type_matrix(self, labels: Sequence[str]) -> Floats:
        unknown = [label for label in labels if label not in self._rows]
        if unknown:
            raise ConfigError(
                f"unknown entity type(s) {unknown}; the model knows {self.labels} (an exported "
                "model tags the labels it was exported with)"
            )
        return self._type_vectors[[self._rows[label] for label in labels]]

    def width_vectors(self) -> Floats:
        return self._width_vectors

    def encode_parts(self, inputs: InputArrays) -> tuple[Floats, Floats]:
        feed = {name: inputs[name] for name in INPUT_NAMES}
        starts, ends = self.session.run(list(OUTPUT_NAMES), feed)
        return starts, ends
