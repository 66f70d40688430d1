"""``benchmarks.bench_backends`` end to end on the tiny model and a miniature BC5CDR test file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")

PUBTATOR = """\
1|t|Cisplatin induced nephrotoxicity.
1|a|Hearing loss in mice.
1\t0\t9\tCisplatin\tChemical\tD002945
1\t18\t32\tnephrotoxicity\tDisease\tD007674

2|t|Naloxone reversed the effects of morphine.
2|a|No renal failure was seen.
2\t0\t8\tNaloxone\tChemical\tD009270
"""


@pytest.mark.slow
def test_bench_backends_runs_and_checks_parity(tiny_model_dir: Path, tmp_path: Path) -> None:
    from benchmarks.bench_backends import main

    data = tmp_path / "data"
    (data / "bc5cdr" / "pubtator").mkdir(parents=True)
    (data / "bc5cdr" / "pubtator" / "CDR_TestSet.PubTator.txt").write_text(PUBTATOR)
    out = tmp_path / "result.json"
    main([
        str(tiny_model_dir), "--docs", "2", "--data", str(data), "--work", str(tmp_path / "w"),
        "--backends", "torch-fp32,onnx-fp32", "--rounds", "1", "--types-docs", "2",
        "--json", str(out), "--strict",
    ])  # fmt: skip
    result = json.loads(out.read_text())
    assert result["docs"] == 2 and result["scored_labels"] == ["Chemical", "Disease"]
    rows = result["backends"]
    assert set(rows) == {"torch-fp32", "onnx-fp32"}
    assert rows["torch-fp32"]["ratio_to_torch_fp32"] == 1.0
    assert rows["onnx-fp32"]["parity_with_torch_fp32"]["same_spans"] is True
    assert rows["onnx-fp32"]["torch_imported"] is False
    assert rows["onnx-fp32"]["f1"] == rows["torch-fp32"]["f1"]
    assert result["types_1000_vs_10"]["backend"] == "onnx-fp32"
    assert result["types_1000_vs_10"]["ratio"] > 0
