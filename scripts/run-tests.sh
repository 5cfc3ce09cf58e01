#!/usr/bin/env bash
# scripts/run-tests.sh: runs test binaries (cmocka, Python unittest scripts, or plain), prints
# their output, and ends with one line "N passed, M failed" counting test cases. Exits non-zero
# if any case or binary failed.
#   scripts/run-tests.sh BIN...          XTRACE_TEST_TIMEOUT=seconds per binary (default 300)
#   scripts/run-tests.sh --total FILE    sums the counts earlier runs appended to FILE (they do
#                                        when XTRACE_TALLY names it) into one closing line
# A binary that hangs is killed by the timeout so CI fails instead of waiting forever; a binary
# that crashes or exits non-zero without a cmocka summary counts as one failed case.
set -uo pipefail

if [[ ${1:-} == --total ]]; then
	awk '{p += $1; f += $2} END {print "all test runs: " p " passed, " f " failed"; exit f > 0}' "$2"
	exit
fi

timeout_s=${XTRACE_TEST_TIMEOUT:-300}
passed=0
failed=0
bins_ok=0
bins_failed=()
log=$(mktemp "${TMPDIR:-/tmp}/run-tests.XXXXXX")
trap 'rm -f "$log"' EXIT

for bin in "$@"; do
	echo "=== $bin"
	if [[ ! -x "$bin" ]]; then
		echo "run-tests: $bin: not an executable" >&2
		failed=$((failed + 1))
		bins_failed+=("$bin (missing)")
		continue
	fi
	# stdbuf is not needed: cmocka writes its summary with printf and flushes at exit; stderr
	# joins stdout so a failing assertion's message stays next to its test name.
	timeout -k 10 "$timeout_s" "$bin" >"$log" 2>&1 </dev/null
	rc=$?
	cat "$log"
	# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:" once per
	# group; sum them over all groups of the binary.
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s), listed below.*/\1/p' "$log" |
		awk '{s += $1} END {print s + 0}')
	groups=$(grep -c '^\[==========\] .* test(s) run\.' "$log")
	# Python's unittest ends with "Ran N tests in ..." and "OK" or "FAILED (failures=F, errors=E)";
	# skipped tests count as neither.
	ran=$(sed -n 's/^Ran \([0-9][0-9]*\) tests\{0,1\} in .*/\1/p' "$log" | tail -1)
	if [[ -n $ran ]]; then
		counts=$(sed -n 's/^\(OK\|FAILED\) (\(.*\))$/\2/p' "$log" | tail -1)
		f=$(grep -o '\(failures\|errors\|unexpected successes\)=[0-9]*' <<<"$counts" | cut -d= -f2 |
			awk '{s += $1} END {print s + 0}')
		skipped=$(grep -o 'skipped=[0-9]*' <<<"$counts" | cut -d= -f2 | awk '{s += $1} END {print s + 0}')
		p=$((ran - f - skipped))
		groups=1
	fi
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		# crashed, hung or failed outside any test case: the summary does not say so
		f=1
	fi
	if [[ $groups -eq 0 && $rc -eq 0 ]]; then
		p=1 # a plain (non-cmocka) test binary that passed
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [[ $rc -eq 0 && $f -eq 0 ]]; then
		bins_ok=$((bins_ok + 1))
	else
		case $rc in
		124 | 137) why="timed out after ${timeout_s}s" ;;
		*) if [[ $rc -gt 128 ]]; then why="killed by signal $((rc - 128))"; else why="exit $rc"; fi ;;
		esac
		bins_failed+=("$bin ($why)")
	fi
done

echo "=== binaries: $bins_ok passed, ${#bins_failed[@]} failed"
for b in "${bins_failed[@]+"${bins_failed[@]}"}"; do
	echo "    FAILED: $b"
done
echo "$passed passed, $failed failed"
if [[ -n ${XTRACE_TALLY:-} ]]; then
	echo "$passed $failed" >>"$XTRACE_TALLY"
fi
[[ $failed -eq 0 && ${#bins_failed[@]} -eq 0 ]]
