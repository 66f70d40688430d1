#!/usr/bin/env bash
# Experiment 1: how good is each dictionary alone on BC5CDR test (exact span + label)?
#   bash benchmarks/experiments/01_dictionary_baselines.sh [--data-dir DIR] [--out DIR]
# Writes, per dictionary: the compiled artifact, silver Parquet, silver stats (JSON + HTML),
# the eval JSON, and one results row in OUT/results.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=../shared/data OUT=bench_out/exp1
while [[ $# -gt 0 ]]; do
  case $1 in
    --data-dir) DATA=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
B=.venv/bin/binder
TEST=$DATA/bc5cdr/pubtator/CDR_TestSet.PubTator.txt
CORE=$DATA/bc5cdr/autoner/dict_core.txt
MESH=$DATA/dictionaries/mesh2024_flat/mesh2024_terms.tsv.gz
mkdir -p "$OUT"
$B data convert "$TEST" "$OUT/gold_test" --format pubtator > /dev/null

declare -A SOURCES=(
  [dict_core]="--source autoner=$CORE"
  [mesh]="--source mesh=$MESH"
  [dict_core+mesh]="--source autoner=$CORE --source mesh=$MESH"
)
printf 'dictionary\tprecision\trecall\tf1\tchemical_f1\tdisease_f1\tcommit\n' > "$OUT/results.tsv"
for name in dict_core mesh dict_core+mesh; do
  d="$OUT/$name"
  mkdir -p "$d"
  # shellcheck disable=SC2086
  $B dict compile "$d/dictionary.dict" ${SOURCES[$name]} > /dev/null
  $B silver build "$TEST" --dict "$d/dictionary.dict" --out "$d/silver" --format pubtator > /dev/null
  $B silver stats "$d/silver" --json > "$d/silver_stats.json"
  $B silver stats "$d/silver" --html "$d/silver_stats.html" > /dev/null
  $B silver eval "$d/silver" "$OUT/gold_test" --json > "$d/metrics.json"
  .venv/bin/python - "$name" "$d/metrics.json" "$(git rev-parse --short HEAD)" >> "$OUT/results.tsv" <<'PY'
import json, sys
name, path, commit = sys.argv[1:]
m = json.load(open(path))
pl = m["per_label"]
print("\t".join([name, *(f"{m[k]:.4f}" for k in ("precision", "recall", "f1")),
                 f"{pl['Chemical']['f1']:.4f}", f"{pl['Disease']['f1']:.4f}", commit]))
PY
done
column -t -s $'\t' "$OUT/results.tsv"
