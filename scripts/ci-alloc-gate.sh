#!/usr/bin/env bash
# scripts/ci-alloc-gate.sh: a CI step that fails the build when allocations regress: traces
# the baseline and the candidate program (median of N runs each) and exits 4 when the
# candidate's allocations or allocated bytes are more than PCT percent above the baseline's.
#   scripts/ci-alloc-gate.sh BASELINE_CMD CANDIDATE_CMD [PCT=5] [N=3]
# Each command is one string, split by the shell: 'build/old/server --selftest'.
set -euo pipefail
if [[ $# -lt 2 ]]; then
	echo "usage: $0 BASELINE_CMD CANDIDATE_CMD [PCT] [N]" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
read -r -a base <<<"$1"
read -r -a cand <<<"$2"
exec python3 "$here/xtrace-compare" -n "${4:-3}" --fail-above "${3:-5}" -- "${base[@]}" --vs "${cand[@]}"
