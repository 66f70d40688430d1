#!/usr/bin/env bash
# Experiment 2, analysis of a finished run: what the model adds to its dictionary on gold test.
#   bash benchmarks/experiments/06_distant_analysis.sh RUN_DIR [MODEL_DIR]
# RUN_DIR is a folder written by 02_distant_bc5cdr.sh; MODEL_DIR defaults to RUN_DIR/run.
# 1. binder predict on the dictionary-labelled test text (RUN_DIR/silver_test);
# 2. binder silver eval of the model alone, and of dictionary + model (binder silver augment
#    with --min-score 0: every prediction the dictionary did not make, the dictionary winning
#    overlaps);
# 3. of the gold test mentions the dictionary misses, the share the model finds exactly.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUN=${1:?usage: $0 RUN_DIR [MODEL_DIR]}
MODEL=${2:-$RUN/run}
export HF_HUB_OFFLINE=1
B=.venv/bin/binder
GOLD=$(dirname "$RUN")/gold_test
A=$RUN/analysis_$(basename "$(dirname "$MODEL")")_$(basename "$MODEL")
mkdir -p "$A"
$B predict "$MODEL" "$RUN/silver_test" "$A/test_predictions.parquet" > /dev/null
$B silver eval "$A/test_predictions.parquet" "$GOLD" --json > "$A/model.json"
$B silver augment "$RUN/silver_test" "$A/test_predictions.parquet" "$A/union" --min-score 0 \
  --json > "$A/union_manifest.json"
$B silver eval "$A/union" "$GOLD" --json > "$A/union.json"
.venv/bin/python - "$RUN" "$A" "$GOLD" <<'PY' | tee "$A/summary.txt"
import json, sys
from binder_core.contract.schema import iter_documents
run, a, gold_dir = sys.argv[1:]
def spans(path):
    return {d["doc_id"]: {(s["start"], s["end"], s["label"]) for s in d["spans"] if not s["uncertain"]}
            for d in iter_documents(path)}
gold, dic, model = spans(gold_dir), spans(f"{run}/silver_test"), spans(f"{a}/test_predictions.parquet")
missed = {d: g - dic.get(d, set()) for d, g in gold.items()}
n_missed = sum(map(len, missed.values()))
found = sum(len(m & model.get(d, set())) for d, m in missed.items())
kept = sum(len((g & dic.get(d, set())) & model.get(d, set())) for d, g in gold.items())
n_dict_tp = sum(len(g & dic.get(d, set())) for d, g in gold.items())
for name in ("dictionary_test", "model", "union"):
    m = json.load(open(f"{run}/{name}.json" if name == "dictionary_test" else f"{a}/{name}.json"))
    per = " ".join(f"{k}={v['f1']:.4f}" for k, v in m["per_label"].items())
    print(f"{name}\tP={m['precision']:.4f}\tR={m['recall']:.4f}\tF1={m['f1']:.4f}\t{per}")
print(f"gold mentions the dictionary misses: {n_missed}; found by the model: {found} "
      f"({found / max(n_missed, 1):.3f})")
print(f"gold mentions the dictionary finds: {n_dict_tp}; also found by the model: {kept} "
      f"({kept / max(n_dict_tp, 1):.3f})")
PY
