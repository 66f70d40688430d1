"""The option machinery: each option's default, help and range declared once and read from there
by the configurations and by the CLI, which refuses a value out of range while it parses."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from binder_core.contract.errors import ConfigError
from binder_core.contract.options import (
    Bounds,
    at_least,
    bounds_of,
    check_declared,
    default_of,
    help_of,
    option,
    same_option,
)
from cli._options import config_option

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class _Owner:
    ratio: float = option(0.5, "A share.", bounds=Bounds(0.0, 1.0, low_open=True))
    count: int = option(1, "A count.", bounds=at_least(1))
    limit: int | None = option(None, "An optional limit.", bounds=at_least(1))
    name: str = option("x", "No range.")

    def __post_init__(self) -> None:
        check_declared(self)


@dataclass(frozen=True)
class _Borrower:
    ratio: float = same_option(_Owner, "ratio")

    def __post_init__(self) -> None:
        check_declared(self)


@pytest.mark.parametrize(
    ("bounds", "text"),
    [
        (Bounds(0, 100, low_open=True), "(0, 100]"),
        (Bounds(0.0, 1.0, low_open=True, high_open=True), "(0, 1)"),
        (Bounds(1, 100_000), "[1, 100000]"),
        (at_least(1), ">= 1"),
        (Bounds(low=0, low_open=True), "> 0"),
        (Bounds(high=0.5, high_open=True), "< 0.5"),
        (Bounds(), "any number"),
    ],
)
def test_bounds_describe_states_the_range(bounds: Bounds, text: str) -> None:
    assert bounds.describe() == text


def test_bounds_contains_respects_open_and_closed_ends() -> None:
    half_open = Bounds(0, 100, low_open=True)
    assert [half_open.contains(v) for v in (0, 1e-9, 100, 100.0001)] == [False, True, True, False]
    assert [at_least(1).contains(v) for v in (0, 1, 10**9)] == [False, True, True]


def test_check_declared_names_the_field_and_its_range() -> None:
    assert _Owner().ratio == 0.5
    with pytest.raises(ConfigError, match=r"^_Owner\.ratio must be in \(0, 1\], got 0$"):
        _Owner(ratio=0.0)
    with pytest.raises(ConfigError, match=r"^_Owner\.count must be >= 1, got 0$"):
        _Owner(count=0)
    with pytest.raises(ConfigError, match=r"_Owner\.count must be a number, got True"):
        _Owner(count=True)
    assert _Owner(limit=None).limit is None
    with pytest.raises(ConfigError, match=r"_Owner\.limit must be >= 1, got 0"):
        _Owner(limit=0)


def test_same_option_is_the_same_declaration() -> None:
    assert default_of(_Borrower, "ratio") == 0.5
    assert help_of(_Borrower, "ratio") == "A share."
    assert bounds_of(_Borrower, "ratio") == bounds_of(_Owner, "ratio")
    with pytest.raises(ConfigError, match=r"_Borrower\.ratio must be in \(0, 1\]"):
        _Borrower(ratio=0)


def test_config_option_refuses_a_value_out_of_range_while_parsing() -> None:
    app = typer.Typer()
    seen: list[float] = []

    @app.command()
    def run(ratio: float = config_option(_Owner, "ratio", "--ratio")) -> None:
        seen.append(ratio)

    assert CliRunner().invoke(app, ["--ratio", "0.25"]).exit_code == 0
    result = CliRunner().invoke(app, ["--ratio", "0"])
    assert result.exit_code == 2
    assert "must be in (0, 1], got 0.0" in result.output
    assert seen == [0.25]


def test_silver_and_matcher_share_the_fuzzy_threshold_declaration() -> None:
    from dictionaries.config import MatchOptions
    from pipelines.predict.config import PredictConfig
    from pipelines.silver.config import SilverConfig

    for name in ("overlap", "fuzzy", "fuzzy_threshold"):
        assert default_of(SilverConfig, name) == default_of(MatchOptions, name)
        assert help_of(SilverConfig, name) == help_of(MatchOptions, name)
    assert bounds_of(SilverConfig, "fuzzy_threshold") == Bounds(0.0, 100.0, low_open=True)
    assert bounds_of(PredictConfig, "shards") == bounds_of(SilverConfig, "shards")
    with pytest.raises(ConfigError, match=r"fuzzy_threshold must be in \(0, 100\], got 0"):
        SilverConfig(inputs=("c.txt",), dictionary="d.dict", output="o", fuzzy_threshold=0.0)


def test_one_seed_per_training_run() -> None:
    from binder_core.data.config import DataConfig
    from binder_core.training.config import TrainConfig

    assert default_of(TrainConfig, "seed") == default_of(DataConfig, "seed")
    config = TrainConfig(train_dir="t", out_dir="o", seed=7)
    assert config.data is not None and config.data.seed == 7


@pytest.mark.slow
def test_silver_build_fuzzy_threshold_zero_exits_2_before_beam(tmp_path: Path) -> None:
    """As a user types it, in its own process: one line naming the option and its range, exit 2,
    nothing written, and Beam never imported (the value is refused while parsing)."""
    code = (
        "import sys\n"
        "from cli.launch import run\n"
        "sys.argv = ['binder', 'silver', 'build', 'corpus.txt', '--dict', 'd.dict', '--out', "
        "'out', '--fuzzy', '--fuzzy-threshold', '0']\n"
        "try:\n"
        "    run()\n"
        "except SystemExit as exc:\n"
        "    assert 'apache_beam' not in sys.modules, 'Beam was imported'\n"
        "    raise\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert lines == [
        "error: Invalid value for '--fuzzy-threshold': must be in (0, 100], got 0.0 "
        "(see `binder silver build --help`)"
    ]
    assert not (tmp_path / "out").exists()
