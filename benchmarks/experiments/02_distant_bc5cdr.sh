#!/usr/bin/env bash
# Experiment 2: distant supervision on BC5CDR with no gold training labels.
#   bash benchmarks/experiments/02_distant_bc5cdr.sh [--dict core|core+mesh]
#        [--uncertain exclude|negative] [--threshold-weight 0.5|0] [--fuzzy]
#        [--epochs N | --max-steps N] [--model PATH_OR_ID] [--data-dir DIR] [--out DIR]
# 1. raw text: BC5CDR train abstracts (labels stripped), PubMedQA and GENIA abstracts, with
#    every BC5CDR test document held out; the BC5CDR development abstracts are the dev texts;
# 2. silver labels for both from the dictionary alone (binder silver build);
# 3. BINDER trained on silver train, checkpoint chosen on *silver* dev (never on gold);
# 4. binder evaluate on the gold BC5CDR test set; results row in OUT/results.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=../shared/data OUT=bench_out/exp2 DICT=core UNCERTAIN=exclude THRESHOLD=0.5 FUZZY=""
LIMIT=(--epochs 2) MODEL=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --dict) DICT=$2; shift 2 ;;
    --uncertain) UNCERTAIN=$2; shift 2 ;;
    --threshold-weight) THRESHOLD=$2; shift 2 ;;
    --fuzzy) FUZZY=--fuzzy; shift ;;
    --epochs) LIMIT=(--epochs "$2"); shift 2 ;;
    --max-steps) LIMIT=(--max-steps "$2"); shift 2 ;;
    --model) MODEL=(--model "$2"); shift 2 ;;
    --data-dir) DATA=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export HF_HUB_OFFLINE=1
B=.venv/bin/binder
P=$DATA/bc5cdr/pubtator
CORE=$DATA/bc5cdr/autoner/dict_core.txt
MESH=$DATA/dictionaries/mesh2024_flat/mesh2024_terms.tsv.gz
case $DICT in
  core) SOURCES=(--source "autoner=$CORE") ;;
  core+mesh) SOURCES=(--source "autoner=$CORE" --source "mesh=$MESH") ;;
  *) echo "unknown --dict $DICT (core or core+mesh)" >&2; exit 2 ;;
esac
RUN="$OUT/${DICT}_unc-${UNCERTAIN}_thr-${THRESHOLD}${FUZZY:+_fuzzy}"
mkdir -p "$OUT" "$RUN"

[[ -f $OUT/raw_train.jsonl ]] || .venv/bin/python -m benchmarks.raw_corpus "$OUT/raw_train.jsonl" \
  --data-dir "$DATA" --exclude-pubtator "$P/CDR_TestSet.PubTator.txt" \
  --exclude-pubtator "$P/CDR_DevelopmentSet.PubTator.txt"
[[ -d $OUT/gold_test ]] || $B data convert "$P/CDR_TestSet.PubTator.txt" "$OUT/gold_test" --format pubtator > /dev/null

$B dict compile "$RUN/dictionary.dict" "${SOURCES[@]}" > /dev/null
$B silver build "$OUT/raw_train.jsonl" --dict "$RUN/dictionary.dict" --out "$RUN/silver_train" --format jsonl $FUZZY > /dev/null
$B silver build "$P/CDR_DevelopmentSet.PubTator.txt" --dict "$RUN/dictionary.dict" --out "$RUN/silver_dev" --format pubtator $FUZZY > /dev/null
$B silver stats "$RUN/silver_train" --json > "$RUN/silver_stats.json"
$B silver stats "$RUN/silver_train" --html "$RUN/silver_stats.html" > /dev/null
# The dictionary's own score on the test set: the number the model has to beat.
$B silver build "$P/CDR_TestSet.PubTator.txt" --dict "$RUN/dictionary.dict" --out "$RUN/silver_test" --format pubtator > /dev/null
$B silver eval "$RUN/silver_test" "$OUT/gold_test" --json > "$RUN/dictionary_test.json"

rm -rf "$RUN/run"  # a fresh run each time
$B train --train "$RUN/silver_train" --dev "$RUN/silver_dev" --out "$RUN/run" --types bc5cdr \
  "${LIMIT[@]}" --batch-size 16 --lr 5e-5 --seed 42 --eval-every 200 --save-every 200 \
  --uncertain "$UNCERTAIN" --threshold-weight "$THRESHOLD" "${MODEL[@]}"
$B evaluate "$RUN/run" "$OUT/gold_test" --json > "$RUN/model_test.json"
.venv/bin/python -m benchmarks.results_row "$(basename "$RUN")" "$RUN/run" "$RUN/model_test.json" \
  --dictionary "$RUN/dictionary_test.json" | tee -a "$OUT/results.tsv"
