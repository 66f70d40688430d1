#!/usr/bin/env bash
# Experiment 2, self-training lever: one round on top of a finished experiment-2 run.
#   bash benchmarks/experiments/05_self_training.sh RUN_DIR [--min-score 0.9]
#        [--epochs N | --max-steps N] [--out DIR]
# RUN_DIR is a folder written by 02_distant_bc5cdr.sh (silver_train/, silver_dev/, run/).
# 1. binder predict with the round-1 model on the silver training text;
# 2. binder silver augment: predictions the dictionary missed join the silver labels
#    (score >= --min-score as entities, the rest as uncertain; the dictionary wins overlaps);
# 3. BINDER trained again from the encoder on the augmented silver (same settings as round 1,
#    checkpoint chosen on the dictionary-only silver dev), scored on gold BC5CDR test.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUN=${1:?usage: $0 RUN_DIR [options]}; shift
MIN_SCORE=0.9 LIMIT=() OUT=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --min-score) MIN_SCORE=$2; shift 2 ;;
    --epochs) LIMIT=(--epochs "$2"); shift 2 ;;
    --max-steps) LIMIT=(--max-steps "$2"); shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export HF_HUB_OFFLINE=1
B=.venv/bin/binder
OUT=${OUT:-$RUN/self_training_$MIN_SCORE}
GOLD=$(dirname "$RUN")/gold_test
mkdir -p "$OUT"
# Round 2 repeats round 1's training settings, read from its train_config.json.
read -r -a ROUND1 < <(.venv/bin/python - "$RUN/run/train_config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
d, lw = c["data"], c["loss_weights"]
args = ["--batch-size", c["batch_size"], "--lr", c["lr"], "--seed", c["seed"],
        "--eval-every", c["eval_every"], "--save-every", c["save_every"],
        "--uncertain", d["uncertain_spans"], "--max-seq-length", d["max_seq_length"],
        "--model", c["model"]["encoder"], "--threshold-weight", lw["threshold"],
        "--mention-weight", lw["mention"]]
args += ["--max-steps", c["max_steps"]] if c["max_steps"] else ["--epochs", c["epochs"]]
print(" ".join(str(a) for a in args))
PY
)
$B predict "$RUN/run" "$RUN/silver_train" "$OUT/predictions.parquet" > /dev/null
$B silver augment "$RUN/silver_train" "$OUT/predictions.parquet" "$OUT/silver_train" \
  --min-score "$MIN_SCORE" --json > "$OUT/augment_manifest.json"
rm -rf "$OUT/run"  # a fresh run each time
$B train --train "$OUT/silver_train" --dev "$RUN/silver_dev" --out "$OUT/run" --types bc5cdr \
  "${ROUND1[@]}" "${LIMIT[@]}"
$B evaluate "$OUT/run" "$GOLD" --json > "$OUT/model_test.json"
ADDED=$(.venv/bin/python -c "import json,sys; c=json.load(open(sys.argv[1]))['counts']; print(f\"{c['added']}+{c['added_uncertain']}u\")" "$OUT/augment_manifest.json")
.venv/bin/python -m benchmarks.results_row "$(basename "$RUN")+self-train-$MIN_SCORE($ADDED)" \
  "$OUT/run" "$OUT/model_test.json" --dictionary "$RUN/dictionary_test.json" \
  | tee -a "$(dirname "$RUN")/results.tsv"
