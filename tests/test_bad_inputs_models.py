"""Bad model folders and prediction inputs, command by command, and through the two library
entry points (the spaCy component and the ONNX runtime loader): missing or partial model and
export folders, an export or a model from a newer format version, a model whose labels are not
the gold set's, a corpus field of the wrong type, an empty input, a cut compressed input, and a
folder where a file is expected. Each is exit 2 (or one :class:`BinderError`) and one line that
names the file, with no traceback.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from binder_core.contract.errors import BinderError
from binder_core.inference.export_dir import EXPORT_CONFIG_NAME, GRAPH_NAME
from binder_core.model.model_dir import CONFIG_NAME, WEIGHTS_NAME
from cli.main import main
from dictionaries import Entry, compile_dictionary, save_compiled
from tests.bad_inputs import Case, failed_cases, run_case

pytestmark = pytest.mark.slow

GENE_GOLD = "1|t|BRCA1 mutations.\n1|a|Risk.\n1\t0\t5\tBRCA1\tGene\tG1\n\n"


def _copy_without(source: Path, target: Path, name: str) -> Path:
    shutil.copytree(source, target)
    (target / name).unlink()
    return target


def _copy_with_version(source: Path, target: Path, config: str, version: int) -> Path:
    shutil.copytree(source, target)
    meta = json.loads((target / config).read_text("utf-8"))
    meta["format_version"] = version
    (target / config).write_text(json.dumps(meta), "utf-8")
    return target


@pytest.fixture(scope="module")
def models(
    tiny_model_dir: Path, tiny_export_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad_models")
    f: dict[str, Path] = {"root": root, "model": tiny_model_dir, "export": tiny_export_dir}
    f["partial_model"] = _copy_without(tiny_model_dir, root / "partial_model", WEIGHTS_NAME)
    f["partial_export"] = _copy_without(tiny_export_dir, root / "partial_export", GRAPH_NAME)
    f["newer_model"] = _copy_with_version(tiny_model_dir, root / "newer_model", CONFIG_NAME, 99)
    f["newer_export"] = _copy_with_version(
        tiny_export_dir, root / "newer_export", EXPORT_CONFIG_NAME, 99
    )
    (root / "gene.pubtator").write_text(GENE_GOLD, "utf-8")
    assert main(["data", "convert", str(root / "gene.pubtator"), str(root / "gene_gold"),
                 "-f", "pubtator"]) == 0  # fmt: skip
    f["gene_gold"] = root / "gene_gold"
    f["wrong_field"] = root / "wrong_field.jsonl"
    f["wrong_field"].write_text(json.dumps({"id": "1", "text": 5}) + "\n", "utf-8")
    f["empty"] = root / "empty.txt"
    f["empty"].write_text("", "utf-8")
    f["text"] = root / "in.txt"
    f["text"].write_text("Cisplatin induced nephrotoxicity.\n", "utf-8")
    lines = "".join(f"Cisplatin dose {i * 7919 % 10007}.\n" for i in range(3000)).encode()
    data = gzip.compress(lines)
    f["cut"] = root / "cut.txt.gz"
    f["cut"].write_bytes(data[: len(data) // 2])
    f["a_folder"] = root / "a_folder"
    f["a_folder"].mkdir()
    f["dict"] = root / "damaged.dict"
    save_compiled(compile_dictionary([Entry("cisplatin", "Chemical", "D1", "t")]), f["dict"])
    damaged = bytearray(f["dict"].read_bytes())
    damaged[-3] ^= 0x55
    f["dict"].write_bytes(bytes(damaged))
    return f


def _cases(f: dict[str, Path]) -> list[Case]:
    r = f["root"]
    text, model, export = str(f["text"]), str(f["model"]), str(f["export"])
    return [
        ("evaluate: partial model folder", ["evaluate", str(f["partial_model"]),
         str(f["gene_gold"])], WEIGHTS_NAME),
        ("evaluate: export from a newer format", ["evaluate", str(f["newer_export"]),
         str(f["gene_gold"])], "export format version 99"),
        ("evaluate: model labels not the gold set's", ["evaluate", model,
         str(f["gene_gold"])], "Gene"),
        ("evaluate: a text file as gold", ["evaluate", model, text], "in.txt"),
        ("predict: partial export folder", ["predict", str(f["partial_export"]), text,
         str(r / "p1.jsonl")], GRAPH_NAME),
        ("predict: model from a newer format", ["predict", str(f["newer_model"]), text,
         str(r / "p2.jsonl")], "model format version 99"),
        ("predict: missing model folder", ["predict", str(r / "no_model"), text,
         str(r / "p3.jsonl")], "no_model"),
        ("predict: a text field of the wrong type", ["predict", export,
         str(f["wrong_field"]), str(r / "p4.jsonl")], "wrong_field.jsonl:1"),
        ("predict: an empty input", ["predict", export, str(f["empty"]),
         str(r / "p5.jsonl")], "empty.txt"),
        ("predict: a .gz input cut short", ["predict", export, str(f["cut"]),
         str(r / "p6.jsonl")], "cut.txt.gz: compressed file ends early"),
        ("predict: a folder as the output", ["predict", export, text, str(f["a_folder"])],
         "a_folder: is a folder"),
        ("predict: a damaged --dictionary", ["predict", export, text, str(r / "p7.jsonl"),
         "--dictionary", str(f["dict"])], "damaged.dict: compiled dictionary is damaged"),
        ("export: partial model folder", ["export", str(f["partial_model"]), str(r / "e1")],
         WEIGHTS_NAME),
        ("export: model from a newer format", ["export", str(f["newer_model"]),
         str(r / "e2")], "model format version 99"),
        ("export: a file as the output", ["export", model, text], "in.txt"),
        ("silver predict: missing model folder", ["silver", "predict", text, "--model",
         str(r / "no_model"), "--out", str(r / "sp1")], "no_model"),
        ("silver predict: partial export folder", ["silver", "predict", text, "--model",
         str(f["partial_export"]), "--out", str(r / "sp2")], GRAPH_NAME),
        ("silver predict: export from a newer format", ["silver", "predict", text, "--model",
         str(f["newer_export"]), "--out", str(r / "sp3")], "export format version 99"),
        ("silver predict: partial model folder", ["silver", "predict", text, "--model",
         str(f["partial_model"]), "--out", str(r / "sp4")], WEIGHTS_NAME),
        ("silver predict: a folder as the corpus", ["silver", "predict", str(f["a_folder"]),
         "--model", export, "--out", str(r / "sp5")], "a_folder"),
        ("silver predict: a .gz corpus cut short", ["silver", "predict", str(f["cut"]),
         "--model", export, "--out", str(r / "sp6"), "--json"],
         f"{f['cut']} (truncated at line"),
    ]  # fmt: skip


def test_silver_predict_checks_the_model_folder_before_the_pipeline(
    models: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import apache_beam as beam

    def no_pipeline(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the pipeline was built")

    monkeypatch.setattr(beam, "Pipeline", no_pipeline)
    for folder, needle in (
        ("partial_export", GRAPH_NAME),
        ("newer_export", "export format version 99"),
        ("partial_model", WEIGHTS_NAME),
        ("newer_model", "model format version 99"),
    ):
        argv = ["silver", "predict", str(models["text"]), "--model", str(models[folder]),
                "--out", str(models["root"] / f"early_{folder}")]  # fmt: skip
        code, lines, _ = run_case(argv, capsys)
        assert (code, len(lines)) == (2, 1) and needle in lines[0], (folder, lines)


def test_every_bad_model_input_is_one_line_with_exit_code_2(
    models: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    failures = failed_cases(_cases(models), capsys)
    assert not failures, "\n".join(failures)


def _one_line_error(load: Any, needle: str) -> None:
    with pytest.raises(BinderError) as caught:
        load()
    message = str(caught.value)
    assert needle in message and "\n" not in message, message


@pytest.mark.parametrize(
    ("folder", "needle"),
    [
        ("no_model", "no_model"),
        ("partial_export", GRAPH_NAME),
        ("newer_export", "export format version 99"),
        ("partial_model", WEIGHTS_NAME),
        ("newer_model", "model format version 99"),
    ],
)
def test_spacy_component_with_a_bad_model_is_one_binder_error(
    models: dict[str, Path], folder: str, needle: str
) -> None:
    spacy = pytest.importorskip("spacy")
    from binder_core.serving.spacy_component import BinderNER

    nlp = spacy.blank("en")
    # the component as the factory makes it (the factory's registration is tested beside it)
    component = BinderNER(nlp, "binder_ner", str(models["root"] / folder))
    _one_line_error(lambda: component(nlp.make_doc("Cisplatin induced nephrotoxicity.")), needle)


@pytest.mark.parametrize(
    ("folder", "needle"),
    [
        ("no_model", "no_model"),
        ("partial_export", GRAPH_NAME),
        ("newer_export", "export format version 99"),
        ("model", "not an export folder"),
    ],
)
def test_onnx_runtime_loader_with_a_bad_folder_is_one_binder_error(
    models: dict[str, Path], folder: str, needle: str
) -> None:
    pytest.importorskip("onnxruntime")
    from binder_core.inference.onnx_backend import OnnxPredictor

    path = models.get(folder, models["root"] / folder)
    _one_line_error(lambda: OnnxPredictor.from_export(path), needle)
