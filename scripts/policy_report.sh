#!/usr/bin/env bash
# Measure the README's policy table and docs/explain.md on the current defaults:
# every scenario in scenarios/ (besides the baseline) against the baseline, REPS replicates
# with common seeds at SCALE (default: the scenarios' own scale, 0.1), then
# `flowsim explain` on each, one after another, each on JOBS worker processes.
#
#   bash scripts/policy_report.sh                 # 8 replicates, 2 jobs, into results/policy
#   REPS=3 SCALE=0.02 OUT=results/try bash scripts/policy_report.sh
#   EXPLAIN_ARGS="--method sampled --permutations 6" bash scripts/policy_report.sh
#
# explain's cost: 2^k + 1 runs per replicate for a policy that touches k channels (exact
# Shapley values); each explain prints its number of runs and a time estimate first
# (in "$OUT/explain/<name>.log"). EXPLAIN_ARGS is passed to every explain.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-8}
JOBS=${JOBS:-2}
OUT=${OUT:-results/policy}
PY=${PY:-.venv/bin/python}
FLOWSIM=${FLOWSIM:-.venv/bin/flowsim}
EXPLAIN_ARGS=${EXPLAIN_ARGS:-}
scale_args=()
if [[ -n "${SCALE:-}" ]]; then scale_args=(--scale "$SCALE"); fi
rm -rf "$OUT/explain"  # flowsim explain refuses a folder that is not empty
mkdir -p "$OUT/runs" "$OUT/explain"
scenarios=(scenarios/*.yaml)
printf '%s\n' "${scenarios[@]}" | xargs -P "$JOBS" -I{} sh -c \
  'name=$(basename {} .yaml); "$0" run {} --replications "$1" --quiet --force --out "$2/runs/$name" $3' \
  "$FLOWSIM" "$REPS" "$OUT" "${scale_args[*]:-}"
"$PY" scripts/policy_table.py "$OUT/runs/baseline" "$OUT"/runs/* | tee "$OUT/policy_table.md"
for run in "$OUT"/runs/*; do
  name=$(basename "$run")
  [[ "$name" == baseline ]] && continue
  # shellcheck disable=SC2086  # EXPLAIN_ARGS holds several words on purpose
  "$FLOWSIM" explain "$run" "$OUT/runs/baseline" --out "$OUT/explain/$name" \
    --workers "$JOBS" --quiet $EXPLAIN_ARGS > "$OUT/explain/$name.txt" 2> "$OUT/explain/$name.log"
  tail -n 1 "$OUT/explain/$name.txt"
done
method="exact Shapley values"
if [[ "$EXPLAIN_ARGS" == *sampled* ]]; then method="Shapley values from sampled orders ($EXPLAIN_ARGS)"; fi
note="scale ${SCALE:-0.1}, $REPS replicates with common seeds, 120 months, $method"
"$PY" scripts/explain_table.py "$OUT"/explain/*/ --out "${EXPLAIN_MD:-docs/explain.md}" --note "$note"
