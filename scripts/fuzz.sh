#!/usr/bin/env bash
# scripts/fuzz.sh: runs libFuzzer targets side by side for a bounded time (`make fuzz`,
# `make fuzz-ci`). Each target starts from tests/fuzz/corpus and tests/fuzz/regressions and
# keeps what it finds in build-fuzz/corpus-NAME (never in tests/: the committed corpus stays a
# few small files). Any crash, leak, timeout or oversized allocation fails the run and is left
# as build-fuzz/crash-NAME-*; once fixed it belongs in tests/fuzz/regressions/.
#   scripts/fuzz.sh SECONDS TARGET...
# Limits: inputs up to 64 KiB; one allocation over 64 MiB is a finding (a claimed length or
# count driving an allocation the input cannot back), as is an input taking over 10 s.
set -uo pipefail
seconds=$1
shift
dir=build-fuzz
pids=()
names=()
for bin in "$@"; do
	name=$(basename "$bin")
	mkdir -p "$dir/corpus-$name"
	# -close_fd_mask=2: the CLI's messages about corrupt input would drown the fuzzer's own
	# report, which libFuzzer and the sanitizers still write to a copy of stderr.
	"$bin" -max_total_time="$seconds" -max_len=65536 -malloc_limit_mb=64 -rss_limit_mb=2048 \
		-timeout=10 -close_fd_mask=2 -print_final_stats=1 \
		-artifact_prefix="$dir/crash-$name-" \
		"$dir/corpus-$name" tests/fuzz/corpus tests/fuzz/regressions >"$dir/$name.log" 2>&1 &
	pids+=($!)
	names+=("$name")
done
status=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}"
	rc=$?
	name=${names[$i]}
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$name.log")
	echo "fuzz: $name: ${runs:-0} inputs in ${seconds}s, exit $rc"
	if [[ $rc -ne 0 ]]; then
		status=1
		tail -40 "$dir/$name.log"
		ls "$dir"/crash-"$name"-* 2>/dev/null
	fi
done
exit $status
