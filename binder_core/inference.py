"""The inference engine that evaluation, prediction and the trainer's dev scoring share.

Types -> type vectors (once per label set, cached) -> windows -> batches -> window predictions
-> each document's merge and decode. No file I/O: the callers read and write
(:mod:`binder_core.evaluate`, :mod:`binder_core.predict`); a model directory becomes a
:class:`Predictor` through :meth:`Predictor.from_pretrained`.

Every batch runs only the text encoder and the span head over the (B, L, W, d) band, then one
(N, d) @ (d, K) product over the N candidate spans: 1,000 types cost about as much as 10.
Windows of one document arrive consecutively (they are cut in document order), so a document
is decoded as soon as its last window is scored and memory stays bounded by one batch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import torch

from binder_core.collate import Batch, collate_inputs, pad_token_id
from binder_core.config import DECODINGS, INFERENCE_BATCH_SIZE, DataConfig
from binder_core.decoding import SpanPrediction, decode_batch_vectors, decode_document
from binder_core.device import autocast_context, pick_device, resolve_amp
from binder_core.errors import ConfigError
from binder_core.model import BinderModel, TypeVectors
from binder_core.saved_model import from_pretrained
from binder_core.schema import Origin, make_span
from binder_core.types import TypeInputs, build_type_inputs
from binder_core.windows import WindowExample, WindowMeta, windows_for_texts


def check_decoding(decoding: str) -> None:
    if decoding not in DECODINGS:
        raise ConfigError(f"decoding must be one of {list(DECODINGS)}, got {decoding!r}")


def check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch size must be a positive integer, got {batch_size!r}")


def window_batches(
    windows: Iterable[WindowExample],
    batch_size: int,
    max_span_width_tokens: int,
    pad_id: int,
    pad_to_multiple: int = 1,
) -> Iterator[tuple[Batch, list[WindowMeta]]]:
    """Consecutive windows, ``batch_size`` at a time, as model inputs (no targets)."""
    chunk: list[WindowExample] = []
    for window in windows:
        chunk.append(window)
        if len(chunk) == batch_size:
            yield collate_inputs(chunk, max_span_width_tokens, pad_id, pad_to_multiple)
            chunk = []
    if chunk:
        yield collate_inputs(chunk, max_span_width_tokens, pad_id, pad_to_multiple)


@torch.no_grad()
def encode_type_inputs(model: BinderModel, types: TypeInputs, device: torch.device) -> TypeVectors:
    """Type vectors (each (K, d)) for ``types``, computed once, without gradients."""
    return model.encode_types(types.type_input_ids.to(device), types.type_attention_mask.to(device))


@torch.no_grad()
def iter_window_predictions(
    model: BinderModel,
    type_vectors: TypeVectors,
    batches: Iterable[tuple[Batch, list[WindowMeta]]],
    labels: Sequence[str],
    device: torch.device,
    amp_dtype: torch.dtype | None = None,
    min_margin: float = 0.0,
) -> Iterator[tuple[WindowMeta, list[SpanPrediction]]]:
    """Above-threshold spans (char offsets) of every window of ``batches``, in batch order.

    The batches' ``span_mask`` must be the model's band, (B, L, max_span_width_tokens).
    """
    width = model.config.max_span_width_tokens
    span_types = model.scaled_types(type_vectors).span  # (K, d), exp(alpha) folded in
    for batch, metas in batches:
        with autocast_context(device, amp_dtype):
            vectors = model.text_span_vectors(
                batch["input_ids"].to(device), batch["attention_mask"].to(device)
            )  # (B, L, W, d)
        per_window = decode_batch_vectors(
            vectors, batch["span_mask"], span_types, batch["offsets"], labels, width, min_margin
        )
        yield from zip(metas, per_window, strict=True)


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


class Predictor:
    """A model with its tokenizer, types and data settings, ready to tag texts.

    Built from a live model (the trainer's dev scoring) or from a model directory
    (:meth:`from_pretrained`); either way the same code tags the text.
    """

    def __init__(
        self,
        model: BinderModel,
        tokenizer: Any,
        labels: Sequence[str],
        descriptions: Mapping[str, str],
        data_config: DataConfig,
        device: torch.device,
        *,
        amp_dtype: torch.dtype | None = None,
        min_margin: float = 0.0,
        decoding: str = "flat",
    ) -> None:
        """``decoding`` is the default of every call that does not choose one (a saved model's
        own, :attr:`binder_core.model_dir.ModelInfo.decoding`). ``min_margin``: how far (in
        scaled score units) a span must beat its window's threshold to be predicted; 0 is the
        model's own threshold, more trades recall for precision."""
        if not labels:
            raise ConfigError("a predictor needs at least one entity type")
        if not min_margin >= 0:
            raise ConfigError(f"min_margin must be >= 0, got {min_margin!r}")
        self.model = model.to(device)
        self.tokenizer = tokenizer
        self.labels: tuple[str, ...] = tuple(labels)
        self.descriptions = dict(descriptions)
        self.data_config = data_config
        self.device = device
        self.amp_dtype = amp_dtype
        self.min_margin = float(min_margin)
        check_decoding(decoding)
        self.decoding = decoding
        self.pad_id = pad_token_id(tokenizer)
        self._type_cache: dict[tuple[str, ...], TypeVectors] = {}

    @classmethod
    def from_pretrained(
        cls,
        path: str | os.PathLike[str],
        device: str | None = None,
        *,
        min_margin: float = 0.0,
        amp: str = "auto",
    ) -> Predictor:
        """A predictor for a model directory or a run folder (its ``best/`` model); ``amp``
        is resolved for the device by :func:`binder_core.device.resolve_amp`."""
        dev = pick_device(device)
        amp_dtype = resolve_amp(amp, dev)
        saved = from_pretrained(path, device=dev)
        info = saved.info
        return cls(
            saved.model, saved.tokenizer, info.labels, info.type_descriptions,
            info.data_config, dev, amp_dtype=amp_dtype, min_margin=min_margin,
            decoding=info.decoding,
        )  # fmt: skip

    @property
    def max_span_width_tokens(self) -> int:
        return self.model.config.max_span_width_tokens

    def type_inputs_for(self, labels: Sequence[str]) -> TypeInputs:
        """Tokenized descriptions of ``labels`` (each one of the model's types)."""
        unknown = [label for label in labels if label not in self.descriptions]
        if unknown:
            raise ConfigError(f"unknown entity type(s) {unknown}; the model knows {self.labels}")
        return build_type_inputs(self.tokenizer, list(labels), self.descriptions)

    def type_vectors(self, labels: Sequence[str] | None = None) -> TypeVectors:
        """Cached type vectors (each (K, d)) of ``labels`` (default: all the model's types)."""
        key = tuple(labels) if labels is not None else self.labels
        if key not in self._type_cache:
            with _eval_mode(self.model):
                self._type_cache[key] = encode_type_inputs(
                    self.model, self.type_inputs_for(key), self.device
                )
        return self._type_cache[key]

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
        vectors = self.type_vectors(label_set)
        batches = window_batches(
            windows, batch_size, self.max_span_width_tokens, self.pad_id,
            self.data_config.pad_to_multiple,
        )  # fmt: skip
        pending: list[SpanPrediction] = []
        with _eval_mode(self.model):
            for meta, predictions in iter_window_predictions(
                self.model, vectors, batches, label_set, self.device, self.amp_dtype,
                self.min_margin,
            ):  # fmt: skip
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


class _eval_mode:
    """Put a module in eval mode for a block and restore its previous mode after."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.module = module
        self.was_training = module.training

    def __enter__(self) -> None:
        self.was_training = self.module.training
        self.module.eval()

    def __exit__(self, *exc: object) -> None:
        self.module.train(self.was_training)
