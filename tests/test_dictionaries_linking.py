"""The concept linker: candidates from the dictionary's own names, per type, with abstention."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from binder_core.contract.errors import ConfigError, InputError
from dictionaries import CompiledDictionary, Entry, compile_dictionary
from dictionaries.linking.index_file import (
    build_link_index,
    link_index_path,
    linker_for,
    load_link_index,
    save_link_index,
)
from dictionaries.linking.linker import (
    Abstain,
    Candidate,
    LinkConfig,
    Linker,
    Name,
    build_index,
    decide,
    dictionary_names,
    exact_test,
)
from dictionaries.linking.long_forms import defined_long_forms, span_long_forms

ENTRIES = [
    Entry("breast cancer", "Disease", "D001943", "mesh"),
    Entry("breast neoplasms", "Disease", "D001943", "mesh"),
    Entry("myocardial infarction", "Disease", "D009203", "mesh"),
    Entry("heart attack", "Disease", "D009203", "mesh"),
    Entry("hepatitis", "Disease", "D006505", "mesh"),
    Entry("chronic hepatitis", "Disease", "D006521", "mesh"),
    Entry("aspirin", "Chemical", "D001241", "mesh"),
    Entry("acetylsalicylic acid", "Chemical", "D001241", "mesh"),
    Entry("cold", "Disease", "D003139", "mesh"),  # "cold" is also a chemical-free word
    Entry("cold", "Chemical", "D003080", "mesh"),
    Entry("paracetamol", "Chemical", "", "autoner"),  # no concept id: not a linking name
]


@pytest.fixture(scope="module")
def compiled() -> CompiledDictionary:
    return compile_dictionary(ENTRIES)


@pytest.fixture(scope="module")
def linker(compiled: CompiledDictionary) -> Linker:
    return Linker(build_link_index(compiled))


def test_dictionary_names_one_row_per_concept_and_none_without_id(
    compiled: CompiledDictionary,
) -> None:
    names = list(dictionary_names(compiled))
    assert Name("cold", "Chemical", "D003080", "cold") in names
    assert Name("cold", "Disease", "D003139", "cold") in names
    assert not [n for n in names if n.key == "paracetamol"]
    assert len(names) == 10


def test_linker_exact_name_scores_one(linker: Linker) -> None:
    [link] = linker.link(["Heart Attack"], ["Disease"])
    assert (link.concept_id, link.score, link.name, link.abstain) == (
        "D009203",
        1.0,
        "heart attack",
        Abstain.NONE,
    )


def test_linker_inflection_and_word_order(linker: Linker) -> None:
    links = linker.link(
        ["cancers of the breast", "infarctions, myocardial", "acetylsalicylic acids"],
        ["Disease", "Disease", "Chemical"],
    )
    assert [link.concept_id for link in links] == ["D001943", "D009203", "D001241"]
    # a regular plural is the singular once each word's plural ending is removed
    assert links[2].score == 1.0
    assert all(0.5 <= link.score < 1.0 for link in links[:2])


def test_linker_searches_the_names_of_its_type_only(linker: Linker) -> None:
    chemical, disease = linker.link(["cold", "cold"], ["Chemical", "Disease"])
    assert (chemical.concept_id, disease.concept_id) == ("D003080", "D003139")
    assert [c.concept_id for c in chemical.candidates] == ["D003080"]


def test_linker_unknown_label_abstains(linker: Linker) -> None:
    [link] = linker.link(["aspirin"], ["Gene"])
    assert link == ("", 0.0, "", Abstain.UNKNOWN_LABEL, ())


def test_linker_no_shared_ngram_abstains(linker: Linker) -> None:
    [link] = linker.link(["xyzzy"], ["Chemical"])
    assert link == ("", 0.0, "", Abstain.NO_CANDIDATE, ())


def test_linker_below_threshold_abstains_and_keeps_candidates(linker: Linker) -> None:
    [link] = linker.link(["acid reflux"], ["Chemical"])
    assert link.abstain is Abstain.BELOW_THRESHOLD
    assert link.concept_id == ""
    assert link.candidates[0].concept_id == "D001241"
    assert link.score == link.candidates[0].score < 0.45


def test_linker_ranks_best_name_per_concept(linker: Linker) -> None:
    [link] = linker.link(["chronic hepatitis"], ["Disease"])
    assert [c.concept_id for c in link.candidates[:2]] == ["D006521", "D006505"]
    assert link.candidates[0].score == 1.0 > link.candidates[1].score


def test_decide_ties_keep_the_given_order() -> None:
    candidates = [Candidate("D2", 0.8, "b"), Candidate("D1", 0.8, "a")]
    assert decide(candidates, 0.7).concept_id == "D2"
    assert decide(candidates, 0.9).abstain is Abstain.BELOW_THRESHOLD
    assert decide([], 0.5).abstain is Abstain.NO_CANDIDATE


def test_linker_tie_goes_to_the_concept_with_more_names() -> None:
    names = [
        Name("ra", "Disease", "D2", "RA"),
        Name("ra", "Disease", "D1", "RA"),
        Name("rheumatoid arthritis", "Disease", "D2", "rheumatoid arthritis"),
    ]
    [link] = Linker(build_index(names, "sha256:x")).link(["RA"], ["Disease"])
    assert [c.concept_id for c in link.candidates] == ["D2", "D1"]


def test_build_index_without_names_abstains_everywhere(tmp_path: Path) -> None:
    index = build_index([], "sha256:none")
    assert (index.num_names, index.labels, list(index.concepts)) == (0, (), [])
    save_link_index(index, tmp_path / "e.link.npz")
    [link] = Linker(load_link_index(tmp_path / "e.link.npz")).link(["aspirin"], ["Chemical"])
    assert link.abstain is Abstain.UNKNOWN_LABEL


def test_build_index_does_not_depend_on_name_order(compiled: CompiledDictionary) -> None:
    names = list(dictionary_names(compiled))
    a = build_index(names, "f")
    b = build_index(reversed(names), "f")
    assert (a.matrix != b.matrix).nnz == 0
    assert list(a.concepts) == list(b.concepts) and a.labels == b.labels == ("Chemical", "Disease")


def test_defined_long_forms_first_definition_wins() -> None:
    text = "Myocardial infarction (MI) is common. Mitral insufficiency (MI) too."
    assert defined_long_forms(text) == {"MI": "Myocardial infarction"}
    assert defined_long_forms("") == {}


def test_link_in_document_links_a_short_form_by_its_long_form(linker: Linker) -> None:
    text = "Patients with myocardial infarction (MI) got aspirin; MI recurred."
    spans = [(14, 35, "Disease"), (37, 39, "Disease"), (54, 56, "Disease"), (45, 52, "Chemical")]
    links = linker.link_in_document(text, spans)
    assert [link.concept_id for link in links] == ["D009203"] * 3 + ["D001241"]
    assert linker.link_in_document(text, []) == []


def test_span_long_forms_pairs_a_parenthesized_span_with_the_span_before_it() -> None:
    text = "Myotonic dystrophy (DM) and DM; aspirin (ASA)."
    spans = [(0, 18, "Disease"), (20, 22, "Disease"), (28, 30, "Disease"), (32, 39, "Chemical"),
             (41, 44, "Disease")]  # fmt: skip
    assert span_long_forms(text, spans) == {("DM", "Disease"): "Myotonic dystrophy"}


def test_link_in_document_links_a_short_form_defined_out_of_letter_order() -> None:
    names = [Name("dystrophia myotonica", "Disease", "D009223", "Dystrophia Myotonica"),
             Name("myotonic dystrophy", "Disease", "D009223", "Myotonic Dystrophy"),
             Name("dm", "Disease", "D003920", "DM")]  # fmt: skip
    linker = Linker(build_index(names, "f"))
    text = "Myotonic dystrophy (DM) is inherited. DM"
    spans = [(0, 18, "Disease"), (20, 22, "Disease"), (38, 40, "Disease")]
    assert [link.concept_id for link in linker.link_in_document(text, spans)] == ["D009223"] * 3
    assert linker.link(["DM"], ["Disease"])[0].concept_id == "D003920"


def test_exact_test_needs_the_key_under_that_label(compiled: CompiledDictionary) -> None:
    is_exact = exact_test(compiled)
    assert is_exact("Breast  Cancer", "Disease")
    assert not is_exact("breast cancer", "Chemical")
    assert not is_exact("breast cancers", "Disease")


def test_link_config_validates() -> None:
    with pytest.raises(ConfigError, match="threshold"):
        LinkConfig(threshold=1.5)
    with pytest.raises(ConfigError, match="n-gram"):
        LinkConfig(ngram_min=4, ngram_max=3)
    assert LinkConfig.from_dict(LinkConfig(top_k=3).to_dict()) == LinkConfig(top_k=3)


def test_link_index_file_round_trip(
    compiled: CompiledDictionary, linker: Linker, tmp_path: Path
) -> None:
    path = link_index_path(tmp_path / "d.dict")
    assert path.name == "d.dict.link.npz"
    save_link_index(linker.index, path)
    loaded = load_link_index(path, fingerprint=compiled.fingerprint)
    assert (loaded.matrix != linker.index.matrix).nnz == 0
    assert np.array_equal(loaded.idf, linker.index.idf)
    assert list(loaded.concepts) == list(linker.index.concepts)
    assert list(loaded.terms) == list(linker.index.terms)
    mentions = ["cancers of the breast", "cold", "acid reflux"]
    labels = ["Disease", "Chemical", "Chemical"]
    assert Linker(loaded).link(mentions, labels) == linker.link(mentions, labels)


def test_link_index_file_refuses_another_dictionary(linker: Linker, tmp_path: Path) -> None:
    path = tmp_path / "x.link.npz"
    save_link_index(linker.index, path)
    with pytest.raises(InputError, match="another dictionary"):
        load_link_index(path, fingerprint="sha256:other")


def _rewrite(path: Path, name: str, array: np.ndarray, allow_pickle: bool = False) -> None:
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays[name] = array
    with open(path, "wb") as f:
        np.savez(f, allow_pickle=allow_pickle, **arrays)


def test_link_index_file_refuses_a_changed_array(linker: Linker, tmp_path: Path) -> None:
    path = tmp_path / "x.link.npz"
    save_link_index(linker.index, path)
    with np.load(path) as npz:
        data = npz["data"].copy()
    data[0] = 0.5
    _rewrite(path, "data", data)
    with pytest.raises(InputError, match="data fails its checksum"):
        load_link_index(path)


def test_link_index_file_never_unpickles(linker: Linker, tmp_path: Path) -> None:
    path = tmp_path / "x.link.npz"
    save_link_index(linker.index, path)
    _rewrite(path, "row_term", np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="not a readable linking index"):
        load_link_index(path)


def test_link_index_file_refuses_other_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no linking index here"):
        load_link_index(tmp_path / "missing.link.npz")
    junk = tmp_path / "junk.link.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable linking index"):
        load_link_index(junk)
    newer = tmp_path / "newer.link.npz"
    with zipfile.ZipFile(newer, "w"):
        pass
    with open(newer, "wb") as f:
        header = json.dumps({"format": 99}).encode()
        np.savez(f, header=np.frombuffer(header, dtype=np.uint8))
    with pytest.raises(InputError, match="format 99"):
        load_link_index(newer)


def test_linker_for_reads_the_sibling_or_builds_in_memory(
    compiled: CompiledDictionary, tmp_path: Path
) -> None:
    missing = linker_for(tmp_path / "a.dict", compiled)
    assert missing.index.num_names == 10
    assert linker_for(tmp_path / "a.dict", compiled) is missing
    sibling = tmp_path / "b.dict"
    save_link_index(build_link_index(compiled, LinkConfig(top_k=2)), link_index_path(sibling))
    assert linker_for(sibling, compiled).index.config.top_k == 2


def test_linker_keeps_candidates_per_folded_mention(compiled: CompiledDictionary) -> None:
    linker = Linker(build_link_index(compiled))
    first = linker.link(["Heart attack", "heart  ATTACK", "cold"], ["Disease"] * 3)
    assert sorted(linker._cache) == [("cold", "Disease"), ("heart attack", "Disease")]
    again = linker.link(["cold", "heart attack"], ["Disease", "Disease"])
    assert again == [first[2], first[0]] and first[0] == first[1]
