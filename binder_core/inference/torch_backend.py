"""The torch backend of prediction, shared by evaluation, prediction and the trainer's dev scoring.

:class:`Predictor` runs a :class:`binder_core.model.bi_encoder.BinderModel` (its text encoder and
the span head's token terms) on the batches that :class:`binder_core.inference.engine.SpanTagger`
cuts, and caches type vectors per label set. Windowing, batching and decoding are the engine's, the
same numpy code the ONNX runtime path runs (:mod:`binder_core.inference.onnx_backend`). No file I/O:
the callers read and write (:mod:`binder_core.inference.evaluate`,
:mod:`binder_core.inference.predict`); a model directory becomes a :class:`Predictor` through
:meth:`Predictor.from_pretrained`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from binder_core.contract.errors import ConfigError
from binder_core.data.batching import InputArrays
from binder_core.data.config import DataConfig
from binder_core.inference.decoding import as_array
from binder_core.inference.engine import Floats, SpanTagger
from binder_core.model.bi_encoder import BinderModel, TypeVectors
from binder_core.model.device import autocast_context, pick_device, resolve_amp
from binder_core.model.saved_model import from_pretrained
from binder_core.model.type_inputs import TypeInputs, build_type_inputs


@torch.no_grad()
def encode_type_inputs(model: BinderModel, types: TypeInputs, device: torch.device) -> TypeVectors:
    """Type vectors (each (K, d)) for ``types``, computed once, without gradients."""
    return model.encode_types(types.type_input_ids.to(device), types.type_attention_mask.to(device))


class Predictor(SpanTagger):
    """A torch model with its tokenizer, types and data settings, ready to tag texts.

    Built from a live model (the trainer's dev scoring) or from a model directory
    (:meth:`from_pretrained`); either way the same code tags the text.
    """

    backend = "torch"

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
        """``amp_dtype``: the autocast dtype of the encoder (None: fp32); the other options are
        :class:`binder_core.inference.engine.SpanTagger`'s."""
        super().__init__(
            tokenizer, labels, data_config, model.config.max_span_width_tokens,
            min_margin=min_margin, decoding=decoding,
        )  # fmt: skip
        self.model = model.to(device)
        self.descriptions = dict(descriptions)
        self.device = device
        self.amp_dtype = amp_dtype
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
        is resolved for the device by :func:`binder_core.model.device.resolve_amp`."""
        dev = pick_device(device)
        amp_dtype = resolve_amp(amp, dev)
        saved = from_pretrained(path, device=dev)
        info = saved.info
        return cls(
            saved.model, saved.tokenizer, info.labels, info.type_descriptions,
            info.data_config, dev, amp_dtype=amp_dtype, min_margin=min_margin,
            decoding=info.decoding,
        )  # fmt: skip

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

    def span_type_matrix(self, labels: Sequence[str]) -> Floats:
        with torch.no_grad():
            return as_array(self.model.scaled_types(self.type_vectors(labels)).span, "float32")

    def width_vectors(self) -> Floats:
        with torch.no_grad():
            return as_array(self.model.width_vectors(), "float32")

    def encode_parts(self, inputs: InputArrays) -> tuple[Floats, Floats]:
        input_ids = torch.from_numpy(inputs["input_ids"]).to(self.device)
        attention_mask = torch.from_numpy(inputs["attention_mask"]).to(self.device)
        with torch.no_grad(), autocast_context(self.device, self.amp_dtype):
            starts, ends = self.model.text_span_parts(input_ids, attention_mask)
        return as_array(starts, "float32"), as_array(ends, "float32")

    def inference_context(self) -> contextlib.AbstractContextManager[Any]:
        return _eval_mode(self.model)


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
