"""Names learned from a gold set's annotated mentions (``dictionaries.linking.annotated``)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from dictionaries import Entry, compile_dictionary
from dictionaries.linking.annotated import annotated_names, read_annotations, with_annotations
from dictionaries.linking.index_file import build_link_index, link_index_path, load_link_index
from dictionaries.linking.linker import Linker, Name

GOLD = Path(__file__).parent / "fixtures" / "gold"
runner = CliRunner()
HELD = {"D007674", "D011605", "D011618", "D001241"}


def test_annotated_names_majority_id_and_most_written_surface() -> None:
    mentions = [
        ("nephrotoxicity", "Disease", "D007674"),
        ("Nephrotoxicity", "Disease", "D007674"),
        ("Nephrotoxicity", "Disease", "D007674"),
        ("nephrotoxicity", "Disease", "D011605"),
        ("psychosis", "Disease", "D011618"),
        ("Psychosis", "Disease", "D011605"),  # a tie: the smaller id, the smaller surface
    ]
    assert annotated_names(mentions, HELD) == [
        Name("nephrotoxicity", "Disease", "D007674", "Nephrotoxicity"),
        Name("psychosis", "Disease", "D011605", "Psychosis"),
    ]


def test_annotated_names_skips_composites_unheld_ids_and_empty_surfaces() -> None:
    mentions = [
        ("breast and ovarian cancer", "Disease", "D001943|D010051"),
        ("HBOC", "Disease", "OMIM:604370"),
        ("  ", "Disease", "D007674"),
        ("ulcers", "Disease", "-1"),
        ("Aspirin", "Chemical", "D001241"),
    ]
    assert annotated_names(mentions, HELD) == [Name("aspirin", "Chemical", "D001241", "Aspirin")]
    assert annotated_names([], HELD) == []


def test_with_annotations_replaces_the_names_of_an_annotated_key() -> None:
    names = [
        Name("psychosis", "Disease", "D011618", "Psychoses"),
        Name("psychosis", "Chemical", "D000001", "Psychosis"),
        Name("psychoses", "Disease", "D011618", "Psychoses"),
        Name("hepatitis", "Disease", "D006505", "Hepatitis"),  # its concept's only name
    ]
    learned = [
        Name("psychosis", "Disease", "D011605", "psychosis"),
        Name("hepatitis", "Disease", "D056486", "hepatitis"),
    ]
    assert with_annotations(names, learned) == [names[1], names[2], names[3], *learned]
    assert with_annotations(names, []) == names


def test_read_annotations_and_build_link_index_learn_from_a_gold_set(tmp_path: Path) -> None:
    gold = tmp_path / "gold"
    convert = ["data", "convert", str(GOLD / "mini.PubTator.txt"), str(gold), "-f", "pubtator"]
    assert runner.invoke(app, convert).exit_code == 0
    assert sorted(read_annotations(gold)) == [
        ("Aspirin", "Chemical", "D001241"),
        ("Café", "Chemical", ""),
        ("Gastric ulcer", "Disease", "D013276|D014456"),
        ("aspirin", "Chemical", "D001241"),
        ("ulcers", "Disease", ""),
    ]
    compiled = compile_dictionary(
        [Entry("acetylsalicylic acid", "Chemical", "D001241", "kb"),
         Entry("asa", "Chemical", "D001241", "kb"), Entry("aspirin", "Chemical", "", "kb")]
    )  # fmt: skip
    plain = build_link_index(compiled)
    learned = build_link_index(compiled, annotations=[gold])
    assert (plain.annotated, plain.num_names, learned.annotated, learned.num_names) == (0, 2, 1, 3)
    [before] = Linker(plain).link(["aspirin"], ["Chemical"])
    [after] = Linker(learned).link(["aspirin"], ["Chemical"])
    assert (before.concept_id, after.concept_id, after.name, after.score) == (
        "",
        "D001241",
        "Aspirin",
        1.0,
    )


def test_cli_dict_link_index_with_annotations(tmp_path: Path) -> None:
    table = tmp_path / "kb.tsv"
    table.write_text("term\tlabel\tid\nacetylsalicylic acid\tChemical\tD001241\n", encoding="utf-8")
    dictionary = tmp_path / "d.dict"
    compile_args = ["dict", "compile", str(dictionary), "--source", f"kb={table}",
                    "--kb-id-column", "id"]  # fmt: skip
    result = runner.invoke(app, [*compile_args, "--link-annotations", str(tmp_path / "gold")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == "error: --link-annotations needs --link-index"
    assert runner.invoke(app, compile_args).exit_code == 0
    result = runner.invoke(
        app, ["dict", "link-index", str(dictionary), "--annotations", str(tmp_path / "missing")]
    )
    assert result.exit_code == 2 and "missing" in result.output
    assert not link_index_path(dictionary).exists()
    gold = tmp_path / "gold"
    convert = ["data", "convert", str(GOLD / "mini.PubTator.txt"), str(gold), "-f", "pubtator"]
    assert runner.invoke(app, convert).exit_code == 0
    result = runner.invoke(app, ["dict", "link-index", str(dictionary), "--annotations", str(gold)])
    assert result.exit_code == 0, result.output
    assert "2 names (1 learned from annotations) of 1 concepts" in result.output
    assert load_link_index(link_index_path(dictionary)).annotated == 1
