/* test_threads.c: integration tests on multi-threaded workloads: a producer/consumer pair that
 * frees on another thread with fast address reuse (prodcons), and two waves of threads, some
 * leaving early with pthread_exit (threads). Each checks exact per-thread counts. */
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

/* threads: 2 waves of 8 threads x 400 allocations; every thread's events are attributed to its
 * own tid, including threads that left early and threads that reused their state. */
static void test_threads(void **state)
{
	struct h_run r;
	h_traced(&r, NULL, H_ARGV((char *)h_workload("threads"), "8", "400"));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prodcons),
		cmocka_unit_test(test_threads),
	};
	return h_finish(cmocka_run_group_tests_name("threads", tests, NULL, NULL));
}
