"""Running a table of bad-input cases through the CLI: each must exit 2 with one line on stderr
that contains the case's needle (the file, record or option at fault), and no traceback."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from cli.main import main

Case = tuple[str, list[str], str]
"""``(name, argv of binder, text the one line must contain)``."""


def run_case(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    """``(exit code, non-blank stderr lines, stderr)`` of ``binder ARGV``."""
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # typer.Exit from a command
        code = exc.code if isinstance(exc.code, int) else 1
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()], err


def failed_cases(cases: Sequence[Case], capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The cases that did not exit 2 with one line holding their needle, each with what it did."""
    failures = []
    for name, argv, needle in cases:
        try:
            code, lines, err = run_case(argv, capsys)
        except Exception as exc:  # a traceback: the bug these tables exist to catch
            failures.append(f"{name}: raised {type(exc).__name__}: {exc}")
            continue
        if code != 2 or len(lines) != 1 or needle not in lines[0] or "Traceback" in err:
            failures.append(f"{name}: exit {code}, stderr {err!r}")
    return failures
