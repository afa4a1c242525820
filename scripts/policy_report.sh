#!/usr/bin/env bash
# Measure the README's policy table and docs/explain.md on the current defaults:
# every scenario in scenarios/ (besides the baseline) against the baseline, REPS replicates
# with common seeds at SCALE (default: the scenarios' own scale, 0.1), then
# `flowsim explain` on each, JOBS at a time.
#
#   bash scripts/policy_report.sh                 # 8 replicates, 2 jobs, into results/policy
#   REPS=3 SCALE=0.02 OUT=results/try bash scripts/policy_report.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-8}
JOBS=${JOBS:-2}
OUT=${OUT:-results/policy}
PY=${PY:-.venv/bin/python}
FLOWSIM=${FLOWSIM:-.venv/bin/flowsim}
scale_args=()
if [[ -n "${SCALE:-}" ]]; then scale_args=(--scale "$SCALE"); fi
rm -rf "$OUT/explain"  # flowsim explain refuses a folder that is not empty
mkdir -p "$OUT/runs" "$OUT/explain"
scenarios=(scenarios/*.yaml)
printf '%s\n' "${scenarios[@]}" | xargs -P "$JOBS" -I{} sh -c \
  'name=$(basename {} .yaml); "$0" run {} --replications "$1" --quiet --force --out "$2/runs/$name" $3' \
  "$FLOWSIM" "$REPS" "$OUT" "${scale_args[*]:-}"
"$PY" scripts/policy_table.py "$OUT/runs/baseline" "$OUT"/runs/* | tee "$OUT/policy_table.md"
ls -d "$OUT"/runs/* | grep -v '/baseline$' | xargs -P "$JOBS" -I{} sh -c \
  'name=$(basename {}); "$0" explain {} "$1/runs/baseline" --out "$1/explain/$name" > "$1/explain/$name.txt"' \
  "$FLOWSIM" "$OUT"
note="scale ${SCALE:-0.1}, $REPS replicates with common seeds, 120 months"
"$PY" scripts/explain_table.py "$OUT"/explain/*/ --out "${EXPLAIN_MD:-docs/explain.md}" --note "$note"
