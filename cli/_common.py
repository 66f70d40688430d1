"""Shared CLI plumbing: user errors become one line on stderr and a non-zero exit code."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from binder_core.contract.errors import BinderError, ConfigError
from binder_core.contract.quiet import QuietDependencies

F = TypeVar("F", bound=Callable[..., Any])

console = Console()
err_console = Console(stderr=True)


def user_errors(fn: F) -> F:
    """Decorate a command: a :class:`BinderError` prints ``error: ...`` and exits non-zero.

    Anything else is a bug and keeps its traceback.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BinderError as exc:
            message = escape(str(exc))  # "[label=TYPE]" in a message is text, not markup
            err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def configure_logging(verbose: bool) -> None:
    """Library modules log; the CLI decides what reaches the terminal."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        for handler in logging.getLogger().handlers:
            handler.addFilter(QuietDependencies())
        # transformers' own "Loading weights" bars: the CLI shows its own progress instead.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def require_model_extra() -> None:
    """torch/transformers are an extra, so silver-only installs (Beam workers) stay light."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"the model commands need torch and transformers ({exc.name} is missing): "
            "install a torch build for your machine, then pip install 'binder-ner[model]'"
        ) from None


def require_onnx_extra() -> None:
    """An export folder runs on onnxruntime and tokenizers (``binder-ner[onnx]``), not torch."""
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"an export folder runs on onnxruntime and tokenizers ({exc.name} is missing): "
            "pip install 'binder-ner[onnx]'"
        ) from None


def require_backend_extra(model: Any, backend: str, *, scoring: bool = False) -> None:
    """What the model at ``model`` needs under ``backend``: the onnx or the model extra.

    Scoring gold data (``binder evaluate``) reads it through the torch data set, so it needs
    the model extra as well.
    """
    from binder_core.inference.backends import resolve_backend

    if resolve_backend(model, backend) == "onnx":
        require_onnx_extra()
        if not scoring:
            return
    require_model_extra()


def split_labels(labels: str | None) -> tuple[str, ...] | None:
    if not labels:
        return None
    return tuple(label.strip() for label in labels.split(",") if label.strip())
