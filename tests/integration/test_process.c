/* test_process.c: integration tests on process life: fork and exec (one trace per process
 * image), every way out of a program (return, exit, _exit, _Exit, pthread_exit, abort, SIGSEGV,
 * SIGTERM) leaving a complete trace and an unchanged status, and a dlopen'ed library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/resource.h>

#include "harness.h"

/* ---- fork and exec ---------------------------------------------------------------------- */

/* forks: parent (12 own allocations), children 1 and 2 (10 and 20, plus one free of a block
 * inherited from the parent), child 0 which execs every_api 3: five trace files, each complete
 * and validating, each with exactly its own process's allocations. */
static void test_forks(void **state)
{
	struct h_run r;
	h_traced(&r, NULL, H_ARGV((char *)h_workload("forks"), "3"));
	h_expect_exit(&r, 0);
	uint64_t parent = h_out_u64(r.out, "parent pid=", "pid");
	uint64_t kid[3];
	for (int k = 0; k < 3; k++) {
		char prefix[32];
		h_fmt(prefix, sizeof prefix, "child %d pid=", k);
		kid[k] = h_out_u64(r.out, prefix, "pid");
	}
	assert_int_equal(h_out_u64(r.out, "parent allocs=", "failed_children"), 0);

	char paths[16][PATH_MAX];
	size_t n = h_find_traces(r.dir, paths, 16);
	if (n != 5)
		fail_msg("expected 5 trace files (parent, 3 children, 1 exec'd image), found %zu", n);

	bool seen_parent = false, seen_kid[3] = { false }, seen_exec = false;
	for (size_t i = 0; i < n; i++) {
		struct h_summary s = { 0 };
		h_summarize_clean(paths[i], &s);
		h_validate(paths[i]);
		const char *exe = h_basename(s.exe);
		if (s.pid == parent) {
			assert_false(seen_parent);
			seen_parent = true;
			assert_string_equal(exe, "forks");
			assert_int_equal(s.fork_parent_pid, 0);
			struct h_summary m = { .focus = "forks" };
			h_summarize_clean(paths[i], &m);
			assert_int_equal(m.my_allocs, 12);
			assert_int_equal(m.my_frees, 12);
			assert_int_equal(m.my_live_end, 0);
			assert_int_equal(m.unknown_frees, 0);
			continue;
		}
		int k;
		for (k = 0; k < 3 && s.pid != kid[k]; k++)
			;
		if (k == 3)
			fail_msg("%s: pid %llu is none of the workload's processes", paths[i],
				 (unsigned long long)s.pid);
		if (!strcmp(exe, "every_api")) {
			/* the image child 0 exec'd: a fresh trace, not a fork's */
			assert_int_equal(k, 0);
			assert_false(seen_exec);
			seen_exec = true;
			assert_int_equal(s.fork_parent_pid, 0);
			struct h_summary m = { .focus = "every_api" };
			h_summarize_clean(paths[i], &m);
			assert_int_equal(m.my_allocs, 13 * 3);
			assert_int_equal(m.my_frees, 9 * 3);
			assert_int_equal(m.my_reallocfrees, 4 * 3);
			assert_int_equal(m.my_live_end, 0);
			continue;
		}
		assert_string_equal(exe, "forks");
		assert_false(seen_kid[k]);
		seen_kid[k] = true;
		assert_int_equal(s.fork_parent_pid, parent);
		struct h_summary m = { .focus = "forks" };
		h_summarize_clean(paths[i], &m);
		if (k == 0) {
			/* forked, then exec'd at once: nothing of its own */
			assert_int_equal(m.my_allocs, 0);
			continue;
		}
		char prefix[32];
		h_fmt(prefix, sizeof prefix, "child %d pid=", k);
		uint64_t inherited = h_out_u64(r.out, prefix, "inherited_free");
		assert_int_equal(m.my_allocs, 10 * (uint64_t)k);
		assert_int_equal(m.my_frees, 10 * (uint64_t)k);
		assert_int_equal(m.my_api[0].bytes, 10 * (uint64_t)k * (300 + (uint64_t)k));
		/* the free of the parent's block has no allocation in the child's trace */
		assert_int_equal(m.unknown_frees, 1);
		assert_int_equal(m.unknown_free_addr[0], inherited);

		char *js = h_stats_json(paths[i], 0);
		assert_int_equal(h_json_u64(js, "inherited_frees"), 1);
		h_free(js);
	}
	assert_true(seen_parent);
	assert_true(seen_kid[0] && seen_kid[1] && seen_kid[2]);
	assert_true(seen_exec);
	h_run_free(&r);
}

/* ---- exit paths -------------------------------------------------------------------------- */

/* run_exit_path traces exit_paths MODE, checks the trace holds main's 10 allocations and 4
 * frees and is complete, and returns the run (status for the caller to check). */
static void run_exit_path(const char *mode, struct h_run *r, struct h_summary *s)
{
	h_traced(r, NULL, H_ARGV((char *)h_workload("exit_paths"), (char *)mode));
	char trace[PATH_MAX];
	h_one_trace(r, trace);
	uint64_t main_tid = h_out_u64(r->out, "mode=", "main_tid");
	memset(s, 0, sizeof *s);
	s->focus = "exit_paths";
	h_summarize_clean(trace, s);
	struct h_thread *t = h_thread_of(s, main_tid);
	if (t->allocs != 10 || t->frees != 4)
		fail_msg("mode %s: main thread has %llu allocs, %llu frees in the trace; expected 10, 4",
			 mode, (unsigned long long)t->allocs, (unsigned long long)t->frees);
	h_validate(trace);
	char *js = h_stats_json(trace, 0);
	assert_false(h_json_bool(js, "truncated"));
	h_free(js);
}

static void exit_code_case(const char *mode, int code)
{
	struct h_run r;
	struct h_summary s;
	run_exit_path(mode, &r, &s);
	h_expect_exit(&r, code);
	assert_int_equal(s.my_allocs, 10);
	assert_int_equal(s.my_frees, 4);
	assert_int_equal(s.my_live_end, 6);
	h_run_free(&r);
}

static void test_exit_return(void **state)
{
	exit_code_case("return", 3);
}

static void test_exit_exit(void **state)
{
	exit_code_case("exit", 4);
}

static void test_exit__exit(void **state)
{
	exit_code_case("_exit", 5);
}

static void test_exit__Exit(void **state)
{
	exit_code_case("_Exit", 6);
}

static void signal_case(const char *mode, int sig)
{
	struct h_run r;
	struct h_summary s;
	run_exit_path(mode, &r, &s);
	if (!WIFSIGNALED(r.status) || WTERMSIG(r.status) != sig)
		fail_msg("mode %s: expected death by signal %d, got wait status 0x%x", mode, sig,
			 r.status);
	assert_int_equal(s.my_allocs, 10);
	assert_int_equal(s.my_frees, 4);
	h_run_free(&r);
}

static void test_exit_abort(void **state)
{
	signal_case("abort", SIGABRT);
}

/* A fault: the shim completes the trace from the signal, then the faulting store runs again
 * and the program dies of SIGSEGV, as untraced. */
static void test_exit_segv(void **state)
{
	signal_case("segv", SIGSEGV);
}

/* SIGTERM left at its default action: the shim completes the trace, then the program dies of
 * SIGTERM as it would untraced. */
static void test_exit_sigterm(void **state)
{
	signal_case("sigterm", SIGTERM);
}

/* A thread that left with pthread_exit (from a nested frame) has its events in the trace. */
static void test_exit_thread(void **state)
{
	struct h_run r;
	struct h_summary s;
	run_exit_path("thread", &r, &s);
	h_expect_exit(&r, 7);
	uint64_t tid = h_out_u64(r.out, "thread tid=", "tid");
	struct h_thread *t = h_thread_of(&s, tid);
	assert_int_equal(t->allocs, 8);
	assert_int_equal(t->frees, 3);
	assert_int_equal(s.my_allocs, 18);
	assert_int_equal(s.my_frees, 7);
	assert_int_equal(s.my_live_end, 11);
	h_run_free(&r);
}

/* ---- dlopen ------------------------------------------------------------------------------- */

struct sym_ctx {
	xtrace_symbolizer *sym;
	uint64_t named;    /* plugin allocations whose caller symbolized to plugin_work */
	char first[128];   /* the first caller name seen, for the failure message */
};

static void dlopen_alloc(struct h_summary *s, xtrace_reader *r, const struct xtrace_event *ev,
			 const struct xtrace_alloc_type *t, bool mine)
{
	struct sym_ctx *c = s->ctx;
	if (!mine)
		return;
	const uint64_t *pcs;
	if (xtrace_stack(r, ev->args[2], &pcs) == 0)
		return;
	struct xtrace_frame f;
	xtrace_symbolize(c->sym, r, pcs[0], &f);
	if (!c->first[0])
		(void)!snprintf(c->first, sizeof c->first, "%s in %s", f.function ? f.function : "?",
			 f.module ? f.module : "?");
	if (f.function && !strcmp(f.function, "plugin_work"))
		c->named++;
}

static void test_dlopen(void **state)
{
	struct h_run r;
	h_traced(&r, NULL, H_ARGV((char *)h_workload("dlopen"), "20"));
	h_expect_exit(&r, 0);
	assert_int_equal(h_out_u64(r.out, "plugin ", "allocs"), 20);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);

	struct sym_ctx c = { .sym = xtrace_symbolizer_new() };
	assert_non_null(c.sym);
	struct h_summary s = { .focus = "libplugin.so", .on_alloc = dlopen_alloc, .ctx = &c };
	h_summarize_clean(trace, &s);
	xtrace_symbolizer_free(c.sym);
	if (!h_has_module(&s, "libplugin.so"))
		fail_msg("libplugin.so is in no generation's module table");
	assert_int_equal(s.my_allocs, 20);
	assert_int_equal(s.my_api[0].calls, 20);
	assert_int_equal(s.my_api[0].bytes, 20 * 4242);
	assert_int_equal(s.my_frees, 20);
	if (c.named != 20)
		fail_msg("%llu of 20 plugin allocations symbolize to plugin_work (first: %s)",
			 (unsigned long long)c.named, c.first);
	h_validate(trace);
	h_run_free(&r);
}

int main(void)
{
	/* abort() must not leave core files behind */
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forks),
		cmocka_unit_test(test_exit_return),
		cmocka_unit_test(test_exit_exit),
		cmocka_unit_test(test_exit__exit),
		cmocka_unit_test(test_exit__Exit),
		cmocka_unit_test(test_exit_abort),
		cmocka_unit_test(test_exit_segv),
		cmocka_unit_test(test_exit_sigterm),
		cmocka_unit_test(test_exit_thread),
		cmocka_unit_test(test_dlopen),
	};
	return h_finish(cmocka_run_group_tests_name("process", tests, NULL, NULL));
}
