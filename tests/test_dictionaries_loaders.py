"""Loaders: UMLS RRF, KB tables, AutoNER, MeSH; source specs; errors name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from binder_core.contract.errors import ConfigError, InputError
from dictionaries import Entry, load_source, parse_source_spec
from dictionaries.loaders import SourceSpec, iter_sources
from dictionaries.loaders.autoner import detokenize
from dictionaries.loaders.tables import mesh_labels, parse_branch_map

FIXTURES = Path(__file__).parent / "fixtures" / "dictionaries"


def test_load_umls_filters_language_suppression_and_unmapped_types() -> None:
    entries = list(load_source("umls", FIXTURES / "umls_META"))
    assert entries == [
        Entry("Aspirin", "Chemical", "C0000001", "umls"),
        Entry("Acetylsalicylic Acid", "Chemical", "C0000001", "umls"),
        Entry("Gastric Ulcer", "Disease", "C0000002", "umls"),
        Entry("ACE", "Chemical", "C0000004", "umls"),
    ]


def test_load_umls_filters_sab_and_tty_and_keeps_suppressed_on_request() -> None:
    entries = list(
        load_source("umls", FIXTURES / "umls_META", sources=["SNOMEDCT_US"], keep_suppressed=True)
    )
    assert entries == [Entry("Stomach ulcer", "Disease", "C0000002", "umls")]
    entries = list(load_source("umls", FIXTURES / "umls_META", term_types=["ET"]))
    assert entries == [Entry("Acetylsalicylic Acid", "Chemical", "C0000001", "umls")]


def test_load_umls_custom_mapping_by_group(tmp_path: Path) -> None:
    mapping = tmp_path / "map.tsv"
    mapping.write_text("ANAT\tAnatomy\n# comment\nT047\tDisease\n", encoding="utf-8")
    groups = tmp_path / "SemGroups.txt"
    groups.write_text("ANAT|Anatomy|T023|Body Part, Organ, or Organ Component\n", encoding="utf-8")
    entries = list(
        load_source("umls", FIXTURES / "umls_META", mapping=mapping, semantic_groups=groups)
    )
    assert [(e.term, e.label) for e in entries] == [
        ("Gastric Ulcer", "Disease"),
        ("Kidney", "Anatomy"),
    ]


def test_load_umls_bad_row_names_file_and_line(tmp_path: Path) -> None:
    meta = tmp_path / "META"
    meta.mkdir()
    (meta / "MRSTY.RRF").write_text("C1|T109|A|Organic Chemical|AT|256|\n", encoding="utf-8")
    (meta / "MRCONSO.RRF").write_text(
        "C1|ENG|P|L|PF|S|Y|A||||MSH|MH|D|Ok|0|N|256|\nC1|ENG|broken\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"MRCONSO.RRF:2: MRCONSO row with 3 fields"):
        list(load_source("umls", meta))


def test_load_umls_missing_folder_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="UMLS META folder"):
        list(load_source("umls", tmp_path))


@pytest.mark.shared_data
def test_load_umls_real_scispacy_sample(shared_data: Path) -> None:
    meta = shared_data / "dictionaries" / "umls_samples_scispacy" / "umls_META"
    entries = list(load_source("umls", meta))
    assert entries == [
        Entry("(131)I-Macroaggregated Albumin", "Chemical", "C0000005", "umls"),
        Entry("(131)I-MAA", "Chemical", "C0000005", "umls"),
        Entry("1,2-Dipalmitoylphosphatidylcholine", "Chemical", "C0000039", "umls"),
    ]


def test_load_kb_tsv_with_synonyms_and_ids() -> None:
    entries = list(load_source("kb", FIXTURES / "kb.tsv"))
    assert entries[:3] == [
        Entry("Aspirin", "Chemical", "D001", "kb"),
        Entry("ASA", "Chemical", "D001", "kb"),
        Entry("acetylsalicylic acid", "Chemical", "D001", "kb"),
    ]
    assert len(entries) == 9


def test_load_kb_csv_with_named_columns() -> None:
    entries = list(
        load_source(
            "kb", FIXTURES / "kb.csv", term_column="name", label_column="type", id_column="code"
        )
    )
    assert entries == [
        Entry("Cisplatin", "Chemical", "C1", "kb"),
        Entry("renal failure, acute", "Disease", "C2", "kb"),
    ]


def test_load_kb_jsonl_with_fixed_label() -> None:
    entries = list(load_source("kb", FIXTURES / "kb.jsonl", label="Thing"))
    assert entries == [
        Entry("Lithium carbonate", "Thing", "L1", "kb"),
        Entry("Li2CO3", "Thing", "L1", "kb"),
        Entry("Diabetes insipidus", "Thing", "L2", "kb"),
    ]


def test_load_kb_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("term\tlabel\nok\tX\nshort\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.tsv:3: 1 fields where the header has 2"):
        list(load_source("kb", bad))
    with pytest.raises(InputError, match=r"kb.tsv:2: no column 'name'"):
        list(load_source("kb", FIXTURES / "kb.tsv", term_column="name"))
    broken = tmp_path / "bad.jsonl"
    broken.write_text('{"term": "a", "label": "X"}\n{"term": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:2: broken JSON"):
        list(load_source("kb", broken))
    latin = tmp_path / "latin.tsv"
    latin.write_bytes("term\tlabel\ncaf\xe9\tX\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin.tsv:\d+: not valid UTF-8"):
        list(load_source("kb", latin))


def test_load_autoner_adds_detokenized_forms() -> None:
    entries = list(load_source("autoner", FIXTURES / "autoner.txt"))
    assert entries == [
        Entry("( R)-alpha - methylhistamine", "Chemical", "", "autoner"),
        Entry("(R)-alpha-methylhistamine", "Chemical", "", "autoner"),
        Entry("caffeine", "Chemical", "", "autoner"),
        Entry("Halothane Hepatitis", "Disease", "", "autoner"),
    ]


def test_load_autoner_line_without_tab_is_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "dict.txt"
    bad.write_text("Chemical\tcaffeine\nDisease hepatitis\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"dict.txt:2: expected `Type<TAB>term`"):
        list(load_source("autoner", bad))


def test_detokenize_joins_tokenizer_spacing() -> None:
    assert detokenize("( R)-alpha - methylhistamine") == "(R)-alpha-methylhistamine"
    assert detokenize("5 - FU") == "5-FU"
    assert detokenize("vitamin D ( 3 )") == "vitamin D (3)"
    assert detokenize("plain term") == "plain term"


def test_load_mesh_labels_by_branch_and_skips_permuted() -> None:
    entries = list(load_source("mesh", FIXTURES / "mesh.tsv"))
    assert entries == [
        Entry("Acetaminophen", "Chemical", "D000082", "mesh"),
        Entry("Paracetamol", "Chemical", "D000082", "mesh"),
        Entry("Heart Failure", "Disease", "D006333", "mesh"),
        Entry("Mental Disorders", "Disease", "D001523", "mesh"),
    ]


def test_load_mesh_fills_missing_tree_numbers_from_a_tree_table(tmp_path: Path) -> None:
    # The fixture's "Tumor" row (C04 Neoplasms) has no tree numbers, as the top-level
    # descriptors in the flat 2024 table: only the tree table puts it under C (Disease).
    entries = list(load_source("mesh", FIXTURES / "mesh.tsv", trees=FIXTURES / "mesh_trees.tsv"))
    assert Entry("Tumor", "Disease", "D009369", "mesh") in entries
    assert len(entries) == 5
    bad = tmp_path / "trees.tsv"
    bad.write_text("Tree\tDescriptor\nC04\tD009369\n", encoding="utf-8")
    with pytest.raises(InputError, match="'Tree Number' and 'Desc Ui'") as err:
        list(load_source("mesh", FIXTURES / "mesh.tsv", trees=bad))
    assert "trees.tsv" in str(err.value) and "2" in str(err.value)


def test_load_mesh_custom_branches() -> None:
    entries = list(
        load_source("mesh", FIXTURES / "mesh.tsv", branches={"A": "Anatomy", "D27": "Class"})
    )
    assert [(e.term, e.label) for e in entries] == [
        ("Acetaminophen", "Class"),
        ("Paracetamol", "Class"),
        ("Analgesics", "Class"),
        ("Body Regions", "Anatomy"),
    ]


def test_mesh_labels_longest_prefix_wins() -> None:
    branches = {"D": "Chemical", "D27": "", "C": "Disease"}
    assert mesh_labels("D27.505;D02.065", branches) == ["Chemical"]
    assert mesh_labels("D27.505", branches) == []
    assert mesh_labels("C14.280;D02.1", branches) == ["Chemical", "Disease"]
    assert mesh_labels("", branches) == []


def test_parse_branch_map() -> None:
    assert parse_branch_map("C=Disease, D=Chemical,D27=") == {
        "C": "Disease",
        "D": "Chemical",
        "D27": "",
    }
    with pytest.raises(ConfigError, match="BRANCH=LABEL"):
        parse_branch_map("Disease")


def test_parse_source_spec() -> None:
    assert parse_source_spec("kb=path/to.tsv") == ("kb", "path/to.tsv", "ignore", None)
    assert parse_source_spec("UMLS=/meta=dir") == ("umls", "/meta=dir", "ignore", None)
    assert parse_source_spec("terms[label=PER, case=exact-or-upper]=a=b.txt") == SourceSpec(
        "terms", "a=b.txt", "exact-or-upper", "PER"
    )
    assert parse_source_spec("kb[]=x.tsv") == ("kb", "x.tsv", "ignore", None)
    for bad in ("kb", "kb=", "xml=a.xml", "=a.tsv", "terms[label=PER=x", "kb[colour=red]=x",
                "kb[case=upper]=x", "kb[label=]=x"):  # fmt: skip
        with pytest.raises(ConfigError, match="--source"):
            parse_source_spec(bad)


def test_terms_source_takes_its_label_and_case(tmp_path: Path) -> None:
    path = tmp_path / "person.txt"
    path.write_text("Rose\n\n  Miles \nMcDonald\n", encoding="utf-8")
    spec = parse_source_spec(f"terms[label=PER,case=exact]={path}")
    assert list(iter_sources([spec])) == [
        Entry("Rose", "PER", "", "terms", "exact"),
        Entry("Miles", "PER", "", "terms", "exact"),
        Entry("McDonald", "PER", "", "terms", "exact"),
    ]
    with pytest.raises(ConfigError, match=r"terms\[label=TYPE\]"):
        list(iter_sources([parse_source_spec(f"terms={path}")]))


def test_source_label_option_relabels_any_format() -> None:
    spec = parse_source_spec(f"autoner[label=Term]={FIXTURES / 'autoner.txt'}")
    entries = list(iter_sources([spec]))
    assert entries and {e.label for e in entries} == {"Term"}


def test_load_source_unknown_format_or_option() -> None:
    with pytest.raises(ConfigError, match="unknown dictionary format"):
        load_source("xml", "a.xml")
    with pytest.raises(ConfigError, match="bad option for the kb loader"):
        load_source("kb", FIXTURES / "kb.tsv", colour="red")
