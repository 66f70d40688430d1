"""The ONNX runtime path in a fresh virtual environment that has no torch and no transformers.

The environment gets onnxruntime, tokenizers, numpy and pyarrow (the ``onnx`` extra) from pip
(its cache or the package index), plus typer, rich, daachorse and rapidfuzz for the ``binder``
command itself, and binder-ner installed with ``--no-deps``. It then predicts with an export
folder through the Python API and through ``binder predict``, and the spans equal those of
the torch model the folder was exported from. Skipped, with the reason, when pip cannot install
the packages (no index and no cache).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import TINY_CORPUS

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
RUNTIME = ("onnxruntime", "tokenizers", "numpy", "pyarrow")
CLI = ("typer", "rich", "daachorse", "rapidfuzz")
PACKAGES = ("binder_core", "cli", "dictionaries", "pipelines")


def _pinned(names: tuple[str, ...]) -> list[str]:
    """``name==version`` of this environment's copy, so pip can take it from its cache."""
    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pins.append(name)
    return pins


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(args, capture_output=True, text=True, env=env, **kwargs)  # type: ignore[call-overload, no-any-return]


@pytest.fixture(scope="module")
def bare_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("no_torch")
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    done = _run([*pip, *_pinned(RUNTIME), *_pinned(CLI)], timeout=900)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"cannot install the onnx extra into a fresh venv: {last}")
    # binder-ner itself, without its dependencies, from a copy (the build writes egg-info)
    src = root / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, src / name)
    for package in PACKAGES:
        shutil.copytree(REPO / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    done = _run([*pip, "--no-deps", "--no-build-isolation", str(src)], timeout=600)
    if done.returncode != 0:
        done = _run([*pip, "--no-deps", str(src)], timeout=600)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"cannot install binder-ner --no-deps into a fresh venv: {last}")
    check = _run([str(python), "-c", "import torch"])
    assert check.returncode != 0, "torch must not be importable in the bare environment"
    check = _run([str(python), "-c", "import transformers"])
    assert check.returncode != 0, "transformers must not be importable in the bare environment"
    return env_dir


def _expected(model: Path) -> list[list[list[object]]]:
    from binder_core.inference.backends import load_predictor

    predicted = load_predictor(model, amp="no").predict(list(TINY_CORPUS))
    return [[[s["start"], s["end"], s["label"]] for s in doc] for doc in predicted]


def test_python_api_predicts_without_torch(
    bare_env: Path, tiny_model_dir: Path, tiny_export_dir: Path, tmp_path: Path
) -> None:
    code = f"""
import json, sys
from binder_core.inference.backends import load_predictor
texts = json.loads(sys.stdin.read())
out = load_predictor({str(tiny_export_dir)!r}).predict(texts)
assert not {{"torch", "transformers"}} & set(sys.modules), "torch was imported"
print(json.dumps([[[s["start"], s["end"], s["label"]] for s in doc] for doc in out]))
"""
    done = _run(
        [str(bare_env / "bin" / "python"), "-c", code],
        input=json.dumps(list(TINY_CORPUS)), cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == _expected(tiny_model_dir)


def test_binder_predict_runs_an_export_without_torch(
    bare_env: Path, tiny_model_dir: Path, tiny_export_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(TINY_CORPUS))
    )
    out = tmp_path / "out.parquet"
    done = _run(
        [str(bare_env / "bin" / "binder"), "predict", str(tiny_export_dir), str(source), str(out)],
        cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    assert "(onnx)" in done.stdout
    import pyarrow.parquet as pq

    rows = pq.read_table(out).to_pylist()
    got = [[[s["start"], s["end"], s["label"]] for s in row["spans"]] for row in rows]
    assert got == _expected(tiny_model_dir)
    assert sys.executable not in done.stdout
