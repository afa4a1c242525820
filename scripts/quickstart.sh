#!/usr/bin/env bash
# Quick start: install flowsim into .venv, run the baseline scenario, draw a figure.
# Run from anywhere: bash scripts/quickstart.sh   (about a minute the first time, for the install)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    "$PYTHON" -m venv .venv
fi
echo "== installing flowsim into .venv"
.venv/bin/python -m pip install --quiet -e '.[dashboard]'

out="results/quickstart-$(date -u +%Y%m%dT%H%M%SZ)"
echo "== flowsim run scenarios/baseline.yaml (10 years, 1 agent per 10 real ones, 2 replicates)"
.venv/bin/flowsim run scenarios/baseline.yaml --replications 2 --out "$out"

echo "== flowsim plot $out"
MPLBACKEND="${MPLBACKEND:-Agg}" .venv/bin/flowsim plot "$out"
echo
echo "Done. Results are in $out, figures in $out/figures (see README.md, 'Output files')."
echo "Next: copy a file from scenarios/, change a lever, and 'flowsim run' it."
echo "Or move the levers in the browser: .venv/bin/flowsim dashboard scenarios/baseline.yaml"
