#!/usr/bin/env bash
# Experiment 10: concept linking. How often does the linker give a gold mention its gold
# concept id (BC5CDR with dict_core + MeSH, NCBI-disease with MeSH), and what do concept ids
# add to the dictionary alone (span + type vs span + type + concept F1)?
#   bash benchmarks/experiments/10_linking.sh [--data-dir DIR] [--out DIR] [--index-bench]
#                                             [--dense]
# Writes OUT/{bc5cdr,ncbi}_{dev,test}_dict.json (binder link evaluate, the dictionary's names
# alone), OUT/{bc5cdr,ncbi}_{dev,test}.json (with the names learned from the training set's
# annotations), OUT/steps_{bc5cdr,ncbi}.json (the dev table, step by step), OUT/dict_side_*.json,
# with --dense OUT/dense_{bc5cdr,ncbi}.json (MiniLM re-ranking and retrieval on dev, slow on a
# CPU) and with --index-bench OUT/bench_link_index.json (the 1M-term dictionary's index).
# Every choice was made on the dev sets; the test sets are read by the last evaluations only.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=../shared/data OUT=bench_out/link INDEX_BENCH= DENSE=
while [[ $# -gt 0 ]]; do
  case $1 in
    --data-dir) DATA=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --index-bench) INDEX_BENCH=1; shift ;;
    --dense) DENSE=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
B=.venv/bin/binder
PY=.venv/bin/python
MESH=$DATA/dictionaries/mesh2024_flat/mesh2024_terms.tsv.gz
TREES=$DATA/dictionaries/mesh2017_tree/2017MeshTree.txt
mkdir -p "$OUT"
P=$DATA/bc5cdr/pubtator N=$DATA/ncbi_disease/original
MAP=(--label-map SpecificDisease=Disease --label-map DiseaseClass=Disease
     --label-map Modifier=Disease --label-map CompositeMention=Disease)
for split in test:Test dev:Development train:Training; do
  [[ -d $OUT/bc5cdr_${split%%:*} ]] || $B data convert "$P/CDR_${split#*:}Set.PubTator.txt" \
    "$OUT/bc5cdr_${split%%:*}" --format pubtator > /dev/null
done
for split in test:test dev:develop train:train; do
  [[ -d $OUT/ncbi_${split%%:*} ]] || $B data convert "$N/NCBI${split#*:}set_corpus.txt" \
    "$OUT/ncbi_${split%%:*}" --format pubtator "${MAP[@]}" > /dev/null
done
# the dictionaries of experiment 8's best recipes (tree fill, plural and British variants);
# --link-index writes the linking index beside each (DICT.link.npz)
$B dict compile "$OUT/core_mesh.dict" --source "autoner=$DATA/bc5cdr/autoner/dict_core.txt" \
  --source "mesh=$MESH" --mesh-trees "$TREES" --variant plural,british --link-index
$B dict compile "$OUT/mesh_disease.dict" --source "mesh=$MESH" \
  --mesh-branches C=Disease,F03=Disease --mesh-trees "$TREES" --variant plural,british --link-index
SETS=(bc5cdr:core_mesh ncbi:mesh_disease)
for set in "${SETS[@]}"; do
  name=${set%%:*} dict=$OUT/${set#*:}.dict
  # the dev table: each step on top of the one before, one step off at a time, thresholds
  $PY -m benchmarks.link_steps "$dict" "$OUT/${name}_dev" --annotations "$OUT/${name}_train" \
    --json "$OUT/steps_$name.json"
  [[ -z $DENSE ]] || $PY -m benchmarks.link_dense_rerank "$dict" "$OUT/${name}_dev" \
    --annotations "$OUT/${name}_train" --json "$OUT/dense_$name.json"
  # the final method, read once on test: the dictionary's names alone (the index that
  # --link-index wrote), then with the names the training set's annotations teach
  for split in dev test; do
    $B link evaluate "$OUT/${name}_$split" --dict "$dict" --json --errors 300 \
      > "$OUT/${name}_${split}_dict.json"
  done
  $B dict link-index "$dict" --annotations "$OUT/${name}_train"
  for split in dev test; do
    $B link evaluate "$OUT/${name}_$split" --dict "$dict" --json --errors 300 \
      > "$OUT/${name}_$split.json"
  done
done
$PY -m benchmarks.link_dictionary_side "$OUT/core_mesh.dict" "$OUT/bc5cdr_test" \
  --json "$OUT/dict_side_bc5cdr.json"
$PY -m benchmarks.link_dictionary_side "$OUT/mesh_disease.dict" "$OUT/ncbi_test" \
  --json "$OUT/dict_side_ncbi.json"
[[ -z $INDEX_BENCH ]] || $PY -m benchmarks.bench_link_index --data-dir "$DATA" \
  --json "$OUT/bench_link_index.json"
