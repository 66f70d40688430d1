"""``binder dict compile`` through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from dictionaries import load_compiled, match

FIXTURES = Path(__file__).parent / "fixtures" / "dictionaries"
runner = CliRunner()


def test_cli_dict_compile_several_sources(tmp_path: Path) -> None:
    out = tmp_path / "dict.bin"
    result = runner.invoke(
        app,
        [
            "dict",
            "compile",
            str(out),
            "--source",
            f"umls={FIXTURES / 'umls_META'}",
            "--source",
            f"autoner={FIXTURES / 'autoner.txt'}",
            "--source",
            f"mesh={FIXTURES / 'mesh.tsv'}",
            "--ambiguity",
            "drop",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "fingerprint: sha256:" in result.output
    assert "Chemical" in result.output
    compiled = load_compiled(out)
    assert compiled.labels == ("Chemical", "Disease")
    assert compiled.config.ambiguity == "drop"
    text = "Paracetamol and aspirin caused heart failure and Halothane hepatitis."
    assert [(text[m.start : m.end], m.label) for m in match(text, compiled)] == [
        ("Paracetamol", "Chemical"),
        ("aspirin", "Chemical"),
        ("heart failure", "Disease"),
        ("Halothane hepatitis", "Disease"),
    ]


def test_cli_dict_compile_kb_options(tmp_path: Path) -> None:
    out = tmp_path / "dict.bin"
    result = runner.invoke(
        app,
        [
            "dict",
            "compile",
            str(out),
            "--source",
            f"kb={FIXTURES / 'kb.csv'}",
            "--kb-term-column",
            "name",
            "--kb-label-column",
            "type",
            "--kb-id-column",
            "code",
        ],
    )
    assert result.exit_code == 0, result.output
    assert list(load_compiled(out).keys) == ["cisplatin", "renal failure, acute"]


def test_cli_dict_compile_user_errors_are_one_line(tmp_path: Path) -> None:
    out = tmp_path / "dict.bin"
    for args, message in [
        (["--source", "xml=a.xml"], "unknown format 'xml'"),
        (["--source", f"kb={tmp_path / 'none.tsv'}"], "none.tsv: no such file"),
        (["--source", f"kb={FIXTURES / 'kb.tsv'}", "--ambiguity", "vote"], "ambiguity must be"),
        (["--source", f"kb={FIXTURES / 'kb.tsv'}", "--label", "Nothing"], "no terms left"),
    ]:
        result = runner.invoke(app, ["dict", "compile", str(out), *args])
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "Traceback" not in result.output
    assert not out.exists()


def test_cli_dict_compile_terms_list_with_case_policy(tmp_path: Path) -> None:
    names = tmp_path / "person.txt"
    names.write_text("Rose\nMiles\n", encoding="utf-8")
    out = tmp_path / "names.dict"
    spec = f"terms[label=PER,case=exact-or-upper]={names}"
    result = runner.invoke(app, ["dict", "compile", str(out), "--source", spec])
    assert result.exit_code == 0, result.output
    text = "Rose walked 5 miles with MILES."
    assert [text[m.start : m.end] for m in match(text, load_compiled(out))] == ["Rose", "MILES"]
    bad = runner.invoke(app, ["dict", "compile", str(out), "--source", f"terms={names}"])
    assert bad.exit_code == 2
    assert "terms[label=TYPE]" in bad.output
