"""Typer options whose default and help text come from the configuration dataclasses.

A default is declared once, on its dataclass field (``binder_core.config.option``); the command
reads it from there, so the CLI, the Python API and the saved configs cannot disagree.
"""

from __future__ import annotations

from typing import Any

import typer

from binder_core.config import default_of, help_of


def split_csv(values: list[str]) -> tuple[str, ...]:
    """``["a,b", "c"]`` -> ``("a", "b", "c")``: options accept repeats and comma lists."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def config_option(cls: type, name: str, *flags: str, **kwargs: Any) -> Any:
    """``typer.Option`` for the field ``cls.name``: its default and help, unless overridden."""
    kwargs.setdefault("help", help_of(cls, name))
    default = kwargs.pop("default", default_of(cls, name))
    return typer.Option(default, *flags, **kwargs)


OVERWRITE = typer.Option(
    False,
    "--overwrite",
    help="Replace the output folder even when it holds files binder-ner did not write.",
)
