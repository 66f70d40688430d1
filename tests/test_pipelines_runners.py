"""Runner choice: local FnApiRunner options, remote option passthrough and package staging."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from tempfile import TemporaryDirectory

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import (
    DirectOptions,
    GoogleCloudOptions,
    PortableOptions,
    SetupOptions,
    StandardOptions,
)
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from binder_core.contract.errors import ConfigError
from pipelines.runners.execution import (
    SETUP_FILE,
    canonical_runner_name,
    local_execution,
    remote_execution,
)
from pipelines.silver.config import LocalRunnerConfig

CORPORA = Path(__file__).parent / "fixtures" / "corpora"


def test_local_execution_one_worker_runs_in_memory_on_fn_api_runner() -> None:
    execution = local_execution(LocalRunnerConfig())
    direct = execution.options.view_as(DirectOptions)
    assert isinstance(execution.runner, FnApiRunner)
    assert (direct.direct_num_workers, direct.direct_running_mode) == (1, "in_memory")
    assert execution.in_process  # so the readers skip spreading byte ranges among workers


def test_only_the_one_worker_local_execution_runs_in_process() -> None:
    assert not local_execution(LocalRunnerConfig(workers=2)).in_process
    assert not remote_execution(
        ["--runner=PortableRunner", "--job_endpoint=localhost:1"], stage_package=False
    ).in_process


def _pid_of(_: int) -> int:
    return os.getpid()


# On a loaded machine Beam's data-plane reader thread can see the gRPC stream of an exiting
# worker cancelled while the runner closes its handlers (an RpcError in thread
# read_grpc_client_inputs, after the pipeline finished); Beam logs it and the output is complete,
# which is what this test checks.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_local_execution_more_workers_run_in_forked_processes() -> None:
    execution = local_execution(LocalRunnerConfig(workers=2))
    assert execution.options.view_as(DirectOptions).direct_num_workers == 2
    assert "2 worker(s), forked processes" in execution.description
    with (
        beam.Pipeline(runner=execution.runner, options=execution.options) as p,
        TemporaryDirectory() as tmp,
    ):
        _ = (
            p
            | beam.Create(list(range(64)))
            | beam.Reshuffle()
            | beam.Map(_pid_of)
            | beam.io.WriteToText(str(Path(tmp) / "pids"))
        )
    pids = {int(line) for f in Path(tmp).glob("pids*") for line in f.read_text().split()}
    assert os.getpid() not in pids
    assert len(pids) == 2


def test_local_execution_ignores_the_callers_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["binder", "--runner=DataflowRunner", "--project=p"])
    options = local_execution(LocalRunnerConfig()).options
    assert options.view_as(StandardOptions).runner is None
    assert options.view_as(GoogleCloudOptions).project is None


def test_local_runner_config_rejects_zero_workers() -> None:
    with pytest.raises(ConfigError, match=r"LocalRunnerConfig\.workers must be >= 1, got 0"):
        LocalRunnerConfig(workers=0)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dataflow", "DataflowRunner"),
        ("FlinkRunner", "FlinkRunner"),
        ("apache_beam.runners.portability.portable_runner.PortableRunner", "PortableRunner"),
        ("spark", "SparkRunner"),
        ("Dask", "DaskRunner"),
    ],
)
def test_canonical_runner_name(name: str, expected: str) -> None:
    assert canonical_runner_name(name) == expected


def test_remote_execution_passes_options_through_and_stages_setup_py() -> None:
    args = ["--runner=dataflow", "--project=p", "--region=r", "--temp_location=gs://b/t"]
    execution = remote_execution(args)
    assert execution.runner is None
    assert execution.options.view_as(StandardOptions).runner == "DataflowRunner"
    gcp = execution.options.view_as(GoogleCloudOptions)
    assert (gcp.project, gcp.region, gcp.temp_location) == ("p", "r", "gs://b/t")
    assert execution.options.view_as(SetupOptions).setup_file == str(SETUP_FILE)
    assert SETUP_FILE.is_file()


def test_remote_execution_keeps_the_users_staging_choice() -> None:
    args = ["--runner=FlinkRunner", "--extra_package=/tmp/binder_ner-0.1.0.tar.gz"]
    setup = remote_execution(args).options.view_as(SetupOptions)
    assert setup.setup_file is None
    assert setup.extra_packages == ["/tmp/binder_ner-0.1.0.tar.gz"]


def test_remote_execution_does_not_stage_for_workers_sharing_this_environment() -> None:
    args = [
        "--runner",
        "PortableRunner",
        "--job_endpoint=localhost:1",
        "--environment_type=LOOPBACK",
    ]
    options = remote_execution(args).options
    assert options.view_as(SetupOptions).setup_file is None
    assert options.view_as(PortableOptions).job_endpoint == "localhost:1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no --runner given"),
        (["--runner=DaskRunner"], "--runner DaskRunner is not supported for submission"),
        (["--runner=DirectRunner"], "use `binder silver build` to run locally"),
        (["--runner=PortableRunner"], "PortableRunner needs --job_endpoint"),
    ],
)
def test_remote_execution_rejects_unsupported_runners(args: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        remote_execution(args)


_TEMPLATE_CHECK = """
import os, sys
from pipelines.runners.worker_pool import warm_template

def check(path, out):
    from pipelines.silver import dictionary_files
    held = path in dictionary_files._PRELOADED
    same = held and dictionary_files.load_dictionary(path) is (
        dictionary_files._PRELOADED[path].result()[1]
    )
    with open(out, "w") as f:
        f.write(f"{held} {same}")

if __name__ == "__main__":
    context = warm_template([sys.argv[1], sys.argv[1] + ".missing"])
    worker = context.Process(target=check, args=(sys.argv[1], sys.argv[2]))
    worker.start()
    worker.join()
    sys.exit(worker.exitcode)
"""


def test_template_loads_the_dictionaries_its_workers_fork_with(tmp_path: Path) -> None:
    """A worker forked from the template finds the run's dictionary loaded already (a missing
    one is left to the workers, not an error of the template)."""
    import subprocess

    from dictionaries import Entry, compile_dictionary, save_compiled

    dict_path = tmp_path / "d.dict"
    save_compiled(compile_dictionary([Entry("morphine", "Chemical", "D009020", "t")]), dict_path)
    script, result = tmp_path / "check.py", tmp_path / "result.txt"
    script.write_text(_TEMPLATE_CHECK)
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, str(script), str(dict_path), str(result)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert result.read_text() == "True True"
