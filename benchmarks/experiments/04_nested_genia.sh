#!/usr/bin/env bash
# Experiment 4: nested NER on GENIA. The nested test set (1,854 sentences, W2NER JSON) is
# converted, split by document-id hash into train/dev/test (80/10/10), BINDER is trained on the
# train part with nested decoding (checkpoint chosen on dev), and the test part is scored with
# nested and with flat decoding: micro/per-type F1 and the recall of nested gold spans.
#   bash benchmarks/experiments/04_nested_genia.sh [--epochs N] [--model PATH_OR_ID]
#        [--data-dir DIR] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=../shared/data OUT=bench_out/exp4 EPOCHS=5 MODEL=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --epochs) EPOCHS=$2; shift 2 ;;
    --model) MODEL=(--model "$2"); shift 2 ;;
    --data-dir) DATA=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export HF_HUB_OFFLINE=1
B=.venv/bin/binder
mkdir -p "$OUT"
$B data convert "$DATA/genia_nested/test.json" "$OUT/gold" --format binder-jsonl > /dev/null
$B data split "$OUT/gold" "$OUT/split" --part train=0.8 --part dev=0.1 --part test=0.1 --json \
  > "$OUT/split_manifest.json"
rm -rf "$OUT/run"  # a fresh run each time
$B train --train "$OUT/split/train" --dev "$OUT/split/dev" --out "$OUT/run" --types genia \
  --epochs "$EPOCHS" --batch-size 16 --lr 5e-5 --seed 42 --max-seq-length 128 \
  --decoding nested --eval-every 100 --save-every 100 "${MODEL[@]}"
for decoding in nested flat; do
  $B evaluate "$OUT/run" "$OUT/split/test" --decoding $decoding --json > "$OUT/test_$decoding.json"
  .venv/bin/python -m benchmarks.results_row "genia-$decoding" "$OUT/run" "$OUT/test_$decoding.json" \
    | tee -a "$OUT/results.tsv"
done
