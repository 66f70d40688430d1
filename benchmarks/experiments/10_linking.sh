#!/usr/bin/env bash
# Experiment 10: concept linking. How often does the linker give a gold mention its gold
# concept id (BC5CDR with dict_core + MeSH, NCBI-disease with MeSH), and what do concept ids
# add to the dictionary alone (span + type vs span + type + concept F1)?
#   bash benchmarks/experiments/10_linking.sh [--data-dir DIR] [--out DIR]
# Writes OUT/{bc5cdr,ncbi}_{dev,test}.json (binder link evaluate), OUT/dict_side_*.json and,
# with --index-bench, OUT/bench_link_index.json (the 1M-term dictionary's index).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=../shared/data OUT=bench_out/link INDEX_BENCH=
while [[ $# -gt 0 ]]; do
  case $1 in
    --data-dir) DATA=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --index-bench) INDEX_BENCH=1; shift ;;
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
for split in test:Test dev:Development; do
  [[ -d $OUT/bc5cdr_${split%%:*} ]] || $B data convert "$P/CDR_${split#*:}Set.PubTator.txt" \
    "$OUT/bc5cdr_${split%%:*}" --format pubtator > /dev/null
done
for split in test:test dev:develop; do
  [[ -d $OUT/ncbi_${split%%:*} ]] || $B data convert "$N/NCBI${split#*:}set_corpus.txt" \
    "$OUT/ncbi_${split%%:*}" --format pubtator "${MAP[@]}" > /dev/null
done
# the dictionaries of experiment 8's best recipes (tree fill, plural and British variants);
# --link-index writes the linking index beside each (DICT.link.npz)
$B dict compile "$OUT/core_mesh.dict" --source "autoner=$DATA/bc5cdr/autoner/dict_core.txt" \
  --source "mesh=$MESH" --mesh-trees "$TREES" --variant plural,british --link-index
$B dict compile "$OUT/mesh_disease.dict" --source "mesh=$MESH" \
  --mesh-branches C=Disease,F03=Disease --mesh-trees "$TREES" --variant plural,british --link-index
for split in dev test; do
  $B link evaluate "$OUT/bc5cdr_$split" --dict "$OUT/core_mesh.dict" --json --errors 300 \
    > "$OUT/bc5cdr_$split.json"
  $B link evaluate "$OUT/ncbi_$split" --dict "$OUT/mesh_disease.dict" --json --errors 300 \
    > "$OUT/ncbi_$split.json"
done
$PY -m benchmarks.link_dictionary_side "$OUT/core_mesh.dict" "$OUT/bc5cdr_test" \
  --json "$OUT/dict_side_bc5cdr.json"
$PY -m benchmarks.link_dictionary_side "$OUT/mesh_disease.dict" "$OUT/ncbi_test" \
  --json "$OUT/dict_side_ncbi.json"
[[ -z $INDEX_BENCH ]] || $PY -m benchmarks.bench_link_index --data-dir "$DATA" \
  --json "$OUT/bench_link_index.json"
