#!/usr/bin/env bash
# scripts/sanitize.sh: the sanitizer part of `make test` (`make sanitize`).
#   asan:  the reader library, the CLI and the unit tests built with ASan+UBSan; the unit tests
#          (fuzz corpus and regressions included) run, then the integration tests with the ASan
#          CLI reading every trace they make (the shim and workloads are the normal build's).
#   ubsan: the shim and the CLI built with UBSan; the integration tests on faults, processes,
#          signals, threads, frees and allocations by reference, descriptors and raw clones, and
#          the address space and heaps run with the UBSan shim preloaded into the normal workloads.
#   asan shim: the shim built with ASan+UBSan, preloaded into the normal workloads, on the
#          tests of exact counts, references, threads, stacks (300 frames deep too: UBSan checks
#          the unwinder's indices into its memo), truncation, timers, descriptors and raw clones,
#          and the address space and heaps.
#          Until its constructor runs (after the ASan runtime's), the shim only passes calls
#          through (see the Makefile and shim/lifecycle.h), so allocations made that early are
#          not traced: the dlopen tests, whose frees of such blocks would be unknown, are left
#          to the other runs.
#   tsan shim: the shim built with TSan, preloaded into TSan-built workloads (TSan needs the
#          program instrumented), on the multithreaded tests (producer/consumer with address
#          reuse, threads exiting early and starting late, many threads, a handler leaving
#          the shim by siglongjmp, threads whose first calls come from pthread_getattr_np).
#          Any race report fails the run.
# The shim runs set XTRACE_TEST_SANITIZED to the sanitizer's name: test_threads then runs
# fewer threads and bounds no memory (the sanitizer's runtime has its own).
set -uo pipefail
status=0
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
# A sanitizer runtime that catches SIGSEGV or SIGABRT itself replaces the shim's handler (it
# installs its own with a raw syscall) and the crash tests would lose their trace to it.
# Each stage's summary: its counts, and the whole output of every test binary that failed, by
# the names run-tests.sh lists (what a failing command printed on stderr is there too, not only
# the assertion's line).
summary() {
	awk '/^=== binaries/ { tail = 1 }
		tail && /^    FAILED: / {
			print
			bin = $2
			printf "%s", out[bin]
			next
		}
		tail { print; next }
		/^=== / { bin = $2 }
		{ out[bin] = out[bin] $0 "\n" }'
}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:handle_segv=0:handle_abort=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0
make --no-print-directory SAN=asan all build-asan/tests/unit/test_fuzz_regressions >/dev/null || exit 1
unit=$(cd tests/unit && ls test_*.c | sed 's|^\(.*\)\.c$|build-asan/tests/unit/\1|')
# shellcheck disable=SC2086
make --no-print-directory SAN=asan $unit >/dev/null || exit 1
echo "=== sanitize: asan unit tests"
# shellcheck disable=SC2086
scripts/run-tests.sh $unit | summary || status=1
echo "=== sanitize: integration tests, traces read by the asan CLI"
# Leaks are the unit tests' to find: LeakSanitizer cannot run under strace (test_untrusted).
# test_every_api, test_analysis and test_rundir are left out: `xtrace run` of bin-asan preloads lib-asan's
# shim (see above); test_memory_bound too: its address-space limit
# leaves no room for ASan's shadow memory; and test_bench, whose few small traces add nothing
# to what the other tests read.
ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 XTRACE_BUILD=build XTRACE_LIB=lib \
	XTRACE_BIN=bin-asan scripts/run-tests.sh $(ls build/tests/integration/test_* |
	grep -v -e test_every_api -e test_analysis -e test_rundir -e test_memory_bound -e test_bench) |
	summary || status=1
echo "=== sanitize: ubsan shim and CLI"
# The workloads stay uninstrumented: a UBSan workload would stop at its own deliberate faults
# (exit_paths segv) before the shim sees them.
make --no-print-directory SAN=ubsan all >/dev/null || exit 1
XTRACE_TEST_SANITIZED=ubsan XTRACE_BUILD=build XTRACE_LIB=lib-ubsan XTRACE_BIN=bin-ubsan \
	scripts/run-tests.sh \
	$(for t in test_faults test_process test_signals test_threads test_every_api test_recent \
		test_truncated test_untrusted test_fds test_runtime_exp test_addrspace test_heaps \
		test_control; do
		echo build/tests/integration/$t; done) | summary || status=1
echo "=== sanitize: asan shim"
# The shim comes before the ASan runtime in the preload order (it must, to interpose malloc);
# ASan's own fatal-signal handlers would replace the shim's.
ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0:allocator_may_return_null=1:handle_segv=0:handle_abort=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0 \
	XTRACE_TEST_SANITIZED=asan XTRACE_BUILD=build XTRACE_LIB=lib-asan XTRACE_BIN=bin \
	scripts/run-tests.sh \
	$(for t in test_every_api test_recent test_threads test_stacks test_truncated test_timers \
		test_fds test_runtime_exp test_addrspace test_heaps; do
		echo build/tests/integration/$t; done) | summary || status=1
echo "=== sanitize: tsan shim"
make --no-print-directory SAN=tsan lib-tsan/libxtrace.so build-tsan/workloads/prodcons \
	build-tsan/workloads/threads build-tsan/workloads/manythreads build-tsan/workloads/forkwait \
	build-tsan/workloads/sigjump build-tsan/workloads/runtime_exp build-tsan/workloads/stackquery \
	>/dev/null || exit 1
XTRACE_TEST_SANITIZED=tsan XTRACE_BUILD=build-tsan XTRACE_LIB=lib-tsan XTRACE_BIN=bin \
	scripts/run-tests.sh \
	build/tests/integration/test_threads build/tests/integration/test_runtime_exp |
	summary || status=1
exit $status
