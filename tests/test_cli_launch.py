"""The console script's early start of the worker template: which command lines ask for it."""

from __future__ import annotations

import pytest

from cli.launch import planned_template


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["silver", "build", "c.jsonl", "--dict", "d.dict", "--workers", "2"], ["d.dict"]),
        (["-v", "silver", "build", "c.jsonl", "--workers=4", "--dict=d.dict"], ["d.dict"]),
        (["silver", "build", "c.jsonl", "-w", "2", "--dict", "d.dict"], ["d.dict"]),
        (["silver", "build", "c.jsonl", "-w3", "--dict", "d.dict"], ["d.dict"]),
        (
            [
                "silver", "build", "c", "--uncertain-dict", "u.dict", "--dict", "d.dict",
                "--heldout-dict", "h.dict", "--workers", "2",
            ],
            ["d.dict", "h.dict", "u.dict"],
        ),
        # the last --workers wins, as on the command itself
        (["silver", "build", "c", "--dict", "d", "--workers", "2", "--workers", "1"], None),
    ],
)  # fmt: skip
def test_a_multi_worker_silver_build_plans_its_dictionaries(
    argv: list[str], expected: list[str] | None
) -> None:
    assert planned_template(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["silver", "build", "c.jsonl", "--dict", "d.dict"],  # one worker: no template
        ["silver", "build", "c.jsonl", "--dict", "d.dict", "--workers", "1"],
        ["silver", "build", "c.jsonl", "--workers", "2"],  # no dictionary: the command fails
        ["silver", "build", "c.jsonl", "--dict", "d.dict", "--workers", "two"],
        ["silver", "build", "c.jsonl", "--dict", "d.dict", "--workers"],
        ["silver", "build", "--help", "--workers", "2", "--dict", "d"],
        ["silver", "submit", "c", "--dict", "d", "--workers", "2"],
        ["train", "--workers", "2", "--dict", "d"],
    ],
)
def test_other_command_lines_start_nothing_early(argv: list[str]) -> None:
    assert planned_template(argv) is None


def test_the_options_it_looks_for_are_those_of_silver_build() -> None:
    """``cli.launch`` reads the command line before the CLI exists: its option names must stay
    those the ``silver build`` command declares."""
    import typer

    from cli import launch
    from cli.main import app

    build = typer.main.get_command(app).commands["silver"].commands["build"]  # type: ignore[attr-defined]
    declared = {opt for param in build.params for opt in param.opts}
    assert set(launch._DICTIONARY_OPTIONS + launch._WORKER_OPTIONS) <= declared
