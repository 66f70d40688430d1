"""End-to-end checks through the CLI on real data, and the package boundaries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("package", ["pipelines", "dictionaries", "binder_core", "cli.main"])
def test_import_boundary_packages_do_not_import_torch(package: str) -> None:
    code = (
        f"import sys, {package}; import pipelines.silver.pipeline, pipelines.gold.convert; "
        "import pipelines.datasets.stats; "
        "import binder_core.contract.schema, binder_core.contract.metrics; "
        "sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.shared_data
@pytest.mark.slow
def test_silver_bc5cdr_test_f1_from_dict_core_and_mesh(shared_data: Path, tmp_path: Path) -> None:
    """Issue targets: dict_core alone >= 0.70 micro F1 on BC5CDR test, with MeSH >= 0.76."""
    test_file = shared_data / "bc5cdr" / "pubtator" / "CDR_TestSet.PubTator.txt"
    _ok(["data", "convert", str(test_file), str(tmp_path / "gold"), "--format", "pubtator"])
    sources = {
        "core": ["autoner=" + str(shared_data / "bc5cdr" / "autoner" / "dict_core.txt")],
        "core_mesh": [
            "autoner=" + str(shared_data / "bc5cdr" / "autoner" / "dict_core.txt"),
            "mesh=" + str(shared_data / "dictionaries" / "mesh2024_flat" / "mesh2024_terms.tsv.gz"),
        ],
    }
    f1 = {}
    for name, specs in sources.items():
        dict_file = tmp_path / f"{name}.dict"
        _ok(["dict", "compile", str(dict_file), *[a for s in specs for a in ("--source", s)]])
        silver = tmp_path / f"silver_{name}"
        _ok(
            [
                "silver",
                "build",
                str(test_file),
                "--dict",
                str(dict_file),
                "--out",
                str(silver),
                "--format",
                "pubtator",
            ]
        )
        result = runner.invoke(
            app, ["silver", "eval", str(silver), str(tmp_path / "gold"), "--json"]
        )
        assert result.exit_code == 0, result.output
        f1[name] = json.loads(result.stdout)["f1"]
    assert f1["core"] >= 0.70
    assert f1["core_mesh"] >= 0.76
