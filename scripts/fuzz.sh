#!/usr/bin/env bash
# scripts/fuzz.sh: runs libFuzzer targets side by side (`make fuzz`, `make fuzz-ci`). Each
# target starts from tests/fuzz/corpus and tests/fuzz/regressions. Any crash, leak, timeout or
# oversized allocation fails the run and is left as build-fuzz/crash-NAME-*; once fixed it
# belongs in tests/fuzz/regressions/.
#   scripts/fuzz.sh time SECONDS TARGET...   explore: random seed, for SECONDS each; what it
#                                            finds is kept in build-fuzz/corpus-NAME for the next run
#   scripts/fuzz.sh runs N TARGET...         check: seed 1, N inputs each, from an empty scratch
#                                            corpus, so the same tree always runs the same inputs
# A check that passed once passes again on the same tree: a gate must not turn red because a
# random run happened on a new input. Finding new inputs is the exploring run's job.
# Limits: inputs up to 64 KiB; one allocation over 64 MiB is a finding (a claimed length or
# count driving an allocation the input cannot back), as is an input taking over 10 s.
set -uo pipefail
mode=$1
budget=$2
shift 2
case $mode in
time) limit=(-max_total_time="$budget") ;;
runs) limit=(-runs="$budget" -seed=1) ;;
*)
	echo "usage: scripts/fuzz.sh time SECONDS|runs N TARGET..." >&2
	exit 2
	;;
esac
dir=build-fuzz
pids=()
names=()
for bin in "$@"; do
	name=$(basename "$bin")
	corpus=$dir/corpus-$name
	if [[ $mode == runs ]]; then
		corpus=$dir/check-corpus-$name
		rm -rf "$corpus"
	fi
	mkdir -p "$corpus"
	# -close_fd_mask=2: the CLI's messages about corrupt input would drown the fuzzer's own
	# report, which libFuzzer and the sanitizers still write to a copy of stderr.
	"$bin" "${limit[@]}" -max_len=65536 -malloc_limit_mb=64 -rss_limit_mb=2048 \
		-timeout=10 -close_fd_mask=2 -print_final_stats=1 \
		-artifact_prefix="$dir/crash-$name-" \
		"$corpus" tests/fuzz/corpus tests/fuzz/regressions >"$dir/$name.log" 2>&1 &
	pids+=($!)
	names+=("$name")
done
status=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}"
	rc=$?
	name=${names[$i]}
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$name.log")
	echo "fuzz: $name: ${runs:-0} inputs ($mode $budget), exit $rc"
	if [[ $rc -ne 0 ]]; then
		status=1
		tail -40 "$dir/$name.log"
		ls "$dir"/crash-"$name"-* 2>/dev/null
	fi
done
exit $status
