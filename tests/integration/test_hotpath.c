/* test_hotpath.c: what the shim costs a process while it records, and what its fast paths
 * must still get right. Counted, never timed: the page faults a busy program takes beyond its
 * untraced run; the memos a busy thread uses, forgotten where their table is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "harness.h"

/* Under a sanitizer the shim's memory is the sanitizer's as much as its own. */
static bool sanitized(void)
{
	const char *s = getenv("XTRACE_TEST_SANITIZED");
	return s && *s;
}

/* huge_pages_off: the kernel gives no process transparent huge pages. */
static bool huge_pages_off(void)
{
	char *s = h_read_file("/sys/kernel/mm/transparent_hugepage/enabled", NULL);
	bool off = !s || strstr(s, "[never]");
	free(s);
	return off;
}

/* children_faults is the minor page faults of every child waited for so far. */
static long children_faults(void)
{
	struct rusage ru;
	assert_int_equal(getrusage(RUSAGE_CHILDREN, &ru), 0);
	return ru.ru_minflt;
}

/* A generation's batches are gathered in memory before they are written: a busy thread that
 * fills megabytes of them takes far fewer page faults than one for each 4 KiB page of events
 * (huge pages past the first few hundred KiB). 2 million events, written plain so that the
 * file's size is what was gathered. */
static void test_busy_thread_faults_few_pages(void **state)
{
	(void)state;
	if (sanitized() || huge_pages_off())
		skip();
	char mtloop[PATH_MAX];
	h_fmt(mtloop, sizeof mtloop, "%s/bench/mtloop", h_build_dir());
	char *const argv[] = {mtloop, "1", "1000000", NULL};
	struct h_run u, r;
	long before = children_faults();
	h_plain(&u, argv);
	long untraced = children_faults() - before;
	h_expect_exit(&u, 0);
	before = children_faults();
	h_traced(&r, (const char *const[]){"XTRACE_COMPRESS=0", NULL}, argv);
	long traced = children_faults() - before;
	h_expect_exit(&r, 0);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	struct stat st;
	assert_int_equal(stat(trace, &st), 0);
	long pages = (long)(st.st_size / 4096);
	if (traced - untraced >= pages)
		fail_msg("%ld page faults traced, %ld untraced, for %ld pages of trace", traced,
			 untraced, pages);
	h_run_free(&u);
	h_run_free(&r);
}

/* A busy thread looks its malloc sizes up in a memo of its own; its fork child's trace starts
 * with empty tables, and names every type it uses from them. */
static void test_fork_child_of_a_busy_thread_names_its_types(void **state)
{
	(void)state;
	struct h_run r;
	h_traced(&r, NULL, H_ARGV((char *)h_workload("busyfork")));
	h_expect_exit(&r, 0);
	uint64_t child = h_out_u64(r.out, "child ", "pid");
	char paths[4][PATH_MAX];
	assert_int_equal(h_find_traces(r.dir, paths, 4), 2);
	for (int i = 0; i < 2; i++) {
		static struct h_summary s;
		memset(&s, 0, sizeof s);
		h_summarize_clean(paths[i], &s);
		if (s.pid == child)
			assert_int_equal(s.allocs, 10);
		h_validate(paths[i]);
	}
	h_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_busy_thread_faults_few_pages),
		cmocka_unit_test(test_fork_child_of_a_busy_thread_names_its_types),
	};
	return h_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
