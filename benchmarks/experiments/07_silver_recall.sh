#!/usr/bin/env bash
# Experiment 7: silver labels with more recall and honest uncertainty, each addition off/on.
#   bash benchmarks/experiments/07_silver_recall.sh [--data-dir DIR] [--out DIR]
# Train and dev splits only (BC5CDR, NCBI-disease, CoNLL-2003 eng.train/eng.testa): every
# choice of a default was made on these numbers, and no test split is read.
# Writes OUT/<data set>/<dictionary>/<row>/<split>/ (silver, manifest.json, eval_*.json),
# OUT/rows.tsv and the tables in OUT/silver_recall.md (benchmarks/results/silver_recall.md).
# BINDER and PYTHON override the commands (default .venv/bin/binder, .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=../shared/data OUT=bench_out/exp7
while [[ $# -gt 0 ]]; do
  case $1 in
    --data-dir) DATA=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
read -r -a B <<< "${BINDER:-.venv/bin/binder}"
read -r -a PY <<< "${PYTHON:-.venv/bin/python}"
P=$DATA/bc5cdr/pubtator
NCBI=$DATA/ncbi_disease/original
LEX=$DATA/dictionaries/conll2003_lexiconner
MESH=$DATA/dictionaries/mesh2024_flat/mesh2024_terms.tsv.gz
TREES=$DATA/dictionaries/mesh2017_tree/2017MeshTree.txt
VARIANTS=(--variant plural,british)
mkdir -p "$OUT/dicts" "$OUT/gold"
: > "$OUT/rows.tsv"

# row DATASET ROW SPLIT DICT GOLD CORPUS FORMAT [silver build options...]
row() {
  local dataset=$1 name=$2 split=$3 dict=$4 gold=$5 corpus=$6 fmt=$7; shift 7
  local run="$OUT/${dataset// /_}/$name/$split"
  run=${run//[^A-Za-z0-9_\/.+-]/_}
  mkdir -p "$run"
  "${B[@]}" silver build "$corpus" --dict "$dict" --out "$run/silver" --format "$fmt" "$@" \
    --json > "$run/manifest.json"
  for u in exclude include; do
    "${B[@]}" silver eval "$run/silver" "$gold" --uncertain $u --json > "$run/eval_$u.json"
  done
  printf '%s\t%s\t%s\t%s\n' "$dataset" "$name" "$split" "$run" >> "$OUT/rows.tsv"
}

# ---- dictionaries (as in experiments 1 and 2), and the broad lexicon: every MeSH tree
"${B[@]}" dict compile "$OUT/dicts/core.dict" --source "autoner=$DATA/bc5cdr/autoner/dict_core.txt" > /dev/null
"${B[@]}" dict compile "$OUT/dicts/core+mesh.dict" --source "autoner=$DATA/bc5cdr/autoner/dict_core.txt" \
  --source "mesh=$MESH" > /dev/null
"${B[@]}" dict compile "$OUT/dicts/mesh_disease.dict" --source "mesh=$MESH" \
  --mesh-branches C=Disease,F03=Disease > /dev/null
# spelling variants, and the tree numbers of the top-level MeSH descriptors (dict compile options)
"${B[@]}" dict compile "$OUT/dicts/core_variants.dict" --source "autoner=$DATA/bc5cdr/autoner/dict_core.txt" \
  "${VARIANTS[@]}" > /dev/null
"${B[@]}" dict compile "$OUT/dicts/core+mesh_variants.dict" --source "autoner=$DATA/bc5cdr/autoner/dict_core.txt" \
  --source "mesh=$MESH" "${VARIANTS[@]}" > /dev/null
"${B[@]}" dict compile "$OUT/dicts/core+mesh_trees.dict" --source "autoner=$DATA/bc5cdr/autoner/dict_core.txt" \
  --source "mesh=$MESH" --mesh-trees "$TREES" > /dev/null
"${B[@]}" dict compile "$OUT/dicts/core+mesh_trees_variants.dict" --source "autoner=$DATA/bc5cdr/autoner/dict_core.txt" \
  --source "mesh=$MESH" --mesh-trees "$TREES" "${VARIANTS[@]}" > /dev/null
for extra in trees variants trees_variants; do
  opts=(); [[ $extra == *trees* ]] && opts+=(--mesh-trees "$TREES"); [[ $extra == *variants* ]] && opts+=("${VARIANTS[@]}")
  "${B[@]}" dict compile "$OUT/dicts/mesh_disease_$extra.dict" --source "mesh=$MESH" \
    --mesh-branches C=Disease,F03=Disease "${opts[@]}" > /dev/null
done
ALL_TREES=A=Term,B=Term,C=Term,D=Term,E=Term,F=Term,G=Term,H=Term,I=Term,J=Term,K=Term,L=Term,M=Term,N=Term,V=Term,Z=Term
"${B[@]}" dict compile "$OUT/dicts/mesh_all.dict" --source "mesh=$MESH" --mesh-branches "$ALL_TREES" > /dev/null
for case in ignore exact exact-or-upper; do
  "${B[@]}" dict compile "$OUT/dicts/conll_$case.dict" \
    --source "terms[label=PER,case=$case]=$LEX/person.txt" \
    --source "terms[label=LOC,case=$case]=$LEX/location.txt" \
    --source "terms[label=ORG,case=$case]=$LEX/organization.txt" \
    --source "terms[label=MISC,case=$case]=$LEX/misc.txt" > /dev/null
done

# ---- BC5CDR train and dev
"${B[@]}" data convert "$P/CDR_TrainingSet.PubTator.txt" "$OUT/gold/bc5cdr_train" --format pubtator > /dev/null
"${B[@]}" data convert "$P/CDR_DevelopmentSet.PubTator.txt" "$OUT/gold/bc5cdr_dev" --format pubtator > /dev/null
for d in core core+mesh; do
  for split in train dev; do
    f=$P/CDR_TrainingSet.PubTator.txt; [[ $split == dev ]] && f=$P/CDR_DevelopmentSet.PubTator.txt
    args=("$OUT/dicts/$d.dict" "$OUT/gold/bc5cdr_$split" "$f" pubtator)
    ds="BC5CDR, $d"
    row "$ds" "baseline (dictionary only)" $split "${args[@]}" --no-abbreviations
    row "$ds" "+abbreviations (long form: exact extent)" $split "${args[@]}" --abbreviation-long-form exact
    row "$ds" "+abbreviations (long form: end, default)" $split "${args[@]}"
    row "$ds" "+abbreviations +uncertain dict (all MeSH trees)" $split "${args[@]}" --uncertain-dict "$OUT/dicts/mesh_all.dict"
    row "$ds" "+abbreviations +fuzzy (uncertain, for reference)" $split "${args[@]}" --fuzzy
    row "$ds" "+abbreviations +variants (plural, british)" $split "$OUT/dicts/${d}_variants.dict" "${args[@]:1}"
    if [[ $d == core+mesh ]]; then
      row "$ds" "+abbreviations +MeSH top-level trees" $split "$OUT/dicts/${d}_trees.dict" "${args[@]:1}"
      row "$ds" "+abbreviations +MeSH top-level trees +variants" $split "$OUT/dicts/${d}_trees_variants.dict" "${args[@]:1}"
      row "$ds" "+abbreviations +MeSH top-level trees +variants +composite mentions" $split \
        "$OUT/dicts/${d}_trees_variants.dict" "${args[@]:1}" --composite-mentions
    fi
  done
done
# Held-out concepts: label BC5CDR dev with 90% of the dictionary's concepts, with and without
# the other 10% as --heldout-dict (the dev set a model would be selected on).
"${B[@]}" dict split "$OUT/dicts/core+mesh.dict" --holdout 0.1 --seed 0 \
  --train "$OUT/dicts/core+mesh_train90.dict" --heldout "$OUT/dicts/core+mesh_held10.dict" > "$OUT/dicts/split.txt"
dev=("$OUT/gold/bc5cdr_dev" "$P/CDR_DevelopmentSet.PubTator.txt" pubtator)
row "BC5CDR dev, held-out concepts (core+mesh, 10%, seed 0)" "training part only" dev "$OUT/dicts/core+mesh_train90.dict" "${dev[@]}"
row "BC5CDR dev, held-out concepts (core+mesh, 10%, seed 0)" "training part + --heldout-dict" dev "$OUT/dicts/core+mesh_train90.dict" "${dev[@]}" \
  --heldout-dict "$OUT/dicts/core+mesh_held10.dict"

# ---- NCBI-disease train and dev, all four mention classes as Disease
MAP=(--label-map SpecificDisease=Disease --label-map DiseaseClass=Disease --label-map Modifier=Disease --label-map CompositeMention=Disease)
"${B[@]}" data convert "$NCBI/NCBItrainset_corpus.txt" "$OUT/gold/ncbi_train" --format pubtator "${MAP[@]}" > /dev/null
"${B[@]}" data convert "$NCBI/NCBIdevelopset_corpus.txt" "$OUT/gold/ncbi_dev" --format pubtator "${MAP[@]}" > /dev/null
for split in train dev; do
  f=$NCBI/NCBItrainset_corpus.txt; [[ $split == dev ]] && f=$NCBI/NCBIdevelopset_corpus.txt
  args=("$OUT/dicts/mesh_disease.dict" "$OUT/gold/ncbi_$split" "$f" pubtator)
  row "NCBI-disease, MeSH C + F03" "baseline (dictionary only)" $split "${args[@]}" --no-abbreviations
  row "NCBI-disease, MeSH C + F03" "+abbreviations" $split "${args[@]}"
  row "NCBI-disease, MeSH C + F03" "+abbreviations +uncertain dict (all MeSH trees)" $split "${args[@]}" --uncertain-dict "$OUT/dicts/mesh_all.dict"
  row "NCBI-disease, MeSH C + F03" "+abbreviations +MeSH top-level trees" $split "$OUT/dicts/mesh_disease_trees.dict" "${args[@]:1}"
  row "NCBI-disease, MeSH C + F03" "+abbreviations +variants (plural, british)" $split "$OUT/dicts/mesh_disease_variants.dict" "${args[@]:1}"
  row "NCBI-disease, MeSH C + F03" "+abbreviations +MeSH top-level trees +variants" $split "$OUT/dicts/mesh_disease_trees_variants.dict" "${args[@]:1}"
  row "NCBI-disease, MeSH C + F03" "+abbreviations +MeSH top-level trees +variants +composite mentions" $split \
    "$OUT/dicts/mesh_disease_trees_variants.dict" "${args[@]:1}" --composite-mentions
done

# ---- CoNLL-2003 eng.train and eng.testa: the gold texts as a corpus (binder data texts)
for split in train testa; do
  "${B[@]}" data convert "$DATA/conll2003/eng.$split" "$OUT/gold/conll_$split" --format conll > /dev/null
  "${B[@]}" data texts "$OUT/gold/conll_$split" "$OUT/gold/conll_$split.jsonl" > /dev/null
  c=("$OUT/gold/conll_$split" "$OUT/gold/conll_$split.jsonl" jsonl)
  ds="CoNLL-2003, LexiconNER gazetteers"
  row "$ds" "baseline (case ignore)" $split "$OUT/dicts/conll_ignore.dict" "${c[@]}" --no-abbreviations
  row "$ds" "+abbreviations" $split "$OUT/dicts/conll_ignore.dict" "${c[@]}"
  row "$ds" "+case policy (exact)" $split "$OUT/dicts/conll_exact.dict" "${c[@]}" --no-abbreviations
  row "$ds" "+case policy (exact-or-upper)" $split "$OUT/dicts/conll_exact-or-upper.dict" "${c[@]}" --no-abbreviations
  row "$ds" "+case policy +abbreviations" $split "$OUT/dicts/conll_exact-or-upper.dict" "${c[@]}"
  row "$ds" "+case policy +abbreviations +uncertain dict (gazetteers, any case)" $split \
    "$OUT/dicts/conll_exact-or-upper.dict" "${c[@]}" --uncertain-dict "$OUT/dicts/conll_ignore.dict"
  row "$ds" "+case policy +abbreviations +whole names (--name-label PER)" $split \
    "$OUT/dicts/conll_exact-or-upper.dict" "${c[@]}" --name-label PER
done
# Case policy per gazetteer: one list at a time exact-or-upper, the others folded.
for g in person location organization misc; do
  sources=()
  for l in PER:person LOC:location ORG:organization MISC:misc; do
    case=ignore; [[ ${l#*:} == "$g" ]] && case=exact-or-upper
    sources+=(--source "terms[label=${l%%:*},case=$case]=$LEX/${l#*:}.txt")
  done
  "${B[@]}" dict compile "$OUT/dicts/conll_$g-exact-or-upper.dict" "${sources[@]}" > /dev/null
  for split in train testa; do
    row "CoNLL-2003, one gazetteer exact-or-upper (no abbreviations)" "$g" $split \
      "$OUT/dicts/conll_$g-exact-or-upper.dict" "$OUT/gold/conll_$split" "$OUT/gold/conll_$split.jsonl" jsonl --no-abbreviations
  done
done

"${PY[@]}" -m benchmarks.silver_recall_table "$OUT"
cat "$OUT/dicts/split.txt"
"${PY[@]}" - "$OUT" <<'PY'
import json, sys
from pathlib import Path
for line in (Path(sys.argv[1]) / "rows.tsv").read_text().splitlines():
    dataset, row, split, run = line.split("\t")
    if "held-out" in dataset:
        c = json.loads((Path(run) / "manifest.json").read_text())["counts"]
        print(f"{row}: spans by origin {c['spans_by_origin']}")
PY
