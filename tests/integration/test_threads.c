/* test_threads.c: integration tests on multi-threaded workloads: a producer/consumer pair that
 * frees on another thread with fast address reuse (prodcons), two waves of threads, some
 * leaving early with pthread_exit (threads), thousands of short threads and thousands alive at
 * once (manythreads, with the traced program's peak RSS bounded), forks of a process with 400
 * threads (forkwait), a signal handler that leaves the shim with siglongjmp (sigjump), a
 * thread whose first event is in a handler that interrupted the allocator (handlerfirst), and
 * threads whose first events come from inside pthread_getattr_np (stackquery). Each checks
 * exact counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

/* prodcons: every block is malloc'd on the producer and freed on the consumer. A free sorted
 * after the reuse of its address would show up as a free of an unknown address and as a
 * wrong live count, so the exact counts also check the free-before-reuse ordering. */
static void test_prodcons(void **state)
{
	struct h_run r;
	h_traced(&r, NULL, H_ARGV((char *)h_workload("prodcons"), "200000"));
	h_expect_exit(&r, 0);
	assert_int_equal(h_out_u64(r.out, "produced=", "consumed"), 200000);
	uint64_t bytes = h_out_u64(r.out, "produced=", "bytes");
	uint64_t ptid = h_out_u64(r.out, "producer_tid=", "producer_tid");
	uint64_t ctid = h_out_u64(r.out, "producer_tid=", "consumer_tid");
	char trace[PATH_MAX];
	h_one_trace(&r, trace);

	struct h_summary s = { .focus = "prodcons" };
	h_summarize_clean(trace, &s);
	assert_int_equal(s.my_allocs, 200000);
	assert_int_equal(s.my_api[0].calls, 200000);
	assert_int_equal(s.my_api[0].bytes, bytes);
	assert_int_equal(s.my_frees, 200000);
	assert_int_equal(s.my_live_end, 0);
	assert_int_equal(s.unknown_frees, 0);
	assert_int_equal(s.missing_stacks, 0);
	struct h_thread *p = h_thread_of(&s, ptid), *c = h_thread_of(&s, ctid);
	assert_int_equal(p->allocs, 200000);
	assert_int_equal(p->frees, 0);
	assert_int_equal(c->allocs, 0);
	assert_int_equal(c->frees, 200000);
	h_validate(trace);
	h_run_free(&r);
}

/* sanitizer names the sanitizer the shim under test is built with (scripts/sanitize.sh says),
 * or is NULL: its runs are smaller, and their memory is the sanitizer's as much as the
 * shim's, so no bound on it holds. */
static const char *sanitizer(void)
{
	const char *s = getenv("XTRACE_TEST_SANITIZED");
	return s && *s ? s : NULL;
}

/* threads: 2 waves of 8 threads x 400 allocations; every thread's events are attributed to its
 * own tid, including threads that left early and threads that reused their state. */
static void two_waves(const char *const env[])
{
	struct h_run r;
	h_traced(&r, env, H_ARGV((char *)h_workload("threads"), "8", "400"));
	h_expect_exit(&r, 0);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	struct h_summary s = { .focus = "threads" };
	h_summarize_clean(trace, &s);

	uint64_t total_a = 0, total_f = 0, early = 0;
	for (int i = 0; i < 16; i++) {
		char prefix[32];
		h_fmt(prefix, sizeof prefix, "thread %d ", i);
		uint64_t tid = h_out_u64(r.out, prefix, "tid");
		uint64_t a = h_out_u64(r.out, prefix, "allocs");
		uint64_t f = h_out_u64(r.out, prefix, "frees");
		/* the program's own report, against threads.c's rule */
		uint64_t want_a = i % 4 == 0 ? 400 / 2 + 1 : 400 + 1;
		uint64_t want_f = i % 4 == 0 ? 400 / 4 : 400 + 1;
		assert_int_equal(a, want_a);
		assert_int_equal(f, want_f);
		early += i % 4 == 0;
		struct h_thread *t = h_thread_of(&s, tid);
		if (t->allocs != a || t->frees != f)
			fail_msg("thread %d (tid %llu): trace has %llu allocs, %llu frees; program did "
				 "%llu, %llu", i, (unsigned long long)tid, (unsigned long long)t->allocs,
				 (unsigned long long)t->frees, (unsigned long long)a, (unsigned long long)f);
		total_a += a;
		total_f += f;
	}
	assert_int_equal(early, 4);
	/* exactly the 16 workers allocated from the program's code (main did not) */
	size_t with_allocs = 0;
	for (size_t i = 0; i < s.nthreads; i++)
		with_allocs += s.threads[i].allocs > 0;
	assert_int_equal(with_allocs, 16);
	assert_int_equal(s.my_allocs, total_a);
	assert_int_equal(s.my_frees, total_f);
	assert_int_equal(s.my_live_end, total_a - total_f);
	assert_int_equal(s.unknown_frees, 0);
	h_validate(trace);
	h_run_free(&r);
}

static void test_threads(void **state)
{
	two_waves(NULL);
}

/* The same walked by libunwind: its first walk on a thread allocates the thread's block of its
 * thread-local variables, the shim's own allocation, and glibc frees that block when the second
 * wave reuses the first's stacks. Such frees are the shim's (its inner blocks, real.h): the
 * trace has no free of a block it never saw. */
static void test_threads_walked_by_libunwind(void **state)
{
	/* under TSan the shim walks frame pointers only (README) */
	const char *san = sanitizer();
	if (san && !strcmp(san, "tsan"))
		skip();
	two_waves((const char *const[]){"XTRACE_UNWIND=libunwind", NULL});
}

/* The traced program's peak RSS may exceed the untraced one's by this much. */
#define RSS_MARGIN_KIB (64u << 10)


static uint64_t memory_margin(uint64_t kib)
{
	return sanitizer() ? UINT64_MAX / 2 : kib;
}

/* plain_and_traced runs argv untraced into u and traced into r, both to exit 0, and fails
 * unless the memory figure key (KiB) on the output's "threads=" line is at most margin_kib
 * more traced than untraced. */
static void plain_and_traced(char *const argv[], struct h_run *u, struct h_run *r,
			     const char *key, uint64_t margin_kib)
{
	h_plain(u, argv);
	h_expect_exit(u, 0);
	h_traced(r, NULL, argv);
	h_expect_exit(r, 0);
	uint64_t kib_u = h_out_u64(u->out, "threads=", key);
	uint64_t kib_t = h_out_u64(r->out, "threads=", key);
	if (kib_t > kib_u + margin_kib)
		fail_msg("%s %s %s: %s %llu traced, %llu untraced", argv[0], argv[1], argv[2], key,
			 (unsigned long long)kib_t, (unsigned long long)kib_u);
}

/* many_threads runs manythreads TOTAL ATONCE 8 untraced and traced: the traced peak RSS stays
 * within RSS_MARGIN_KIB of the untraced one (a thread's state is a few pages until it is busy,
 * and an exited thread's goes to the next), and every thread's 8 allocations and frees are in
 * the trace under its own tid. */
static void many_threads(const char *total, const char *atonce)
{
	char *const argv[] = { (char *)h_workload("manythreads"), (char *)total, (char *)atonce, "8",
			       NULL };
	struct h_run u, r;
	plain_and_traced(argv, &u, &r, "maxrss_kib", memory_margin(RSS_MARGIN_KIB));
	uint64_t n = h_out_u64(r.out, "threads=", "threads");
	uint64_t tids = h_out_u64(r.out, "threads=", "distinct_tids");
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	static struct h_summary s;
	memset(&s, 0, sizeof s);
	s.focus = "manythreads";
	h_summarize_clean(trace, &s);
	uint64_t main_tid = h_out_u64(r.out, "threads=", "main_tid");
	/* main's own two: the thread handles and the tids */
	assert_int_equal(s.my_allocs, 8 * n + 2);
	assert_int_equal(s.my_frees, 8 * n + 2);
	assert_int_equal(s.my_live_end, 0);
	assert_int_equal(s.unknown_frees, 0);
	assert_int_equal(h_thread_of(&s, main_tid)->allocs, 2);
	/* one entry per worker tid besides main's (a tid the kernel gave out again holds 8 per
	 * thread that had it) */
	assert_int_equal(s.nthreads, tids + 1);
	for (size_t i = 0; i < s.nthreads; i++)
		if (s.threads[i].tid != main_tid &&
		    (s.threads[i].allocs % 8 || s.threads[i].frees != s.threads[i].allocs))
			fail_msg("tid %llu: %llu allocs, %llu frees in the trace",
				 (unsigned long long)s.threads[i].tid,
				 (unsigned long long)s.threads[i].allocs,
				 (unsigned long long)s.threads[i].frees);
	h_validate(trace);
	h_run_free(&u);
	h_run_free(&r);
}

static void test_short_threads(void **state)
{
	if (sanitizer())
		many_threads("1000", "100");
	else
		many_threads("10000", "200");
}

static void test_threads_alive_at_once(void **state)
{
	many_threads(sanitizer() ? "200" : "2000", sanitizer() ? "200" : "2000");
}

/* mtloop with 48 threads churning on two processors and 20 ms generations: threads handing
 * full batches over meet at a stage's lock whose holder waits for a processor. The trace
 * loses none of the heap events, or counts exactly what it lost: the allocations and frees in
 * it plus the lost count are what the loop made, give or take the few events that are not the
 * loop's (a thread's start, its stack). (A thread given up on while it handed a batch over had
 * its events counted twice, or as 2^32 less a few.) */
static void test_busy_threads_count_what_they_lose(void **state)
{
	enum { THREADS = 48, ITERS = 30000 };
	/* ThreadSanitizer needs the program built with it: the benchmark programs are not */
	if (sanitizer() && !strcmp(sanitizer(), "tsan"))
		skip();
	char mtloop[PATH_MAX], threads[16], iters[16];
	h_fmt(mtloop, sizeof mtloop, "%s/bench/mtloop", h_build_dir());
	h_fmt(threads, sizeof threads, "%d", THREADS);
	h_fmt(iters, sizeof iters, "%d", sanitizer() ? ITERS / 10 : ITERS);
	const uint64_t made = 2 * (uint64_t)THREADS * (uint64_t)atoi(iters);
	for (int round = 0; round < 3; round++) {
		struct h_run r;
		const char *env[] = { "XTRACE_GEN_MS=20", NULL };
		h_traced(&r, env, H_ARGV(mtloop, threads, iters));
		h_expect_exit(&r, 0);
		char trace[PATH_MAX];
		h_one_trace(&r, trace);
		static struct h_summary s;
		memset(&s, 0, sizeof s);
		s.focus = "mtloop";
		if (h_summarize(trace, &s) != 0)
			fail_msg("%s: reading stopped: %s", trace, s.error);
		uint64_t in = s.my_allocs + s.my_frees;
		/* main's few allocations besides the loop's are the module's too */
		if (in > made + 16 || in + s.lost < made || in + s.lost > made + 8 * THREADS + 64)
			fail_msg("round %d: %llu of %llu loop events in the trace, %llu counted lost",
				 round, (unsigned long long)in, (unsigned long long)made,
				 (unsigned long long)s.lost);
		h_run_free(&r);
	}
}

/* forkwait: 400 threads wait while main forks 5 children one after the other, each of which
 * allocates and frees 8 blocks and exits. The children's peak RSS grows past their parent's
 * about as much as untraced (the shim leaves the parent's threads' state alone in a child), and
 * each child's trace holds its own 8 and 8. */
static void test_fork_with_threads(void **state)
{
	/* ThreadSanitizer does not follow a threaded process into a fork child that starts one */
	if (sanitizer() && !strcmp(sanitizer(), "tsan"))
		skip();
	char *const argv[] = { (char *)h_workload("forkwait"), "400", "5", "8", NULL };
	struct h_run u, r;
	plain_and_traced(argv, &u, &r, "child_growth_kib", memory_margin(8u << 10));
	uint64_t parent = h_out_u64(r.out, "threads=", "pid");
	char paths[16][PATH_MAX];
	size_t n = h_find_traces(r.dir, paths, 16);
	assert_int_equal(n, 6);
	size_t children = 0;
	for (size_t i = 0; i < n; i++) {
		static struct h_summary s;
		memset(&s, 0, sizeof s);
		s.focus = "forkwait";
		h_summarize_clean(paths[i], &s);
		h_validate(paths[i]);
		if (s.pid == parent) {
			/* every thread's allocation of 32 bytes, and main's of the thread handles */
			assert_int_equal(s.my_allocs, 401);
			assert_int_equal(s.my_frees, 401);
			continue;
		}
		children++;
		assert_int_equal(s.fork_parent_pid, parent);
		assert_int_equal(s.my_allocs, 8);
		assert_int_equal(s.my_frees, 8);
		assert_int_equal(s.nthreads, 1);
	}
	assert_int_equal(children, 5);
	h_run_free(&u);
	h_run_free(&r);
}

/* Counts sigjump's allocations of 999 bytes (thread B's, after its jumps) and of 4321 (main's). */
static void count_sizes(struct h_summary *s, xtrace_reader *r, const struct xtrace_event *ev,
			const struct xtrace_alloc_type *type, bool mine)
{
	uint64_t *n = s->ctx;
	n[0] += mine && type->elem_size == 999;
	n[1] += mine && type->elem_size == 4321;
}

/* sigjump: a handler leaves the shim with siglongjmp 101 times, the last time for good. The
 * program exits (an advance stops waiting for a section that stays open), the trace is
 * complete and valid, and the allocations made after the jumps are in it, or, those of the
 * generation of a section given up on, counted lost. */
static void test_siglongjmp_out_of_the_shim(void **state)
{
	/* AddressSanitizer keeps the scope poison of the shim's frames a jump from a signal
	 * handler leaves, and reports the next frames there */
	if (sanitizer() && !strcmp(sanitizer(), "asan"))
		skip();
	struct h_run r;
	const char *env[] = { "XTRACE_GEN_MS=20", NULL };
	h_traced(&r, env, H_ARGV((char *)h_workload("sigjump"), "100"));
	h_expect_exit(&r, 0);
	assert_int_equal(h_out_u64(r.out, "main_tid=", "jumps"), 101);
	uint64_t main_tid = h_out_u64(r.out, "main_tid=", "main_tid");
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	static struct h_summary s;
	memset(&s, 0, sizeof s);
	uint64_t n[2] = { 0, 0 };
	s.focus = "sigjump";
	s.on_alloc = count_sizes;
	s.ctx = n;
	if (h_summarize(trace, &s) != 0)
		fail_msg("%s: reading stopped: %s", trace, s.error);
	assert_true(s.gens >= 2);
	for (int k = 0; k < 2; k++)
		if (n[k] > 1000 || n[k] + s.lost < 1000)
			fail_msg("%llu of 1000 allocations of %d bytes in the trace, %llu events lost",
				 (unsigned long long)n[k], k ? 4321 : 999, (unsigned long long)s.lost);
	if (n[1] == 1000)
		assert_int_equal(h_thread_of(&s, main_tid)->frees, 1000);
	/* An allocation the jump cost (counted in lost) leaves its free unmatched: the reader
	 * takes a generation that lost events as a gap in the recording, so the trace validates. */
	h_validate(trace);
	h_run_free(&r);
}

/* handlerfirst: a thread's first recorded call comes from a signal handler that interrupted
 * the allocator (liblockmalloc.so) while it held its lock. Registering the thread allocates
 * nothing then (it would deadlock on that lock): the program exits, and the thread's later 100
 * allocations and frees are in the trace, under its tid. */
static void test_first_event_in_a_handler_over_malloc(void **state)
{
	/* a sanitizer's runtime has an allocator of its own, which liblockmalloc.so would bypass */
	if (sanitizer())
		skip();
	struct h_run r;
	h_traced(&r, NULL, H_ARGV((char *)h_workload("handlerfirst")));
	h_expect_exit(&r, 0);
	uint64_t tid = h_out_u64(r.out, "tid=", "tid");
	/* the image before the program ran itself again with liblockmalloc.so, and the one after,
	 * whose trace takes the next name (t.PID.1.xt, sorted first) */
	char paths[4][PATH_MAX];
	size_t n = h_find_traces(r.dir, paths, 4);
	assert_int_equal(n, 2);
	assert_non_null(strstr(paths[0], ".1.xt"));
	static struct h_summary s;
	memset(&s, 0, sizeof s);
	s.focus = "handlerfirst";
	h_summarize_clean(paths[0], &s);
	struct h_thread *t = h_thread_of(&s, tid);
	assert_int_equal(t->allocs, 101);
	assert_int_equal(t->frees, 101);
	h_validate(paths[0]);
	h_run_free(&r);
}

/* stackquery: two waves of 8 threads whose first events are pthread_getattr_np's own
 * allocations, made while it holds the lock that registration's stack query takes (every JVM
 * thread starts so; traced, the first such thread waited for itself forever). The program
 * ends (an alarm would kill it), every thread's stack was told, and each thread's own
 * allocation and free are in the trace under its tid. The second
 * wave reuses the first's stacks, and glibc then frees what their threads held in
 * thread-local blocks: the trace validates, so none was a block the trace never saw. */
static void test_first_event_inside_pthread_getattr_np(void **state)
{
	struct h_run r;
	h_traced(&r, NULL, H_ARGV((char *)h_workload("stackquery"), "8"));
	h_expect_exit(&r, 0);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	static struct h_summary s;
	memset(&s, 0, sizeof s);
	s.focus = "stackquery";
	h_summarize_clean(trace, &s);
	for (int i = 0; i < 16; i++) {
		char prefix[32];
		h_fmt(prefix, sizeof prefix, "thread %d ", i);
		assert_true(h_out_u64(r.out, prefix, "stack") > 0);
		struct h_thread *t = h_thread_of(&s, h_out_u64(r.out, prefix, "tid"));
		/* from the program's own code: the thread's malloc and its free */
		if (t->allocs != 1 || t->frees != 1)
			fail_msg("thread %d: %llu allocations, %llu frees in the trace", i,
				 (unsigned long long)t->allocs, (unsigned long long)t->frees);
	}
	assert_int_equal(s.my_allocs, 16);
	assert_int_equal(s.my_frees, 16);
	h_validate(trace);
	h_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prodcons),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_threads_walked_by_libunwind),
		cmocka_unit_test(test_short_threads),
		cmocka_unit_test(test_threads_alive_at_once),
		cmocka_unit_test(test_fork_with_threads),
		cmocka_unit_test(test_busy_threads_count_what_they_lose),
		cmocka_unit_test(test_siglongjmp_out_of_the_shim),
		cmocka_unit_test(test_first_event_in_a_handler_over_malloc),
		cmocka_unit_test(test_first_event_inside_pthread_getattr_np),
	};
	return h_finish(cmocka_run_group_tests_name("threads", tests, NULL, NULL));
}
