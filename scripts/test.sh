#!/usr/bin/env bash
# Set up (if needed) and run the checks: lint, types, then the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check .
.venv/bin/mypy dictionaries pipelines binder_core cli benchmarks
.venv/bin/python -m pytest -q "$@"
