/* test_syscalls.c: the shim makes only the system calls glibc's functions make (README,
 * "System calls the shim makes"), so a seccomp policy written for the program holds for the
 * traced program too (workload tests/workloads/syscall_policy.c: a filter that kills the
 * process on the calls glibc has replaced by newer ones, nanosleep among them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

/* The program and its preloaded shim run under the policy (the generation thread sleeping
 * between generations, a second thread, the exit), as the untraced program does. */
static void test_seccomp_policy(void **state)
{
	char *const argv[] = {(char *)h_workload("syscall_policy"), NULL};
	const char *const extra[] = {"XTRACE_GEN_MS=20", NULL};
	struct h_run plain, r;
	h_plain(&plain, argv);
	h_expect_exit(&plain, 0);
	h_traced(&r, extra, argv);
	h_same_as_untraced(&r, &plain, "syscall_policy");
	/* the launcher's image and the one it execs under the filter */
	assert_int_equal(h_find_traces(r.dir, NULL, 0), 2);
	char work[PATH_MAX];
	h_fmt(work, sizeof work, "%s/t.%d.1.xt", r.dir, (int)r.pid);
	struct h_summary s = {.focus = "syscall_policy"};
	h_summarize_clean(work, &s);
	assert_int_equal(s.my_allocs, 10);
	assert_int_equal(s.my_frees, 10);
	h_validate(work);
	h_run_free(&plain);
	h_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seccomp_policy),
	};
	return h_finish(cmocka_run_group_tests_name("syscalls", tests, NULL, NULL));
}
