/* test_fds.c: integration tests on what the shim keeps out of the program's way: its trace
 * descriptor, which a program may close (close, close_range, closefrom, or the system call
 * past libc) or duplicate onto (dup2, dup3, F_DUPFD, or the system call), and children made
 * without fork handlers (the fork, clone and clone3 system calls), which must never write into
 * their parent's trace. Each workload runs untraced and traced: output, data file and exit
 * status must be the same, and each trace complete, with exactly its process's allocations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

/* fds's allocations in every mode that allocates (tests/workloads/fds.c) */
#define FDS_ALLOCS (100 + 20 * 1000)

/* same_output compares two outputs but for lines beginning "pids ", which differ by run. */
static bool same_output(const char *a, const char *b)
{
	for (;;) {
		while (!strncmp(a, "pids ", 5))
			a = strchr(a, '\n') ? strchr(a, '\n') + 1 : a + strlen(a);
		while (!strncmp(b, "pids ", 5))
			b = strchr(b, '\n') ? strchr(b, '\n') + 1 : b + strlen(b);
		if (!*a || !*b)
			return !*a && !*b;
		size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
		if (la != lb || strncmp(a, b, la))
			return false;
		a += la + (a[la] == '\n');
		b += lb + (b[lb] == '\n');
	}
}

struct both {
	struct h_run plain, traced;
	char *plain_data, *traced_data; /* DATAFILE's bytes after each run (NULL: none made) */
};

/* run_both runs workload with argv[1..] untraced and traced (XTRACE_GEN_MS=20, so generations
 * are written while it runs); "DATA" in argv stands for a file in the run's directory. It
 * asserts the two runs printed the same (but for process IDs), left the same data file and ended the same way, and
 * that the traced one said nothing on stderr. */
static void run_both(struct both *b, const char *workload, const char *const args[])
{
	static const char *const extra[] = { "XTRACE_GEN_MS=20", NULL };
	for (int traced = 0; traced < 2; traced++) {
		const char *dir = h_tmpdir();
		char data[PATH_MAX];
		h_fmt(data, sizeof data, "%s/data", dir);
		char *argv[16];
		size_t n = 0;
		argv[n++] = (char *)h_workload(workload);
		for (size_t i = 0; args[i] && n < 15; i++)
			argv[n++] = !strcmp(args[i], "DATA") ? data : (char *)args[i];
		argv[n] = NULL;
		struct h_run *r = traced ? &b->traced : &b->plain;
		if (h_spawn(r, dir, argv, traced ? h_trace_env(dir, extra) : NULL) != 0)
			fail_msg("cannot run %s", argv[0]);
		char *bytes = h_track(h_read_file(data, NULL));
		if (traced)
			b->traced_data = bytes;
		else
			b->plain_data = bytes;
	}
	if (b->traced.status != b->plain.status)
		fail_msg("%s %s: wait status 0x%x traced, 0x%x untraced; stderr: %s", workload, args[0],
			 b->traced.status, b->plain.status, b->traced.err);
	if (!same_output(b->traced.out, b->plain.out))
		fail_msg("%s %s: traced output\n%s\ndiffers from untraced\n%s", workload, args[0],
			 b->traced.out, b->plain.out);
	if (b->traced.err_len)
		fail_msg("%s %s: traced run said on stderr: %s", workload, args[0], b->traced.err);
	if (!b->plain_data != !b->traced_data ||
	    (b->plain_data && strcmp(b->plain_data, b->traced_data)))
		fail_msg("%s %s: data file traced '%.64s' (%zu bytes), untraced '%.64s'", workload,
			 args[0], b->traced_data ? b->traced_data : "(none)",
			 b->traced_data ? strlen(b->traced_data) : 0,
			 b->plain_data ? b->plain_data : "(none)");
}

static void both_free(struct both *b)
{
	h_run_free(&b->plain);
	h_run_free(&b->traced);
	h_free(b->plain_data);
	h_free(b->traced_data);
}

/* expect_complete asserts trace holds exactly allocs allocations and as many frees made by the
 * focus module, reads to its end and validates. */
static void expect_complete(const char *trace, const char *focus, uint64_t allocs)
{
	struct h_summary s = { .focus = focus };
	h_summarize_clean(trace, &s);
	if (s.my_allocs != allocs || s.my_frees != allocs)
		fail_msg("%s: %llu allocations and %llu frees of %s's, expected %llu of each", trace,
			 (unsigned long long)s.my_allocs, (unsigned long long)s.my_frees, focus,
			 (unsigned long long)allocs);
	h_validate(trace);
}

/* fds_case: the trace of fds MODE survives what MODE does to the descriptors. */
static void fds_case_counted(const char *mode, const char *arg, uint64_t allocs)
{
	struct both b;
	run_both(&b, "fds", (const char *const[]){ mode, "DATA", arg, NULL });
	h_expect_exit(&b.traced, 0);
	char trace[PATH_MAX];
	h_one_trace(&b.traced, trace);
	expect_complete(trace, "fds", allocs);
	both_free(&b);
}

static void fds_case(const char *mode, const char *arg)
{
	fds_case_counted(mode, arg, FDS_ALLOCS);
}

/* Closing every descriptor leaves the trace descriptor open (close of it is EBADF, as for a
 * number not open). */
static void test_close_loop(void **state)
{
	fds_case("close-loop", NULL);
}

static void test_close_range(void **state)
{
	fds_case("close-range", "0");
	fds_case("close-range", "cloexec");
	fds_case("close-range", "unshare");
}

static void test_closefrom(void **state)
{
	fds_case("closefrom", NULL);
}

/* The close system call, past libc, after a chdir: the shim opens its file again by its
 * absolute path. */
static void test_raw_close(void **state)
{
	fds_case("raw-close", NULL);
}

/* Duplicating onto every number: each lands where asked, and the data file holds just the
 * program's 9 bytes. */
static void test_dup_onto_all(void **state)
{
	fds_case("dup2-all", NULL);
	fds_case("dup3-all", NULL);
	fds_case("dupfd-all", NULL);
}

/* Duplicating onto every number, the unwinder's pipe's included, then allocating where
 * libunwind takes the stacks (an alternate signal stack): it finds its pipe gone and makes a
 * new one, never reading or writing the program's descriptors, nor closing them. */
static void test_dup2_unwinder(void **state)
{
	fds_case_counted("dup2-signal", NULL, FDS_ALLOCS + 10);
}

/* The same past libc: the shim sees the trace descriptor is another file before writing. */
static void test_raw_dup2(void **state)
{
	fds_case("raw-dup2", NULL);
}

/* What the program finds at every number (fcntl, close, dup2, F_DUPFD) is what it finds
 * untraced, in the program and in the image it execs (the trace descriptor is close-on-exec). */
static void test_probe(void **state)
{
	struct both b;
	run_both(&b, "fds", (const char *const[]){ "probe", "DATA", NULL });
	both_free(&b);
	run_both(&b, "fds", (const char *const[]){ "exec-probe", "DATA", NULL });
	char paths[4][PATH_MAX];
	assert_int_equal(h_find_traces(b.traced.dir, paths, 4), 2);
	both_free(&b);
}

/* A daemon: fork, setsid, chdir("/"), close_range over everything, /dev/null as 0-2, its data
 * file as descriptor 3, then its allocations; the parent and the daemon each have a complete
 * trace. */
static void test_daemon(void **state)
{
	struct both b;
	run_both(&b, "fds", (const char *const[]){ "daemon", "DATA", NULL });
	h_expect_exit(&b.traced, 0);
	assert_non_null(b.traced_data);
	assert_int_equal(h_out_u64(b.traced_data, "daemon ", "allocs"), FDS_ALLOCS);
	char paths[4][PATH_MAX];
	assert_int_equal(h_find_traces(b.traced.dir, paths, 4), 2);
	int daemons = 0;
	for (int i = 0; i < 2; i++) {
		struct h_summary s = { 0 };
		h_summarize_clean(paths[i], &s);
		if (!s.fork_parent_pid)
			continue;
		daemons++;
		expect_complete(paths[i], "fds", FDS_ALLOCS);
	}
	assert_int_equal(daemons, 1);
	both_free(&b);
}

/* ---- children made without fork handlers ---------------------------------------------------- */

/* rawclone's counts (tests/workloads/rawclone.c) */
#define PARENT_ALLOCS (10 + 2 * 5 * 1000)
#define CHILD_ALLOCS (12 * 1000)

/* raw_child_case: rawclone HOW END, a child with its own memory: the parent's trace holds the
 * parent's events only, the child's trace (its header names the parent) the child's only, with
 * its free of a block the parent allocated as the one inherited free. */
static void raw_child_case(const char *how, const char *end)
{
	struct both b;
	run_both(&b, "rawclone", (const char *const[]){ how, end, NULL });
	h_expect_exit(&b.traced, 0);
	uint64_t parent = h_out_u64(b.traced.out, "pids ", "parent");
	uint64_t child = h_out_u64(b.traced.out, "pids ", "child");
	char paths[4][PATH_MAX];
	size_t n = h_find_traces(b.traced.dir, paths, 4);
	if (n != 2)
		fail_msg("rawclone %s %s: %zu trace files, expected the parent's and the child's", how,
			 end, n);
	bool seen_parent = false, seen_child = false;
	for (size_t i = 0; i < n; i++) {
		struct h_summary s = { .focus = "rawclone" };
		h_summarize_clean(paths[i], &s);
		h_validate(paths[i]);
		if (s.pid == parent) {
			seen_parent = true;
			assert_int_equal(s.fork_parent_pid, 0);
			assert_int_equal(s.my_allocs, PARENT_ALLOCS);
			/* its own free of the block the child freed in its copy included */
			assert_int_equal(s.my_frees, PARENT_ALLOCS);
			assert_int_equal(s.unknown_frees, 0);
		} else if (s.pid == child) {
			seen_child = true;
			assert_int_equal(s.fork_parent_pid, parent);
			assert_int_equal(s.my_allocs, CHILD_ALLOCS);
			assert_int_equal(s.my_frees, CHILD_ALLOCS);
			assert_int_equal(s.unknown_frees, 1);
		} else {
			fail_msg("%s: pid %llu is neither the parent's nor the child's", paths[i],
				 (unsigned long long)s.pid);
		}
	}
	assert_true(seen_parent && seen_child);
	both_free(&b);
}

static void test_raw_fork(void **state)
{
	raw_child_case("sysfork", "_exit");
	raw_child_case("sysfork", "exit");
}

static void test_raw_clone(void **state)
{
	raw_child_case("sysclone", "_exit");
	raw_child_case("sysclone", "exit");
}

static void test_clone3(void **state)
{
	raw_child_case("clone3", "_exit");
	raw_child_case("clone3", "exit");
}

/* A CLONE_VM | CLONE_VFORK child shares the parent's memory, heap and buffers included: its
 * allocations and frees are of the parent's heap and are in the parent's trace, which stays
 * whole; it has no trace of its own. */
static void test_clone_vm(void **state)
{
	static const char *const ends[] = { "_exit", "return" };
	for (int i = 0; i < 2; i++) {
		struct both b;
		run_both(&b, "rawclone", (const char *const[]){ "vm", ends[i], NULL });
		h_expect_exit(&b.traced, 0);
		char trace[PATH_MAX];
		h_one_trace(&b.traced, trace);
		expect_complete(trace, "rawclone", PARENT_ALLOCS + CHILD_ALLOCS);
		both_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_loop),
		cmocka_unit_test(test_close_range),
		cmocka_unit_test(test_closefrom),
		cmocka_unit_test(test_raw_close),
		cmocka_unit_test(test_dup_onto_all),
		cmocka_unit_test(test_dup2_unwinder),
		cmocka_unit_test(test_raw_dup2),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_daemon),
		cmocka_unit_test(test_raw_fork),
		cmocka_unit_test(test_raw_clone),
		cmocka_unit_test(test_clone3),
		cmocka_unit_test(test_clone_vm),
	};
	return h_finish(cmocka_run_group_tests_name("fds", tests, NULL, NULL));
}
