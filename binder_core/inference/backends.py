"""One entry point from a model path to a predictor, whichever backend runs it.

``load_predictor(path)`` reads what ``path`` is: an export folder (``binder export``) runs on
onnxruntime (:class:`binder_core.inference.onnx_backend.OnnxPredictor`), a model or run folder
(``binder train``) on torch (:class:`binder_core.inference.torch_backend.Predictor`). Both are
:class:`binder_core.inference.engine.SpanTagger`\\ s with the same API. The CLI, the spaCy component
and the Beam prediction pipeline all load models here.

Torch-free: torch is imported only when a torch model is loaded.
"""

from __future__ import annotations

import os
from pathlib import Path

from binder_core.contract.errors import ConfigError
from binder_core.inference.engine import SpanTagger
from binder_core.inference.export_dir import is_export_dir, read_export
from binder_core.inference.options import BACKENDS, Backend
from binder_core.model.model_dir import ModelInfo, read_model_meta, resolve_model_dir


def check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")


def resolve_backend(path: str | os.PathLike[str], backend: Backend | str = "auto") -> str:
    """``torch`` or ``onnx``: what runs the model at ``path`` under ``backend``."""
    check_backend(backend)
    exported = is_export_dir(path)
    if backend == "auto":
        return "onnx" if exported else "torch"
    if backend == "onnx" and not exported:
        raise ConfigError(
            f"{path} is a torch model folder; --backend onnx runs an export folder: write one "
            f"with `binder export {path} OUT --format onnx` and predict with OUT"
        )
    if backend == "torch" and exported:
        raise ConfigError(
            f"{path} is an export folder (ONNX); --backend torch needs the model folder it was "
            "exported from"
        )
    return str(backend)


def model_info(path: str | os.PathLike[str]) -> ModelInfo:
    """What the model (or export) at ``path`` says about itself, without loading weights."""
    if is_export_dir(path):
        return read_export(path).info
    _, info = read_model_meta(resolve_model_dir(path))
    return info


def model_labels(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """The entity types of the model (or export) at ``path``, without loading weights."""
    return model_info(path).labels


def load_predictor(
    path: str | os.PathLike[str],
    *,
    backend: Backend | str = "auto",
    device: str | None = None,
    amp: str = "auto",
    min_margin: float = 0.0,
    threads: int | None = None,
) -> SpanTagger:
    """A predictor for the model at ``path``.

    ``device`` and ``amp`` apply to torch (see :func:`binder_core.model.device.resolve_amp`);
    ``threads`` to onnxruntime's intra-op pool (default: onnxruntime's own choice).
    """
    if resolve_backend(path, backend) == "onnx":
        if device not in (None, "cpu"):
            raise ConfigError(
                f"an export folder runs on the CPU (onnxruntime); got --device {device}"
            )
        if amp not in ("auto", "no"):
            raise ConfigError(
                f"--amp {amp} is for torch models; an export folder has its own precision "
                f"({read_export(path).export.precision}; `binder export --quantize int8`)"
            )
        from binder_core.inference.onnx_backend import OnnxPredictor

        return OnnxPredictor.from_export(path, min_margin=min_margin, threads=threads)
    from binder_core.inference.torch_backend import Predictor

    return Predictor.from_pretrained(Path(path), device=device, min_margin=min_margin, amp=amp)
