#!/usr/bin/env bash
# scripts/demo.sh: traces the bundled example (a word-frequency counter, tests/workloads/demo.c)
# and shows what xtrace recorded: `xtrace stats`, a few `xtrace dump` lines, and the trace's path.
#   scripts/demo.sh [DEMO_BINARY]   (make demo passes build/workloads/demo and XTRACE_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."

demo=${1:-build/workloads/demo}
xtrace=${XTRACE_BIN:-bin}/xtrace
# traces go beside the build's workloads: build/traces (build-SAN/traces for a sanitizer build)
outdir=${XTRACE_DEMO_DIR:-$(dirname "$(dirname "$demo")")/traces}
mkdir -p "$outdir"
# a fresh run directory for each run: demo.<pid> (xtrace run takes an empty or new directory)
run="$outdir/demo.$$"
rm -rf "$run"

echo "== tracing: $xtrace run -o '$run' -- $demo"
"$xtrace" run -o "$run" -- "$demo"
trace=""
for f in "$run"/*.xt; do
	[[ -e "$f" ]] && trace=$f
done
if [[ -z "$trace" ]]; then
	echo "demo: no trace written in $run" >&2
	exit 1
fi

echo
echo "== xtrace stats $trace"
"$xtrace" stats "$trace"
echo
echo "== xtrace dump --stacks $trace (first 20 lines)"
# head closes the pipe early; the dump's SIGPIPE is expected there
{ "$xtrace" dump --stacks "$trace" || true; } | head -n 20
echo
echo "== the trace is $trace"
echo "   more: $xtrace dump $trace --stacks | less;  $xtrace stats $trace --json"
