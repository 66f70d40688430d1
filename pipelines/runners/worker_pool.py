"""Local Beam workers forked from a warm template process instead of started afresh.

Beam's multi-process ``FnApiRunner`` starts each worker as a new ``python -m
apache_beam.runners.worker.sdk_worker_main``: every worker pays the interpreter start and the
import of Beam, pyarrow and this package (over a second) before its first bundle, while the
other workers and the runner wait. Here a :mod:`multiprocessing` forkserver imports those
once; it is started as soon as a multi-worker run is planned (by the ``binder`` console
script before the CLI's own imports, :mod:`cli.launch`), so the import runs on another core
while this process imports Beam and builds the pipeline. Each worker is then a fork of it, ready in
milliseconds. The runner reaches the workers through the Fn API's external worker pool
service (the ``EXTERNAL`` environment, which Beam's own ``worker_pool_main`` serves to portable
runners), so the workers run Beam's own SDK harness, unchanged.

The template can also load the run's compiled dictionaries before its first fork
(``warm_template(dictionaries=...)``): the workers then share them, copy-on-write, instead of each
reading the file again while the others wait.

The forkserver holds no threads and no gRPC channel when it forks: a worker opens its own.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Sequence
from multiprocessing.context import BaseContext
from typing import Any

PRELOAD = (
    # first: Beam's import notices are logged as it is imported
    "pipelines.runners.template_logging",
    "apache_beam.runners.worker.sdk_worker",
    "apache_beam.runners.worker.bundle_processor",
    "pyarrow.parquet",
    "pipelines.silver.pipeline",
    "pipelines.silver.labeling",
    "pipelines.runners.template_dictionaries",
)
"""Modules the template imports once, so that no worker imports them again."""

DICTIONARIES_ENV = "BINDER_TEMPLATE_DICTIONARIES"
"""How the template learns which dictionaries to load (paths joined by ``os.pathsep``); set only
while it starts."""

_lock = threading.RLock()  # re-entrant: pool_address() starts the template under it
_context: BaseContext | None = None
_pool: tuple[str, Any] | None = None  # (address, grpc server): one pool per process


def warm_template(dictionaries: Sequence[str] = ()) -> BaseContext:
    """Start the forkserver (importing :data:`PRELOAD` in it, and loading the local compiled
    ``dictionaries``) unless it runs already.

    Returns at once: the work happens in the forkserver, on another core. Call it before this
    process imports Beam, so that the two imports overlap.
    """
    global _context
    with _lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(list(PRELOAD))
            from multiprocessing import forkserver

            before = os.environ.get(DICTIONARIES_ENV)
            os.environ[DICTIONARIES_ENV] = os.pathsep.join(
                os.path.abspath(d) for d in dictionaries if d
            )
            try:
                forkserver.ensure_running()  # the forkserver's environment is fixed here
            finally:
                if before is None:
                    del os.environ[DICTIONARIES_ENV]
                else:
                    os.environ[DICTIONARIES_ENV] = before
            _context = context
        return _context


def _run_harness(control_url: str, worker_id: str) -> None:
    """A worker's whole life: Beam's SDK harness on the runner's control endpoint."""
    from apache_beam.runners.worker.sdk_worker import SdkHarness

    SdkHarness(control_url, worker_id=worker_id).run()


def pool_address() -> str:
    """The address of this process's worker pool (started on first use, stopped at exit)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = _start_pool()
            atexit.register(_pool[1].stop, 0)
        return _pool[0]


def _start_pool() -> tuple[str, Any]:
    """Serve an external worker pool on localhost whose workers are forks of the template."""
    from apache_beam.portability.api import beam_fn_api_pb2
    from apache_beam.runners.worker.worker_pool_main import BeamFnExternalWorkerPoolServicer

    context = warm_template()

    # A class of this function, not of the module: the module is imported before Beam is.
    class ForkedWorkerPool(BeamFnExternalWorkerPoolServicer):
        """StartWorker forks the template; StopWorker ends that fork."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._forks: dict[str, Any] = {}

        def StartWorker(self, request: Any, unused_context: Any) -> Any:
            process = context.Process(  # type: ignore[attr-defined]
                target=_run_harness,
                args=(request.control_endpoint.url, request.worker_id),
                daemon=True,
            )
            process.start()
            self._forks[request.worker_id] = process
            return beam_fn_api_pb2.StartWorkerResponse()

        def StopWorker(self, request: Any, unused_context: Any) -> Any:
            process = self._forks.pop(request.worker_id, None)
            if process is not None:
                process.terminate()
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()
                    process.join()
            return beam_fn_api_pb2.StopWorkerResponse()

    address, server = ForkedWorkerPool.start()
    return address, server
