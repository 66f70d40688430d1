"""Which Beam runner executes a pipeline, and with which options.

Local runs use the portable ``FnApiRunner`` explicitly. Beam's ``DirectRunner`` would first try
to download the Prism runner binary, and a local run must never touch the network. One worker
runs in process; more workers are local processes, one core each, forked from a template that
has Beam and this package imported already (:mod:`pipelines.runners.worker_pool`).

Remote runs pass the user's Beam options through unchanged (``--runner``, ``--project``,
``--job_endpoint`` ...) and make sure the workers can import this package: unless the options
already stage it (``--setup_file``, ``--extra_package``, a custom container) or the workers run
in this very environment (``--environment_type`` EXTERNAL, LOOPBACK or PROCESS), the
repository's ``setup.py`` is staged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    PortableOptions,
    SetupOptions,
    StandardOptions,
    WorkerOptions,
)
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.runners.runner import PipelineRunner
from apache_beam.transforms import environments

from binder_core.contract.errors import ConfigError
from pipelines.runners.worker_pool import pool_address
from pipelines.silver.config import LocalRunnerConfig

logger = logging.getLogger(__name__)

REMOTE_RUNNERS: tuple[str, ...] = ("DataflowRunner", "FlinkRunner", "SparkRunner", "PortableRunner")
"""Runners ``binder silver submit`` accepts (local runs go through ``binder silver build``)."""

SETUP_FILE = Path(__file__).resolve().parents[2] / "setup.py"
_SHARED_ENVIRONMENTS = frozenset({"EXTERNAL", "LOOPBACK", "PROCESS"})


@dataclass(frozen=True)
class Execution:
    """A runner plus the options to run a pipeline with (what ``beam.Pipeline`` takes)."""

    runner: PipelineRunner | None  # None: the runner named in ``options``
    options: PipelineOptions
    description: str
    workers: int = 1  # local worker processes (readers cut files into shares for them)
    in_process: bool = False  # every step runs in this process: nothing to spread among workers


def local_execution(config: LocalRunnerConfig) -> Execution:
    """The FnApiRunner, in memory for one worker; for more, forked worker processes."""
    options = PipelineOptions([])  # never sys.argv: those are the caller's arguments
    direct = options.view_as(DirectOptions)
    direct.direct_num_workers = config.workers
    if config.workers == 1:
        direct.direct_running_mode = "in_memory"
        return Execution(
            FnApiRunner(), options, "local FnApiRunner (1 worker(s), in_memory)", in_process=True
        )
    runner = FnApiRunner(default_environment=environments.ExternalEnvironment(pool_address()))
    return Execution(
        runner,
        options,
        f"local FnApiRunner ({config.workers} worker(s), forked processes)",
        config.workers,
    )


def canonical_runner_name(name: str) -> str:
    """``dataflow``, ``DataflowRunner`` or a dotted path -> the ``DataflowRunner`` form."""
    short = name.rsplit(".", 1)[-1]
    if not short.lower().endswith("runner"):
        short += "Runner"
    for known in REMOTE_RUNNERS:
        if known.lower() == short.lower():
            return known
    return short


def remote_execution(beam_args: Sequence[str], *, stage_package: bool = True) -> Execution:
    """Options for a remote runner, from the user's Beam command-line options.

    Raises :class:`ConfigError` when no supported ``--runner`` is given.
    """
    options = PipelineOptions(list(beam_args))
    standard = options.view_as(StandardOptions)
    if not standard.runner:
        raise ConfigError(
            f"no --runner given; pass one of {', '.join(REMOTE_RUNNERS)} "
            "(use `binder silver build` to run locally)"
        )
    runner = canonical_runner_name(standard.runner)
    if runner not in REMOTE_RUNNERS:
        raise ConfigError(
            f"--runner {standard.runner} is not supported for submission; use one of "
            f"{', '.join(REMOTE_RUNNERS)} (use `binder silver build` to run locally)"
        )
    standard.runner = runner
    if runner == "PortableRunner" and not options.view_as(PortableOptions).job_endpoint:
        raise ConfigError("--runner PortableRunner needs --job_endpoint HOST:PORT")
    if stage_package and needs_staging(options):
        if not SETUP_FILE.is_file():
            raise ConfigError(
                "the workers need binder-ner installed: pass --setup_file PATH/setup.py or "
                "--extra_package PATH_TO_SDIST (no setup.py next to this installation)"
            )
        logger.info("staging this package to the workers with --setup_file %s", SETUP_FILE)
        options.view_as(SetupOptions).setup_file = str(SETUP_FILE)
    return Execution(None, options, f"{runner} (remote submission)")


def needs_staging(options: PipelineOptions) -> bool:
    """True unless the options stage the package already or the workers share this env."""
    setup = options.view_as(SetupOptions)
    if setup.setup_file or setup.extra_packages:
        return False
    if options.view_as(WorkerOptions).sdk_container_image:
        return False
    environment = (options.view_as(PortableOptions).environment_type or "").upper()
    return environment not in _SHARED_ENVIRONMENTS
