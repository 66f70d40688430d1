"""Typer options whose default and help text come from the configuration dataclasses.

A default is declared once, on its dataclass field (``binder_core.contract.options.option``); the
command reads it from there, so the CLI, the Python API and the saved configs cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from binder_core.contract.options import Bounds, bounds_of, default_of, help_of


def split_csv(values: list[str]) -> tuple[str, ...]:
    """``["a,b", "c"]`` -> ``("a", "b", "c")``: options accept repeats and comma lists."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def config_option(cls: type, name: str, *flags: str, **kwargs: Any) -> Any:
    """``typer.Option`` for the field ``cls.name``: its default and help, unless overridden,
    and its declared range, checked while the command line is parsed (so a value out of range
    is refused before any work starts, never first inside a Beam worker)."""
    kwargs.setdefault("help", help_of(cls, name))
    default = kwargs.pop("default", default_of(cls, name))
    if isinstance(default, tuple):  # a repeatable option: typer takes its default as a list
        default = list(default)
    bounds = bounds_of(cls, name)
    if bounds is not None:
        kwargs.setdefault("callback", _range_check(bounds))
        kwargs["help"] = f"{kwargs['help']} Range: {bounds.describe()}."
    return typer.Option(default, *flags, **kwargs)


def _range_check(bounds: Bounds) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is not None and not bounds.contains(value):
            raise typer.BadParameter(f"must be {bounds.requirement()}, got {value}")
        return value

    return check


OVERWRITE = typer.Option(
    False,
    "--overwrite",
    help="Replace the output folder even when it holds files binder-ner did not write.",
)
