"""The backend-neutral half of prediction: windows -> batches -> encoder -> decode, per document.

A backend (torch: :class:`binder_core.inference.torch_backend.Predictor`; onnxruntime:
:class:`binder_core.inference.onnx_backend.OnnxPredictor`) supplies three things as numpy arrays:
the span head's token terms of a batch (:meth:`SpanTagger.encode_parts`, (B, L, d) each), its width
terms ((W, d)) and the scaled type vectors of a label set ((K, d)). Everything else is here and in
the torch-free modules below it, so both backends cut the same windows
(:mod:`binder_core.data.windows`), pad the same batches (:mod:`binder_core.data.batching`) and
decode with the same code (:mod:`binder_core.inference.decoding`).

Windows of one document arrive consecutively (they are cut in document order), so a document
is decoded as soon as its last window is scored and memory stays bounded by one batch. Each
batch builds span vectors for its candidate cells only and scores them (N, d) @ (d, K):
1,000 types cost little more than 10.

Torch-free.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from binder_core.contract.errors import ConfigError
from binder_core.contract.schema import Origin, make_span
from binder_core.data.batching import InputArrays, pad_token_id, window_batches
from binder_core.data.config import DataConfig
from binder_core.data.windows import WindowExample, WindowMeta, windows_for_texts
from binder_core.inference.decoding import SpanPrediction, decode_batch_parts, decode_document
from binder_core.inference.options import INFERENCE_BATCH_SIZE
from binder_core.model.config import DECODINGS

Floats = npt.NDArray[np.float32]


def check_decoding(decoding: str) -> None:
    if decoding not in DECODINGS:
        raise ConfigError(f"decoding must be one of {list(DECODINGS)}, got {decoding!r}")


def check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch size must be a positive integer, got {batch_size!r}")


def to_span(prediction: SpanPrediction) -> dict[str, Any]:
    """A contract span dict (origin "model"); score = sigmoid(margin over the threshold), so
    predicted spans score in (0.5, 1)."""
    return make_span(
        prediction.start,
        prediction.end,
        prediction.label,
        origin=Origin.MODEL,
        score=1.0 / (1.0 + math.exp(-prediction.score)),
    )


class SpanTagger:
    """A span encoder with its tokenizer, types and data settings, ready to tag texts.

    Subclasses implement :meth:`encode_parts`, :meth:`width_vectors` and
    :meth:`span_type_matrix` (and may wrap a call in :meth:`inference_context`); the tagging
    itself (:meth:`predict_windows`, :meth:`predict_spans`, :meth:`predict`) is shared.
    """

    backend = "none"
    """What runs the encoder ("torch", "onnx"), for reports."""

    def __init__(
        self,
        tokenizer: Any,
        labels: Sequence[str],
        data_config: DataConfig,
        max_span_width_tokens: int,
        *,
        min_margin: float = 0.0,
        decoding: str = "flat",
    ) -> None:
        """``decoding`` is the default of every call that does not choose one (a saved model's
        own, :attr:`binder_core.model.model_dir.ModelInfo.decoding`). ``min_margin``: how far (in
        scaled score units) a span must beat its window's threshold to be predicted; 0 is the
        model's own threshold, more trades recall for precision."""
        if not labels:
            raise ConfigError("a predictor needs at least one entity type")
        if not min_margin >= 0:
            raise ConfigError(f"min_margin must be >= 0, got {min_margin!r}")
        check_decoding(decoding)
        self.tokenizer = tokenizer
        self.labels: tuple[str, ...] = tuple(labels)
        self.data_config = data_config
        self.max_span_width_tokens = int(max_span_width_tokens)
        self.min_margin = float(min_margin)
        self.decoding = decoding
        self.pad_id = pad_token_id(tokenizer)

    # -- what a backend supplies ------------------------------------------------------------
    def encode_parts(self, inputs: InputArrays) -> tuple[Floats, Floats]:
        """The span head's token terms (start, end), each (B, L, d) float32, of a batch."""
        raise NotImplementedError

    def width_vectors(self) -> Floats:
        """The span head's width terms (W, d) float32."""
        raise NotImplementedError

    def span_type_matrix(self, labels: Sequence[str]) -> Floats:
        """Span type vectors (K, d) float32 of ``labels``, scaled by exp(alpha)."""
        raise NotImplementedError

    def inference_context(self) -> contextlib.AbstractContextManager[Any]:
        """Entered around a whole prediction (torch: eval mode, no gradients)."""
        return contextlib.nullcontext()

    # -- shared -------------------------------------------------------------------------------
    def iter_window_predictions(
        self,
        batches: Iterable[tuple[InputArrays, list[WindowMeta]]],
        labels: Sequence[str],
    ) -> Iterator[tuple[WindowMeta, list[SpanPrediction]]]:
        """Above-threshold spans (char offsets) of every window of ``batches``, in batch order.

        The batches' ``span_mask`` must be the model's band, (B, L, max_span_width_tokens).
        """
        types = self.span_type_matrix(labels)  # (K, d)
        widths = self.width_vectors()  # (W, d)
        for inputs, metas in batches:
            starts, ends = self.encode_parts(inputs)  # (B, L, d) each
            per_window = decode_batch_parts(
                starts, ends, widths, inputs["span_mask"], types, inputs["offsets"], labels,
                self.max_span_width_tokens, self.min_margin,
            )  # fmt: skip
            yield from zip(metas, per_window, strict=True)

    def predict_windows(
        self,
        windows: Iterable[WindowExample],
        decoding: str | None = None,
        batch_size: int = INFERENCE_BATCH_SIZE,
        labels: Sequence[str] | None = None,
    ) -> Iterator[tuple[WindowMeta, list[SpanPrediction]]]:
        """(last window's meta, decoded predictions) per document of a window stream.

        ``windows`` must hold each document's windows consecutively and completely.
        """
        decoding = decoding or self.decoding
        check_decoding(decoding)
        check_batch_size(batch_size)
        label_set = tuple(labels) if labels is not None else self.labels
        batches = window_batches(
            windows, batch_size, self.max_span_width_tokens, self.pad_id,
            self.data_config.pad_to_multiple,
        )  # fmt: skip
        pending: list[SpanPrediction] = []
        with self.inference_context():
            for meta, predictions in self.iter_window_predictions(batches, label_set):
                pending.extend(predictions)
                if meta.window_in_doc == meta.windows_in_doc - 1:
                    yield meta, decode_document(pending, decoding)
                    pending = []

    def predict_spans(
        self,
        texts: Sequence[str],
        decoding: str | None = None,
        batch_size: int = INFERENCE_BATCH_SIZE,
        labels: Sequence[str] | None = None,
    ) -> list[list[SpanPrediction]]:
        """Decoded predictions (char offsets, margin scores) for each text, sorted."""
        check_decoding(decoding or self.decoding)
        check_batch_size(batch_size)
        windows = windows_for_texts(list(texts), self.tokenizer, self.data_config)
        per_doc: list[list[SpanPrediction]] = [[] for _ in texts]
        for meta, predictions in self.predict_windows(windows, decoding, batch_size, labels):
            per_doc[meta.doc_index] = predictions
        return per_doc

    def predict(
        self,
        texts: Sequence[str],
        decoding: str | None = None,
        batch_size: int = INFERENCE_BATCH_SIZE,
        labels: Sequence[str] | None = None,
    ) -> list[list[dict[str, Any]]]:
        """Schema span dicts (origin "model") for each text, sorted by (start, end, label)."""
        return [
            [to_span(p) for p in predictions]
            for predictions in self.predict_spans(texts, decoding, batch_size, labels)
        ]
