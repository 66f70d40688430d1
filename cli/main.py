"""The ``binder`` command: a thin typer layer over the library packages.

Each command group lives in its own module and registers itself here. Modules import heavy
dependencies (Beam, torch) inside the commands, so ``binder --help`` stays fast. The console
script enters through :mod:`cli.launch`, which starts a multi-worker labeling run's worker
template before this module is imported.
"""

from __future__ import annotations

import gc
import sys
from typing import NoReturn

import typer

from cli import (
    data_cmd,
    dict_cmd,
    export_cmd,
    link_cmd,
    model_cmd,
    silver_augment_cmd,
    silver_cmd,
    silver_predict_cmd,
    silver_report_cmd,
    train_cmd,
)
from cli._common import configure_logging, console, err_console

app = typer.Typer(
    name="binder",
    help="Named-entity recognition from distant supervision: dictionaries -> silver labels "
    "(Apache Beam) -> BINDER bi-encoder.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

dict_app = typer.Typer(help="Load, normalize and compile dictionaries.", no_args_is_help=True)
silver_app = typer.Typer(
    help="Build, submit, inspect, score and augment silver labels; predict a corpus in Beam.",
    no_args_is_help=True,
)
link_app = typer.Typer(
    help="Ground mentions in the dictionary's concepts (concept ids), and measure it.",
    no_args_is_help=True,
)
data_app = typer.Typer(
    help="Convert gold data sets to the binder-ner Parquet schema, and split data sets.",
    no_args_is_help=True,
)

dict_cmd.register(dict_app)
silver_cmd.register(silver_app)
silver_report_cmd.register(silver_app)
silver_augment_cmd.register(silver_app)
silver_predict_cmd.register(silver_app)
data_cmd.register(data_app)
link_cmd.register(link_app)
train_cmd.register(app)
model_cmd.register(app)
export_cmd.register(app)

app.add_typer(dict_app, name="dict")
app.add_typer(silver_app, name="silver")
app.add_typer(data_app, name="data")
app.add_typer(link_app, name="link")


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show library log messages."),
) -> None:
    configure_logging(verbose)


def main(argv: list[str] | None = None) -> int:
    """Run the ``binder`` command; returns the exit code (2 for every user mistake).

    Usage mistakes (an unknown option, a value out of range, a missing argument) are one line
    on stderr that names the option and points at ``--help``, like the library's own errors.
    """
    try:
        code = app(args=argv, standalone_mode=False)
    except typer.Abort:
        err_console.print("error: aborted")
        return 130
    except Exception as exc:
        if not _is_usage_error(exc):
            raise
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "binder"
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            console.print(ctx.get_help(), highlight=False)
        else:
            message = exc.format_message()  # type: ignore[attr-defined]
            err_console.print(f"error: {message} (see `{command} --help`)", highlight=False,
                              markup=False, soft_wrap=True)  # fmt: skip
        return 2
    return int(code) if isinstance(code, int) else 0


def _is_usage_error(exc: Exception) -> bool:
    """A command-line usage mistake, as typer's bundled click reports it."""
    return any(cls.__name__ == "UsageError" for cls in type(exc).__mro__)


def run() -> NoReturn:
    """The console script: :func:`main`, then exit with its code.

    Before exiting, every object still alive is frozen (``gc.freeze``): the interpreter's last
    collection at shutdown then has nothing to scan. After a labeling run that collection alone
    took about a second (Beam's modules and the dictionary's objects); nothing is left to run
    after it, so skipping it changes nothing but the time to exit.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
