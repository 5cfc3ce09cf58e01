/* test_recent.c: frees by reference, on the recent workload. Most frees name their ObjectAlloc
 * back in the batch; a free whose ObjectAlloc is in an earlier batch or generation, or was
 * another thread's, carries its address; and the reader and `xtrace stats`, `leaks` and
 * `validate` count every object and byte exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"
#include "spec.h"

/* recent's iterations, and its sleep across generations of XTRACE_GEN_MS=20 */
#define N 10000
#define STR(x) #x
#define XSTR(x) STR(x)
#define GAP_MS "150"

/* What recent N does, computed here independently of the program (see recent.c). */
struct expect {
	uint64_t allocs, failed, frees, reallocfrees, malloc_bytes, realloc_bytes, live, live_bytes;
};

static void expect_recent(struct expect *e)
{
	memset(e, 0, sizeof *e);
	uint32_t x = 1;
	for (long i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		uint64_t size = 8 + (x >> 8) % 512;
		e->allocs++;
		e->malloc_bytes += size;
		if (i % 8 == 7) {
			e->allocs++;
			e->reallocfrees++;
			e->realloc_bytes += size + 16;
		}
		if (i % 1000 == 999) {
			e->allocs++;
			e->failed++;
		}
	}
	e->frees = N;                 /* the ring's: N - 64 in the loop, 64 after it */
	e->allocs += 1 + 2 + 1 + 1 + 5; /* 1111; 2222, 3333; 3334 by realloc; 4444; 5 x 777 */
	e->malloc_bytes += 1111 + 2222 + 3333 + 4444 + 5 * 777;
	e->realloc_bytes += 3334;
	e->frees += 3; /* 1111, 2222, 4444 */
	e->reallocfrees += 1;
	e->live = 6;
	e->live_bytes = 3334 + 5 * 777;
}

/* One of the objects whose free cannot name its ObjectAlloc. */
struct marked {
	uint64_t size;
	uint8_t free_type;
	uint64_t addr, alloc_gen, alloc_batch, frees;
};

static void run_recent(struct h_run *r, char trace[PATH_MAX])
{
	static const char *const env[] = { "XTRACE_GEN_MS=20", NULL };
	h_traced(r, env, H_ARGV((char *)h_workload("recent"), XSTR(N), GAP_MS));
	h_expect_exit(r, 0);
	h_one_trace(r, trace);
}

static void test_counts_are_exact(void **state)
{
	struct expect e;
	expect_recent(&e);
	struct h_run r;
	char trace[PATH_MAX];
	run_recent(&r, trace);

	struct h_summary s = { .focus = "recent" };
	h_summarize_clean(trace, &s);
	assert_int_equal(s.my_allocs, e.allocs);
	assert_int_equal(s.my_failed, e.failed);
	assert_int_equal(s.my_frees, e.frees);
	assert_int_equal(s.my_reallocfrees, e.reallocfrees);
	assert_int_equal(s.my_api[0].bytes, e.malloc_bytes + (e.failed << 50));
	assert_int_equal(s.my_api[2].bytes, e.realloc_bytes);
	assert_int_equal(s.my_live_end, e.live);
	assert_int_equal(s.unknown_frees, 0);
	assert_int_equal(s.free_null, 0);
	h_validate(trace);

	char *js = h_stats_json(trace, 0);
	assert_int_equal(h_json_u64(js, "invalid_events"), 0);
	/* the CLI counts successful allocations and their bytes; only the program's fail */
	uint64_t bytes = 0;
	for (int k = 0; k < H_NAPI; k++)
		bytes += s.api[k].bytes;
	bytes -= e.failed << 50;
	assert_int_equal(h_json_u64(js, "allocs"), s.allocs - s.failed);
	assert_int_equal(h_json_u64(js, "failed_allocs"), e.failed);
	assert_int_equal(h_json_u64(js, "alloc_bytes"), bytes);
	assert_int_equal(h_json_u64(js, "by_api.malloc.bytes"), s.api[0].bytes - (e.failed << 50));
	assert_int_equal(h_json_u64(js, "by_api.realloc.bytes"), s.api[2].bytes);
	assert_int_equal(h_json_u64(js, "frees"), s.frees + s.reallocfrees);
	assert_int_equal(h_json_u64(js, "realloc_frees"), s.reallocfrees);
	assert_int_equal(h_json_u64(js, "live_objects_at_end"), s.live_objects_end);
	assert_int_equal(h_json_u64(js, "live_bytes_at_end"), s.live_bytes_end);
	assert_int_equal(h_json_u64(js, "peak_live_bytes"), s.peak_live_bytes);
	h_free(js);

	struct h_run c;
	assert_int_equal(h_cli(&c, H_ARGV("leaks", "--json", trace)), 0);
	assert_int_equal(h_json_u64(c.out, "leaked_objects"), s.live_objects_end);
	assert_int_equal(h_json_u64(c.out, "leaked_bytes"), s.live_bytes_end);
	/* the program's own leaks, among libc's */
	assert_true(s.live_bytes_end >= e.live_bytes);
	h_run_free(&c);
	h_run_free(&r);
}

/* Frees go by reference where they can and by address where they cannot. */
static void test_forms(void **state)
{
	struct h_run r;
	char trace[PATH_MAX];
	run_recent(&r, trace);

	struct marked m[] = {
		{ .size = 1111, .free_type = XT_EV_ObjectFree },        /* batches back */
		{ .size = 2222, .free_type = XT_EV_ObjectFree },        /* a generation back */
		{ .size = 3333, .free_type = XT_EV_ObjectReallocFree }, /* a generation back */
		{ .size = 4444, .free_type = XT_EV_ObjectFree },        /* by another thread */
	};
	enum { NM = sizeof m / sizeof m[0] };
	xtrace_reader *rd = xtrace_open(trace, NULL, 0);
	assert_non_null(rd);
	struct h_addrset live = { 0 }; /* address -> requested bytes */
	uint64_t frees = 0, by_ref = 0, realloc_by_ref = 0;
	struct xtrace_event ev;
	int rc;
	while ((rc = xtrace_next(rd, &ev)) == 1) {
		if (ev.type == XT_EV_ObjectAlloc && ev.args[0]) {
			const struct xtrace_alloc_type *t = xtrace_alloc_type(rd, ev.args[1]);
			assert_non_null(t);
			uint64_t size = t->elem_size * t->count;
			h_addrset_put(&live, ev.args[0], size);
			for (int k = 0; k < NM; k++)
				if (size == m[k].size) {
					m[k].addr = ev.args[0];
					m[k].alloc_gen = ev.gen;
					m[k].alloc_batch = ev.offset;
				}
		} else if (ev.type == XT_EV_ObjectFree || ev.type == XT_EV_ObjectReallocFree) {
			uint64_t size;
			assert_true(h_addrset_take(&live, ev.args[0], &size));
			frees++;
			if (ev.wire_type != ev.type) {
				assert_int_equal(ev.wire_type, ev.type == XT_EV_ObjectFree
									? XT_EV_ObjectFreeRecent
									: XT_EV_ObjectReallocFreeRecent);
				by_ref++;
				realloc_by_ref += ev.type == XT_EV_ObjectReallocFree;
			}
			for (int k = 0; k < NM; k++)
				if (ev.args[0] == m[k].addr && size == m[k].size) {
					assert_int_equal(ev.wire_type, m[k].free_type);
					/* the workload did what it means to */
					if (k == 0)
						assert_true(ev.offset != m[k].alloc_batch);
					if (k == 1 || k == 2)
						assert_true(ev.gen > m[k].alloc_gen);
					m[k].frees++;
				}
		}
	}
	assert_int_equal(rc, 0);
	xtrace_close(rd);
	h_addrset_free(&live);
	for (int k = 0; k < NM; k++)
		assert_int_equal(m[k].frees, 1);
	/* the ring's frees name allocations about 72 back, the realloc's the latest */
	if (by_ref * 10 < frees * 9)
		fail_msg("%llu of %llu frees by reference", (unsigned long long)by_ref,
			 (unsigned long long)frees);
	assert_true(realloc_by_ref * 10 >= N / 8 * 9);

	/* dump shows the resolved address and the form */
	struct h_run c;
	assert_int_equal(h_cli(&c, H_ARGV("dump", trace)), 0);
	assert_int_equal(h_count_substr(c.out, " (coded as ObjectFreeRecent)\n") +
				 h_count_substr(c.out, " (coded as ObjectReallocFreeRecent)\n"),
			 by_ref);
	assert_int_equal(h_count_substr(c.out, " ObjectFree obj_addr=0x") +
				 h_count_substr(c.out, " ObjectReallocFree obj_addr=0x"),
			 frees);
	h_run_free(&c);
	h_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_are_exact),
		cmocka_unit_test(test_forms),
	};
	return h_finish(cmocka_run_group_tests_name("recent", tests, NULL, NULL));
}
