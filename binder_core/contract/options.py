"""The option machinery: each option declared once, with its default and help text.

A configuration is a frozen dataclass whose fields are declared with :func:`option`; the CLI
reads the default and help of a field from there (:func:`default_of`, :func:`help_of`) instead of
repeating them. One ``from_dict`` (:func:`config_from_dict`) reads every configuration back,
nested ones included, and refuses unknown keys.

Torch-free, so every package (and the CLI, before it imports the model) may use it.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from binder_core.contract.errors import ConfigError

C = TypeVar("C")


@dataclass(frozen=True)
class Bounds:
    """The range a numeric option may take: ``[low, high]``, either end open or absent.

    Declared once with the option (``option(90.0, "...", bounds=Bounds(0, 100, low_open=True))``)
    and read from there by the configuration's own check (:func:`check_declared`) and by the
    CLI, which refuses a value out of range while it parses the command line.
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def contains(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def requirement(self) -> str:
        """``in (0, 100]`` or ``>= 1``: what a value must be, as a message says it."""
        text = self.describe()
        return f"in {text}" if self.low is not None and self.high is not None else text

    def describe(self) -> str:
        """``(0, 100]``, ``>= 1`` or ``< 1``: how a message states the range."""
        if self.low is not None and self.high is not None:
            return (
                f"{'(' if self.low_open else '['}{_number(self.low)}, "
                f"{_number(self.high)}{')' if self.high_open else ']'}"
            )
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {_number(self.low)}"
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {_number(self.high)}"
        return "any number"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def at_least(low: float) -> Bounds:
    """``[low, inf)``: the common case of a count or a size."""
    return Bounds(low=low)


def option(
    default: Any,
    help: str,
    *,
    bounds: Bounds | None = None,
    **kwargs: Any,
) -> Any:
    """A dataclass field with its default, the help text the CLI shows for it and, for a number,
    the range it may take (checked by :func:`check_declared` and by the CLI's parser)."""
    metadata: dict[str, Any] = {"help": help}
    if bounds is not None:
        metadata["bounds"] = bounds
    return dataclasses.field(default=default, metadata=metadata, **kwargs)


def same_option(cls: type, name: str, **kwargs: Any) -> Any:
    """A field declared as ``cls.name`` is: the same default, help text and bounds.

    For a configuration that carries an option another one owns (a silver run's fuzzy
    threshold is the matcher's), so the two can never disagree.
    """
    f = _field(cls, name)
    if f.default_factory is not dataclasses.MISSING:
        return dataclasses.field(
            default_factory=f.default_factory, metadata=dict(f.metadata), **kwargs
        )
    return dataclasses.field(default=f.default, metadata=dict(f.metadata), **kwargs)


def bounds_of(cls: type, name: str) -> Bounds | None:
    """The range declared with ``cls.name``, if any."""
    bounds = _field(cls, name).metadata.get("bounds")
    return bounds if isinstance(bounds, Bounds) else None


def check_declared(config: Any) -> None:
    """Every field of ``config`` with declared bounds holds a number within them (None is
    allowed where it is the default), else a :class:`ConfigError` naming the field."""
    owner = type(config).__name__
    for f in fields(config):
        bounds = f.metadata.get("bounds")
        if not isinstance(bounds, Bounds):
            continue
        value = getattr(config, f.name)
        if value is None and f.default is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{owner}.{f.name} must be a number, got {value!r}")
        if not bounds.contains(value):
            raise ConfigError(
                f"{owner}.{f.name} must be {bounds.requirement()}, got {_number(value)}"
            )


def _field(cls: type, name: str) -> dataclasses.Field[Any]:
    for f in fields(cls):
        if f.name == name:
            return f
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def default_of(cls: type, name: str) -> Any:
    """The declared default of ``cls.name`` (from its default or default factory)."""
    f = _field(cls, name)
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    raise KeyError(f"{cls.__name__}.{name} has no default")


def help_of(cls: type, name: str) -> str:
    """The help text declared with ``cls.name``."""
    return str(_field(cls, name).metadata.get("help", ""))


def config_from_dict(
    cls: type[C], data: Mapping[str, Any], *, legacy: frozenset[str] = frozenset()
) -> C:
    """Build the dataclass ``cls`` from a dict such as a saved JSON file.

    Unknown keys are a :class:`ConfigError` naming them; keys in ``legacy`` (fields that older
    versions wrote and this one no longer has) are dropped. A field whose type is itself a
    configuration dataclass is built from its nested dict the same way.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{cls.__name__}: expected a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known - legacy)
    if unknown:
        raise ConfigError(
            f"{cls.__name__}: unknown option(s) {unknown}; known options are {sorted(known)}"
        )
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in data.items():
        if name not in known:
            continue
        nested = _nested_config(hints.get(name))
        if nested is not None and isinstance(value, Mapping):
            value = nested.from_dict(value)  # type: ignore[attr-defined]
        values[name] = value
    try:
        return cls(**values)
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"{cls.__name__}: {exc}") from None


def _nested_config(hint: Any) -> type | None:
    """The configuration dataclass in a field's type (``X`` or ``X | None``), if any."""
    candidates = typing.get_args(hint) if typing.get_origin(hint) is not None else (hint,)
    for candidate in candidates:
        if dataclasses.is_dataclass(candidate) and hasattr(candidate, "from_dict"):
            return candidate  # type: ignore[return-value]
    return None


def check_int(owner: str, name: str, value: object, minimum: int) -> None:
    """An integer (not a bool) of at least ``minimum``, else a ConfigError naming the field."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{owner}.{name} must be an integer >= {minimum}, got {value!r}")


def check_choice(owner: str, name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{owner}.{name} must be one of {list(choices)}, got {value!r}")
