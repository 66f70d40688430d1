#!/usr/bin/env bash
# Distant supervision, one configuration per call: silver labels from a dictionary, BINDER trained
# on them, scored once on gold test (model alone and hybrid). Silver data is built once per
# dictionary + silver options and reused by every training configuration.
#
#   bash benchmarks/experiments/08_distant.sh --task bc5cdr|ncbi|conll --dict NAME --name RUN
#        [--silver "SILVER BUILD OPTIONS"] [--train "BINDER TRAIN OPTIONS"] [--heldout SHARE]
#        [--broad mesh-all] [--mesh-trees] [--variants LIST] [--sources LIST] [--out DIR]
#        [--data-dir DIR]
#
# Tasks (gold is used only for the final scores and, as --monitor, to log gold *dev* F1 at every
# evaluation for the selection study; it never selects or stops a run; CoNLL has no monitor,
# since its dev split is the one reported):
#   bc5cdr  train text: 3,500 abstracts (BC5CDR train with labels stripped, PubMedQA, GENIA), BC5CDR
#           dev and test held out; dev: BC5CDR dev abstracts, silver; test: BC5CDR test gold.
#           --dict core | core+mesh
#   ncbi    train text: NCBI-disease train texts (gold stripped) + PubMedQA + GENIA abstracts;
#           dev: NCBI dev, silver; test: NCBI test gold, four mention classes -> Disease.
#           --dict mesh (the mesh preset's Disease branch)
#   conll   train text: eng.train (gold stripped); dev: eng.testa, silver by the same gazetteers;
#           the reported score is eng.testa gold (CoNLL test is not in ../shared).
#           --dict lexiconner
# --heldout SHARE: hold out that share of the dictionary's concepts (binder dict split); the train
# text is labelled without them and the dev set marks their matches (origin dict_heldout).
# --broad mesh-all: every MeSH tree as the broad lexicon (silver build --uncertain-dict): its
# matches that the typed dictionary does not cover are uncertain for every type.
# --mesh-trees: MeSH sources take the tree numbers the flat 2024 table lacks (its 112 top-level
# descriptors, e.g. C04 Neoplasms: "cancer", "tumor") from the 2017 tree table (dict compile
# --mesh-trees). --variants LIST: dict compile --variant LIST (plural, british).
# --sources LIST: the raw text of bc5cdr (benchmarks.raw_corpus sources; default
# bc5cdr-train,pubmedqa,genia,genia-test).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=../shared/data OUT=bench_out/distant TASK=bc5cdr DICT=core NAME="" SILVER="" TRAIN="" HELDOUT=""
BROAD="" MESH_TREES="" VARIANTS="" SOURCES_RAW=bc5cdr-train,pubmedqa,genia,genia-test
while [[ $# -gt 0 ]]; do
  case $1 in
    --task) TASK=$2; shift 2 ;;
    --dict) DICT=$2; shift 2 ;;
    --name) NAME=$2; shift 2 ;;
    --silver) SILVER=$2; shift 2 ;;
    --train) TRAIN=$2; shift 2 ;;
    --heldout) HELDOUT=$2; shift 2 ;;
    --broad) BROAD=$2; shift 2 ;;
    --mesh-trees) MESH_TREES=1; shift ;;
    --variants) VARIANTS=$2; shift 2 ;;
    --sources) SOURCES_RAW=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --data-dir) DATA=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -n $NAME ]] || { echo "--name is required" >&2; exit 2; }
export HF_HUB_OFFLINE=1
B=.venv/bin/binder
# A compiled dictionary this checkout can read (one written by an older artifact format is
# compiled again: same sources, same fingerprint).
readable() { [[ -f $1 ]] && .venv/bin/python -c 'import sys; from dictionaries.artifact import load_info; load_info(sys.argv[1])' "$1" 2> /dev/null; }
T=$OUT/$TASK
mkdir -p "$T"

# --- gold and raw text, once per task ---------------------------------------------------------
MONITOR=(--monitor "gold_dev=$T/gold_dev")
case $TASK in
  bc5cdr)
    P=$DATA/bc5cdr/pubtator
    TYPES=bc5cdr
    RAW=$T/raw_train.jsonl
    [[ $SOURCES_RAW == bc5cdr-train,pubmedqa,genia,genia-test ]] || RAW=$T/raw_${SOURCES_RAW//,/+}.jsonl
    [[ -f $RAW ]] || .venv/bin/python -m benchmarks.raw_corpus "$RAW" --sources "$SOURCES_RAW" \
      --data-dir "$DATA" --exclude-pubtator "$P/CDR_TestSet.PubTator.txt" \
      --exclude-pubtator "$P/CDR_DevelopmentSet.PubTator.txt"
    [[ -d $T/gold_dev ]] || $B data convert "$P/CDR_DevelopmentSet.PubTator.txt" "$T/gold_dev" --format pubtator > /dev/null
    [[ -d $T/gold_test ]] || $B data convert "$P/CDR_TestSet.PubTator.txt" "$T/gold_test" --format pubtator > /dev/null
    DEV_TEXT=("$P/CDR_DevelopmentSet.PubTator.txt" --format pubtator)
    TEST_TEXT=("$P/CDR_TestSet.PubTator.txt" --format pubtator)
    TRAIN_TEXT=("$RAW" --format jsonl)
    case $DICT in
      core) SOURCES=(--source "autoner=$DATA/bc5cdr/autoner/dict_core.txt") ;;
      core+mesh) SOURCES=(--source "autoner=$DATA/bc5cdr/autoner/dict_core.txt"
                          --source "mesh=$DATA/dictionaries/mesh2024_flat/mesh2024_terms.tsv.gz") ;;
      *) echo "bc5cdr: --dict core or core+mesh" >&2; exit 2 ;;
    esac ;;
  ncbi)
    N=$DATA/ncbi_disease/original
    TYPES=ncbi_disease
    MAP=(--label-map SpecificDisease=Disease --label-map DiseaseClass=Disease
         --label-map Modifier=Disease --label-map CompositeMention=Disease)
    for part in train:NCBItrainset_corpus.txt dev:NCBIdevelopset_corpus.txt test:NCBItestset_corpus.txt; do
      [[ -d $T/gold_${part%%:*} ]] || $B data convert "$N/${part#*:}" "$T/gold_${part%%:*}" --format pubtator "${MAP[@]}" > /dev/null
    done
    [[ -f $T/raw_train.jsonl ]] || {
      .venv/bin/python -m benchmarks.raw_corpus "$T/raw_other.jsonl" --data-dir "$DATA" \
        --sources pubmedqa,genia,genia-test --exclude-pubtator "$N/NCBItestset_corpus.txt" \
        --exclude-pubtator "$N/NCBIdevelopset_corpus.txt"
      $B data texts "$T/gold_train" "$T/raw_ncbi.jsonl" > /dev/null
      cat "$T/raw_ncbi.jsonl" "$T/raw_other.jsonl" > "$T/raw_train.jsonl"; }
    DEV_TEXT=("$N/NCBIdevelopset_corpus.txt" --format pubtator)
    TEST_TEXT=("$N/NCBItestset_corpus.txt" --format pubtator)
    TRAIN_TEXT=("$T/raw_train.jsonl" --format jsonl)
    [[ $DICT == mesh ]] || { echo "ncbi: --dict mesh" >&2; exit 2; }
    SOURCES=(--source "mesh=$DATA/dictionaries/mesh2024_flat/mesh2024_terms.tsv.gz"
             --mesh-branches C=Disease,F03=Disease) ;;
  conll)
    C=$DATA/conll2003
    L=$DATA/dictionaries/conll2003_lexiconner
    TYPES=conll2003
    [[ -d $T/gold_train ]] || $B data convert "$C/eng.train" "$T/gold_train" --format conll > /dev/null
    [[ -d $T/gold_dev ]] || $B data convert "$C/eng.testa" "$T/gold_dev" --format conll > /dev/null
    [[ -f $T/raw_train.jsonl ]] || $B data texts "$T/gold_train" "$T/raw_train.jsonl" > /dev/null
    [[ -f $T/raw_dev.jsonl ]] || $B data texts "$T/gold_dev" "$T/raw_dev.jsonl" > /dev/null
    ln -sfn gold_dev "$T/gold_test"  # the reported score is eng.testa gold (no test split here)
    MONITOR=()
    DEV_TEXT=("$T/raw_dev.jsonl" --format jsonl)
    TEST_TEXT=("$T/raw_dev.jsonl" --format jsonl)
    TRAIN_TEXT=("$T/raw_train.jsonl" --format jsonl)
    [[ $DICT == lexiconner ]] || { echo "conll: --dict lexiconner" >&2; exit 2; }
    SOURCES=()
    for pair in PER:person LOC:location ORG:organization MISC:misc; do
      SOURCES+=(--source "terms[label=${pair%%:*},case=exact-or-upper]=$L/${pair#*:}.txt")
    done ;;
  *) echo "unknown --task $TASK" >&2; exit 2 ;;
esac

# --- dictionary and silver labels, once per (dictionary, silver options, held-out share) -------
case $BROAD in
  "") ;;
  mesh-all)
    ALL=A=Term,B=Term,C=Term,D=Term,E=Term,F=Term,G=Term,H=Term,I=Term,J=Term,K=Term,L=Term,M=Term,N=Term,V=Term,Z=Term
    readable "$OUT/mesh_all.dict" || $B dict compile "$OUT/mesh_all.dict" \
      --source "mesh=$DATA/dictionaries/mesh2024_flat/mesh2024_terms.tsv.gz" --mesh-branches "$ALL" > /dev/null
    SILVER="$SILVER --uncertain-dict $OUT/mesh_all.dict" ;;
  *) echo "unknown --broad $BROAD (mesh-all)" >&2; exit 2 ;;
esac
COMPILE=()
[[ -z $MESH_TREES ]] || COMPILE+=(--mesh-trees "$DATA/dictionaries/mesh2017_tree/2017MeshTree.txt")
[[ -z $VARIANTS ]] || COMPILE+=(--variant "$VARIANTS")
KEYTEXT=$(printf '%s|%s|%s' "$DICT" "$SILVER" "$HELDOUT")
# (the key of a run without the compile options is what it was before they existed)
[[ ${#COMPILE[@]} -eq 0 ]] || KEYTEXT="$KEYTEXT|trees=$MESH_TREES|variants=$VARIANTS"
[[ $TASK != bc5cdr || $SOURCES_RAW == bc5cdr-train,pubmedqa,genia,genia-test ]] || KEYTEXT="$KEYTEXT|$SOURCES_RAW"
SKEY=$(printf '%s' "$KEYTEXT" | sha1sum | cut -c1-8)
S=$T/silver_${DICT}_$SKEY
mkdir -p "$S"
printf 'dict=%s silver=%s heldout=%s sources=%s compile=%s\n' "$DICT" "$SILVER" "$HELDOUT" "$SOURCES_RAW" \
  "${COMPILE[*]}" > "$S/what.txt"
readable "$S/dictionary.dict" || $B dict compile "$S/dictionary.dict" "${SOURCES[@]}" "${COMPILE[@]}" > /dev/null
TRAIN_DICT=$S/dictionary.dict HELD=()
if [[ -n $HELDOUT ]]; then
  readable "$S/train.dict" && readable "$S/heldout.dict" || $B dict split "$S/dictionary.dict" --holdout "$HELDOUT" --seed 0 \
    --train "$S/train.dict" --heldout "$S/heldout.dict" > /dev/null
  TRAIN_DICT=$S/train.dict HELD=(--heldout-dict "$S/heldout.dict")
fi
# shellcheck disable=SC2086
[[ -d $S/silver_train ]] || $B silver build "${TRAIN_TEXT[@]}" --dict "$TRAIN_DICT" --out "$S/silver_train" $SILVER > /dev/null
# shellcheck disable=SC2086
[[ -d $S/silver_dev ]] || $B silver build "${DEV_TEXT[@]}" --dict "$TRAIN_DICT" "${HELD[@]}" --out "$S/silver_dev" $SILVER > /dev/null
# shellcheck disable=SC2086
[[ -d $S/silver_test ]] || $B silver build "${TEST_TEXT[@]}" --dict "$S/dictionary.dict" --out "$S/silver_test" $SILVER > /dev/null
[[ -f $S/dictionary_test.json ]] || $B silver eval "$S/silver_test" "$T/gold_test" --json --uncertain exclude > "$S/dictionary_test.json"
[[ -f $S/silver_stats.json ]] || $B silver stats "$S/silver_train" --json > "$S/silver_stats.json"

# --- train, then score once on gold test --------------------------------------------------------
R=$S/$NAME
rm -rf "$R"
# shellcheck disable=SC2086
$B train --train "$S/silver_train" --dev "$S/silver_dev" --out "$R" --types "$TYPES" \
  "${MONITOR[@]}" $TRAIN
$B evaluate "$R" "$T/gold_test" --json > "$R/model_test.json"
$B evaluate "$R" "$T/gold_test" --json --dictionary "$S/dictionary.dict" > "$R/hybrid_test.json"
.venv/bin/python -m benchmarks.results_row "$TASK/$DICT/$NAME" "$R" "$R/model_test.json" \
  --dictionary "$S/dictionary_test.json" --hybrid "$R/hybrid_test.json" | tee -a "$OUT/results.tsv"
