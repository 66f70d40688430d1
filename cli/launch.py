"""The ``binder`` console script's first step, before the CLI itself is imported.

A local multi-worker ``binder silver build`` forks its workers from a template process that
imports Beam and loads the run's dictionaries (:mod:`pipelines.runners.worker_pool`); that takes
about two seconds, on another core, while this process imports Beam and builds the pipeline. Started
from here, before the CLI's own imports (typer, rich, the command modules: about half a second),
the template is ready that much sooner. Only the plain forms of the options are looked for;
whatever else the command line holds, the template starts later, from the command itself, as
it always does.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

_DICTIONARY_OPTIONS = ("--dict", "--heldout-dict", "--uncertain-dict")
_WORKER_OPTIONS = ("--workers", "-w")


def planned_template(argv: Sequence[str]) -> list[str] | None:
    """The dictionaries a worker template should load for ``binder ARGV``, when ARGV is a
    ``silver build`` with more than one worker and a ``--dict``; otherwise None."""
    args = [a for a in argv if a not in ("-v", "--verbose")]
    if args[:2] != ["silver", "build"] or "--help" in args:
        return None
    values: dict[str, str] = {}
    i = 2
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in _DICTIONARY_OPTIONS + _WORKER_OPTIONS:
            if not eq:
                if i + 1 >= len(args):
                    return None
                value = args[i + 1]
                i += 1
            values["--workers" if name == "-w" else name] = value
        elif arg.startswith("-w") and arg[2:].isdigit():
            values["--workers"] = arg[2:]
        i += 1
    workers = values.get("--workers", "")
    if not workers.isdigit() or int(workers) < 2 or "--dict" not in values:
        return None
    return [values[o] for o in _DICTIONARY_OPTIONS if o in values]


def run() -> NoReturn:
    """Start the worker template when the command will need one, then run the CLI."""
    dictionaries = planned_template(sys.argv[1:])
    if dictionaries is not None:
        from pipelines.runners.worker_pool import warm_template

        warm_template(dictionaries)
    from cli.main import run as run_cli

    run_cli()
