#!/usr/bin/env bash
# One self-training round on top of a finished 08_distant.sh run, through the CLI:
#   bash benchmarks/experiments/09_self_train.sh SILVER_DIR ROUND1_NAME --name NAME
#        [--min-score 0.9] [--train "BINDER TRAIN OPTIONS"] [--out DIR]
# SILVER_DIR is a silver_<dict>_<key>/ folder of 08_distant.sh (silver_train/, silver_dev/,
# dictionary.dict, ROUND1_NAME/ a trained run).
# 1. binder predict with the round-1 model on the silver training text;
# 2. binder silver augment: predictions the dictionary missed join the silver labels (score >=
#    --min-score as entities, the rest as uncertain; the dictionary wins where they overlap);
# 3. BINDER trained again from the encoder on the augmented labels, selected on the same dev
#    data, scored once on gold test (model alone and hybrid).
set -euo pipefail
cd "$(dirname "$0")/../.."
S=${1:?usage: $0 SILVER_DIR ROUND1_NAME --name NAME [options]}
ROUND1=${2:?usage: $0 SILVER_DIR ROUND1_NAME --name NAME [options]}
shift 2
NAME="" MIN_SCORE=0.9 TRAIN=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --name) NAME=$2; shift 2 ;;
    --min-score) MIN_SCORE=$2; shift 2 ;;
    --train) TRAIN=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -n $NAME ]] || { echo "--name is required" >&2; exit 2; }
export HF_HUB_OFFLINE=1
B=.venv/bin/binder
T=$(dirname "$S")
OUT=$(dirname "$T")
TASK=$(basename "$T")
TYPES=$(.venv/bin/python -c "import json,sys; print(json.load(open(sys.argv[1]))['types_file'])" "$S/$ROUND1/train_config.json")
MONITOR=()
[[ $TASK == conll ]] || MONITOR=(--monitor "gold_dev=$T/gold_dev")
A=$S/augmented_${ROUND1}_$MIN_SCORE
mkdir -p "$A"
[[ -f $A/predictions.parquet ]] || $B predict "$S/$ROUND1" "$S/silver_train" "$A/predictions.parquet" > /dev/null
[[ -d $A/silver_train ]] || $B silver augment "$S/silver_train" "$A/predictions.parquet" "$A/silver_train" \
  --min-score "$MIN_SCORE" --json > "$A/augment_manifest.json"
R=$S/$NAME
rm -rf "$R"
# shellcheck disable=SC2086
$B train --train "$A/silver_train" --dev "$S/silver_dev" --out "$R" --types "$TYPES" "${MONITOR[@]}" $TRAIN
$B evaluate "$R" "$T/gold_test" --json > "$R/model_test.json"
$B evaluate "$R" "$T/gold_test" --json --dictionary "$S/dictionary.dict" > "$R/hybrid_test.json"
.venv/bin/python -m benchmarks.results_row "$TASK/$(basename "$S")/$NAME" "$R" "$R/model_test.json" \
  --dictionary "$S/dictionary_test.json" --hybrid "$R/hybrid_test.json" | tee -a "$OUT/results.tsv"
