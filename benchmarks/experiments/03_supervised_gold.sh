#!/usr/bin/env bash
# Experiment 3: BINDER trained on gold, next to a token-classification head with the same
# encoder, data, budget (3 epochs, batch 16, lr 5e-5) and seed, both scored on gold test.
#   bash benchmarks/experiments/03_supervised_gold.sh ncbi|bc5cdr [--data-dir DIR] [--out DIR]
#        [--model PATH_OR_ID] [--epochs N] [--systems binder,token-classification]
# Data: the IOB2 sentence files of ncbi_disease/iob_mtl or bc5cdr/iob_mtl, converted with
# `binder data convert --format conll`. Writes the run directory (metrics.jsonl, curves.png,
# best/), test metrics JSON for both systems, and a results row in OUT/results.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."
NAME=${1:?usage: $0 ncbi|bc5cdr [options]}; shift
DATA=../shared/data OUT=bench_out/exp3 MODEL="" EPOCHS=3 SYSTEMS=binder,token-classification
while [[ $# -gt 0 ]]; do
  case $1 in
    --data-dir) DATA=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --model) MODEL=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --systems) SYSTEMS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
case $NAME in
  ncbi) SRC=$DATA/ncbi_disease/iob_mtl TYPES=ncbi_disease ;;
  bc5cdr) SRC=$DATA/bc5cdr/iob_mtl TYPES=bc5cdr ;;
  *) echo "unknown data set $NAME (ncbi or bc5cdr)" >&2; exit 2 ;;
esac
export HF_HUB_OFFLINE=1
B=.venv/bin/binder
D=$OUT/$NAME
mkdir -p "$D"
for split in train devel test; do
  $B data convert "$SRC/$split.tsv" "$D/gold_$split" --format conll > /dev/null
done
MODEL_ARGS=()
[[ -n $MODEL ]] && MODEL_ARGS=(--model "$MODEL")
if [[ ,$SYSTEMS, == *,binder,* ]]; then
  rm -rf "$D/binder_run"  # a fresh run each time
  $B train --train "$D/gold_train" --dev "$D/gold_devel" --out "$D/binder_run" --types "$TYPES" \
    --epochs "$EPOCHS" --batch-size 16 --lr 5e-5 --seed 42 --eval-every 200 --save-every 200 \
    "${MODEL_ARGS[@]}"
  $B evaluate "$D/binder_run" "$D/gold_test" --json > "$D/binder_test.json"
  .venv/bin/python -m benchmarks.results_row "$NAME-binder" "$D/binder_run" "$D/binder_test.json" \
    | tee -a "$OUT/results.tsv"
fi
if [[ ,$SYSTEMS, == *,token-classification,* ]]; then
  /usr/bin/time -f "%M" -o "$D/token_classification_peak_kb" \
    .venv/bin/python -m benchmarks.token_classification --train "$D/gold_train" \
    --test "$D/gold_test" --epochs "$EPOCHS" --batch-size 16 --lr 5e-5 --seed 42 \
    "${MODEL_ARGS[@]}" --json "$D/token_classification_test.json"
  .venv/bin/python - "$NAME" "$D" "$(git rev-parse --short HEAD)" <<'PY' | tee -a "$OUT/results.tsv"
import json, sys
name, d, commit = sys.argv[1:]
m = json.load(open(f"{d}/token_classification_test.json"))
peak_mb = int(open(f"{d}/token_classification_peak_kb").read().split()[-1]) / 1024
per = " ".join(f"{k}={v['f1']:.4f}" for k, v in m["per_label"].items())
print("\t".join([f"{name}-token-classification", f"P={m['precision']:.4f}", f"R={m['recall']:.4f}",
                 f"F1={m['f1']:.4f}", per, f"train={m['train_seconds']:.0f}s",
                 f"{m['train_tokens_per_second']} tok/s", f"peak={peak_mb:.0f}MB", commit]))
PY
fi
