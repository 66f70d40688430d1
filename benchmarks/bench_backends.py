"""Prediction backends on CPU: documents/s, peak memory, parity and F1, in one run.

    python -m benchmarks.bench_backends MODEL [--docs 500] [--json OUT] [--work DIR]

``MODEL`` is a run or model folder from ``binder train``. One invocation:

1. Exports it to ONNX under ``--work`` (``binder export``): ``onnx-fp32`` and ``onnx-int8``
   (the dynamo exporter), ``onnx-fused-fp32`` and ``onnx-fused-int8`` (the torchscript exporter
   with onnxruntime's transformer fusions). Export time is reported, not timed as prediction.
2. Tags the same ``--docs`` BC5CDR test abstracts with every backend: ``torch-fp32``,
   ``torch-bf16`` (autocast; only where the CPU computes bf16 natively: AMX or AVX512-BF16) and
   the four exports. Each measurement is a fresh subprocess (so its peak RSS, VmHWM, is its
   own): load, warm up on a few abstracts, then time ``predict_spans`` over all of them,
   type vectors cached. ``--rounds`` alternate the order of the backends, so a busy machine's
   noise is shared; documents/s is the median over rounds, and each backend is reported as a
   ratio to ``torch-fp32`` measured in the same run.
3. Checks parity: ``onnx-fp32`` must give exactly the spans of ``torch-fp32`` with scores within
   1e-4 (the run says so, and fails with ``--strict``).
4. Scores every backend's predictions against the BC5CDR test gold (exact spans, the model's
   types that BC5CDR has), so int8 can be held to fp32 (within 1 F1 point).
5. Rechecks prediction with 1,000 against 10 types (``bench_model --only prediction``'s
   measure: texts only, type vectors computed beforehand, thresholds raised above any score)
   on the fastest backend, when ``--types-docs`` is not 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.memory import peak_rss_mb

LOG = logging.getLogger("bench_backends")
REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("BINDER_SHARED_DATA", REPO.parent / "shared" / "data"))
BC5CDR_TEST = Path("bc5cdr") / "pubtator" / "CDR_TestSet.PubTator.txt"
BACKENDS = (
    "torch-fp32",
    "torch-bf16",
    "onnx-fp32",
    "onnx-int8",
    "onnx-fused-fp32",
    "onnx-fused-int8",
)
EXPORTS: dict[str, dict[str, Any]] = {
    "onnx-fp32": {"quantize": "fp32"},
    "onnx-int8": {"quantize": "int8"},
    "onnx-fused-fp32": {"quantize": "fp32", "exporter": "torchscript", "optimize": True},
    "onnx-fused-int8": {"quantize": "int8", "exporter": "torchscript", "optimize": True},
}
QUIET_MARGIN = 1e4
"""Above any margin (as in ``bench_model``): times the 1,000-type path without building
millions of prediction objects for descriptions the model was never trained on."""
WARMUP_DOCS = 4
SCORE_TOLERANCE = 1e-4


def load_test_documents(data: Path, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` BC5CDR test abstracts, with their gold spans."""
    from pipelines.gold.pubtator import parse_pubtator

    path = data / BC5CDR_TEST
    if not path.is_file():
        raise SystemExit(f"{path}: BC5CDR test set not found; pass --data DIR")
    lines = enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
    docs = []
    for doc in parse_pubtator(lines, str(path)):
        docs.append(doc)
        if len(docs) == limit:
            break
    return docs


# ------------------------------------------------------------------------------ children
def _predictor(backend: str, model: str, work: Path) -> Any:
    from binder_core.inference.backends import load_predictor

    if backend.startswith("torch"):
        amp = "bf16" if backend == "torch-bf16" else "no"
        return load_predictor(model, backend="torch", device="cpu", amp=amp)
    return load_predictor(work / backend, backend="onnx")


def child_predict(args: argparse.Namespace) -> None:
    """Tag the texts with one backend; print one JSON record (time, memory, predictions)."""
    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    started = time.perf_counter()
    predictor = _predictor(args.child, args.model, Path(args.work))
    predictor.predict_spans(texts[:WARMUP_DOCS])  # warm-up, caches the type vectors
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    predictions = predictor.predict_spans(texts, batch_size=args.batch_size)
    seconds = time.perf_counter() - started
    record = {
        "backend": args.child,
        "docs": len(texts),
        "seconds": seconds,
        "docs_per_s": len(texts) / seconds,
        "load_s": load_s,
        "peak_rss_mb": peak_rss_mb(),
        "torch_imported": "torch" in sys.modules,
        "predictions": [[[p.start, p.end, p.label, p.score] for p in doc] for doc in predictions],
    }
    print(json.dumps(record))


def child_types(args: argparse.Namespace) -> None:
    """Texts-only seconds with many (1,000) and few (10) types on one backend."""
    import dataclasses

    from benchmarks._util import synthetic_types
    from binder_core.inference.onnx_backend import OnnxPredictor
    from binder_core.inference.torch_backend import Predictor

    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))[: args.types_docs]
    descriptions = synthetic_types(1000)
    names = list(descriptions)
    torch_side = _predictor("torch-fp32", args.model, Path(args.work))
    assert isinstance(torch_side, Predictor)
    encoder = Predictor(
        torch_side.model, torch_side.tokenizer, names, descriptions, torch_side.data_config,
        torch_side.device,
    )  # fmt: skip
    vectors = encoder.span_type_matrix(names)  # (1000, d), computed once, not timed
    base = _predictor(args.child, args.model, Path(args.work))

    def tagger(labels: Sequence[str]) -> Any:
        if isinstance(base, OnnxPredictor):
            info = dataclasses.replace(base.meta.info, labels=tuple(labels))
            meta = dataclasses.replace(base.meta, info=info)
            rows = [names.index(label) for label in labels]
            return OnnxPredictor(
                base.session, base.tokenizer, meta, vectors[rows], base.width_vectors(),
                min_margin=QUIET_MARGIN,
            )  # fmt: skip
        predictor = Predictor(
            base.model, base.tokenizer, labels, descriptions, base.data_config, base.device,
            amp_dtype=base.amp_dtype, min_margin=QUIET_MARGIN,
        )  # fmt: skip
        predictor.type_vectors()  # cached before timing: texts only
        return predictor

    sets = {"few": names[:10], "many": names}
    taggers = {which: tagger(labels) for which, labels in sets.items()}
    taggers["few"].predict_spans(texts[:2])
    runs: dict[str, list[float]] = {"few": [], "many": []}
    for which in ("few", "many", "many", "few"):
        started = time.perf_counter()
        taggers[which].predict_spans(texts, batch_size=args.batch_size)
        runs[which].append(time.perf_counter() - started)
    few, many = statistics.median(runs["few"]), statistics.median(runs["many"])
    print(json.dumps({"backend": args.child, "docs": len(texts), "few_s": few,
                      "many_s": many, "ratio": many / few, "runs": runs}))  # fmt: skip


def _run_child(kind: str, backend: str, args: argparse.Namespace, texts: Path) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "benchmarks.bench_backends", args.model, "--child", backend,
        "--child-kind", kind, "--texts", str(texts), "--work", str(args.work),
        "--batch-size", str(args.batch_size), "--types-docs", str(args.types_docs),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} {backend} failed:\n{done.stderr[-4000:]}")
    record: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return record


# -------------------------------------------------------------------------------- parent
def export_all(args: argparse.Namespace, backends: Sequence[str]) -> dict[str, float]:
    from binder_core.serving.export import export_onnx
    from binder_core.serving.export_config import ExportConfig

    seconds = {}
    for backend in backends:
        if backend not in EXPORTS:
            continue
        target = Path(args.work) / backend
        if args.reuse_exports and target.is_dir():
            continue
        started = time.perf_counter()
        export_onnx(args.model, target, ExportConfig(**EXPORTS[backend]))
        seconds[backend] = time.perf_counter() - started
        LOG.info("exported %s in %.0f s", backend, seconds[backend])
    return seconds


def parity(a: list[Any], b: list[Any]) -> dict[str, Any]:
    """Whether two backends gave the same spans, and the largest score difference."""
    same = [[p[:3] for p in doc] for doc in a] == [[p[:3] for p in doc] for doc in b]
    diffs = [
        abs(p[3] - q[3])
        for x, y in zip(a, b, strict=True)
        for p, q in zip(x, y, strict=False)  # unequal only when the spans differ anyway
    ]
    return {
        "same_spans": same,
        "max_score_diff": max(diffs, default=0.0),
        "spans": sum(len(doc) for doc in a),
    }


def f1_scores(docs: list[dict[str, Any]], predictions: list[Any], labels: Sequence[str]) -> Any:
    from binder_core.contract.metrics import SpanCounter

    counter = SpanCounter(labels)
    for doc, predicted in zip(docs, predictions, strict=True):
        gold = [(s["start"], s["end"], s["label"]) for s in doc["spans"] if s["label"] in labels]
        counter.update(gold, [tuple(p[:3]) for p in predicted])
    return counter.result().to_dict()


def run(args: argparse.Namespace) -> dict[str, Any]:
    from binder_core.inference.backends import model_labels
    from binder_core.model.device import cpu_has_native_bf16

    backends = [b for b in args.backends.split(",") if b]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        raise SystemExit(f"unknown backends {unknown}; choose from {list(BACKENDS)}")
    notes = []
    if "torch-bf16" in backends and not cpu_has_native_bf16():
        backends.remove("torch-bf16")
        notes.append("torch-bf16 skipped: this CPU has no native bf16 (AMX / AVX512-BF16)")
    Path(args.work).mkdir(parents=True, exist_ok=True)
    docs = load_test_documents(Path(args.data), args.docs)
    texts = Path(args.work) / "texts.json"
    texts.write_text(json.dumps([d["text"] for d in docs]), encoding="utf-8")
    export_s = export_all(args, backends)

    records: dict[str, list[dict[str, Any]]] = {b: [] for b in backends}
    for round_index in range(args.rounds):
        order = backends if round_index % 2 == 0 else backends[::-1]
        for backend in order:
            record = _run_child("predict", backend, args, texts)
            LOG.info("%s: %.2f docs/s, %.0f MiB", backend, record["docs_per_s"],
                     record["peak_rss_mb"])  # fmt: skip
            records[backend].append(record)

    labels = [label for label in model_labels(args.model) if label in ("Chemical", "Disease")]
    reference = statistics.median(r["docs_per_s"] for r in records["torch-fp32"])
    rows = {}
    for backend, runs in records.items():
        docs_per_s = statistics.median(r["docs_per_s"] for r in runs)
        predictions = runs[0]["predictions"]
        rows[backend] = {
            "docs_per_s": docs_per_s,
            "ratio_to_torch_fp32": docs_per_s / reference,
            "seconds": [r["seconds"] for r in runs],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "torch_imported": runs[0]["torch_imported"],
            "f1": f1_scores(docs, predictions, labels) if labels else None,
            "parity_with_torch_fp32": parity(predictions, records["torch-fp32"][0]["predictions"]),
        }
    result: dict[str, Any] = {
        "model": str(args.model),
        "docs": len(docs),
        "rounds": args.rounds,
        "batch_size": args.batch_size,
        "scored_labels": labels,
        "export_seconds": export_s,
        "backends": rows,
        "notes": notes,
        "machine": _machine(),
    }
    if args.types_docs:
        fastest = max((b for b in rows if b.startswith("onnx")), default="torch-fp32",
                      key=lambda b: rows[b]["docs_per_s"])  # fmt: skip
        result["types_1000_vs_10"] = _run_child("types", fastest, args, texts)
    return result


def _machine() -> dict[str, Any]:
    import platform

    import onnxruntime

    from binder_core.model.device import cpu_has_native_bf16

    info = {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "native_bf16": cpu_has_native_bf16(),
    }
    if hasattr(os, "getloadavg"):
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
    return info


def table(result: dict[str, Any]) -> str:
    """The Markdown table of BENCHMARKS.md."""
    lines = [
        "| backend | docs/s | ratio to torch fp32 | peak RSS (MiB) | F1 "
        "| same spans as torch fp32 |",
        "|---|---|---|---|---|---|",
    ]
    for backend, row in result["backends"].items():
        f1 = f"{row['f1']['f1']:.4f}" if row["f1"] else "-"
        par = row["parity_with_torch_fp32"]
        same = "yes" if par["same_spans"] else "no"
        same += f" (max score diff {par['max_score_diff']:.1e})"
        lines.append(
            f"| {backend} | {row['docs_per_s']:.2f} | **{row['ratio_to_torch_fp32']:.2f}x** | "
            f"{row['peak_rss_mb']:,.0f} | {f1} | {same} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="run or model folder from `binder train`")
    parser.add_argument("--docs", type=int, default=500, help="BC5CDR test abstracts to tag")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="the shared data folder")
    parser.add_argument("--work", default=str(REPO / "bench_out" / "backends"))
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16, help="windows per forward pass")
    parser.add_argument("--types-docs", type=int, default=150, help="0: skip the types check")
    parser.add_argument("--reuse-exports", action="store_true")
    parser.add_argument("--strict", action="store_true", help="fail unless onnx-fp32 == torch")
    parser.add_argument("--json", help="write the result here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-kind", default="predict", help=argparse.SUPPRESS)
    parser.add_argument("--texts", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        logging.disable(logging.WARNING)
        (child_predict if args.child_kind == "predict" else child_types)(args)
        return
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    result = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))
    par = result["backends"].get("onnx-fp32", {}).get("parity_with_torch_fp32")
    if par is not None:
        ok = par["same_spans"] and par["max_score_diff"] <= SCORE_TOLERANCE
        print(f"onnx-fp32 parity with torch-fp32: {'ok' if ok else 'FAILED'} ({par})")
        if args.strict and not ok:
            raise SystemExit(1)
    if "types_1000_vs_10" in result:
        t = result["types_1000_vs_10"]
        print(f"1,000 vs 10 types on {t['backend']} ({t['docs']} abstracts, texts only): "
              f"{t['many_s']:.1f} s vs {t['few_s']:.1f} s = {t['ratio']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
