#!/usr/bin/env bash
# The main job on the shipped sample, CPU only, a few minutes:
# compile the dictionary -> silver labels with the local Beam runner -> train BINDER briefly on
# silver -> evaluate on hand-labelled held-out documents -> predict a sentence -> summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

B=.venv/bin/binder
S=examples/sample
OUT=${DEMO_OUT:-demo_out}
rm -rf "$OUT" && mkdir -p "$OUT"

$B dict compile "$OUT/sample.dict" --source "kb=$S/dictionary.tsv"
$B silver build "$S/corpus_train.jsonl" --dict "$OUT/sample.dict" --out "$OUT/silver_train" --format jsonl
$B silver stats "$OUT/silver_train"
$B data convert "$S/gold_test.pubtator" "$OUT/gold_test" --format pubtator
# The dictionary alone on the held-out documents: the number the model has to beat.
$B silver build "$S/gold_test.pubtator" --dict "$OUT/sample.dict" --out "$OUT/silver_test" --format pubtator
$B silver eval "$OUT/silver_test" "$OUT/gold_test" --json > "$OUT/dictionary_metrics.json"

# 30 sample documents are too few for a meaningful dev split: train a fixed budget, keep the last.
$B train --train "$OUT/silver_train" --out "$OUT/run" \
  --types "$S/types.json" --max-steps "${DEMO_STEPS:-300}" --batch-size 8 --lr 5e-5 --seed 13
$B evaluate "$OUT/run" "$OUT/gold_test" --json > "$OUT/model_metrics.json"
printf 'Colistin given for pneumonia caused acute kidney injury and muscle weakness.\n' > "$OUT/sentence.txt"
$B predict "$OUT/run" "$OUT/sentence.txt" "$OUT/prediction.jsonl"
.venv/bin/python scripts/demo_summary.py "$OUT"
