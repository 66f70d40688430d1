"""One exception hierarchy for mistakes a user can fix.

The CLI turns a :class:`BinderError` into a one-line message and a non-zero exit code; any other
exception is a bug and is allowed to raise with its traceback. Messages name the file (and the
line or record where known) and say what to do.
"""

from __future__ import annotations


class BinderError(Exception):
    """A user-facing error: bad input, bad option, missing file."""

    exit_code = 2


class InputError(BinderError):
    """An input file or record cannot be read (wrong format, broken line, missing column)."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")
        self.path = path
        self.line = line


class SchemaError(BinderError):
    """A Parquet file does not carry the binder-ner schema (or carries another version)."""


class ConfigError(BinderError):
    """An option or configuration value is invalid."""
