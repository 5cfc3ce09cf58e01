/* test_recent.c: frees and allocations by reference, on the recent workload. Most frees name
 * their ObjectAlloc back in the batch, and most allocations the free of their address; a free
 * whose ObjectAlloc is in an earlier batch or generation, or was another thread's, carries its
 * address, as does an allocation at an address freed so; and the reader and `xtrace stats`,
 * `leaks` and `validate` count every object and byte exactly. */
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
	e->frees = N; /* the ring's: N - 64 in the loop, 64 after it */
	/* 1111, 700, 701; 2222, 3333, 800, 3334 by realloc, 801; 4444, 4445; 100 x 600 and 300 by
	 * realloc; 5 x 777 */
	e->allocs += 3 + 5 + 2 + 200 + 5;
	e->malloc_bytes += 1111 + 700 + 701 + 2222 + 3333 + 800 + 801 + 4444 + 4445 + 100 * 600 +
			   5 * 777;
	e->realloc_bytes += 3334 + 100 * 300;
	e->frees += 3 + 3 + 1 + 100; /* 700, 1111, 701; 800, 2222, 801; 4444; 100 x 300 */
	e->reallocfrees += 1 + 100;  /* 3333; 100 x 600 */
	e->live = 7;
	e->live_bytes = 3334 + 4445 + 5 * 777;
}

/* One of the objects whose free cannot name its ObjectAlloc. */
struct marked {
	uint64_t size;
	uint8_t free_type;
	uint64_t addr, alloc_gen, alloc_batch, frees;
};

/* One of the allocations that cannot name the free of their address, which was that of the
 * object of size freed_size. */
struct marked_alloc {
	uint64_t size, freed_size;
	uint64_t freed_addr, free_gen, free_batch, free_thread; /* that free */
	uint64_t allocs;
};

/* What a thread did last, and which addresses it freed in its current batch. */
struct thread_state {
	uint64_t tid, batch;
	uint8_t last_type;
	uint64_t last_addr;
	struct h_addrset freed;
};

static struct thread_state *thread_state(struct thread_state *ts, size_t *n, uint64_t tid)
{
	for (size_t i = 0; i < *n; i++)
		if (ts[i].tid == tid)
			return &ts[i];
	assert_true(*n < 8);
	ts[*n] = (struct thread_state){ .tid = tid };
	return &ts[(*n)++];
}

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

/* Frees and allocations go by reference where they can and by address where they cannot. */
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
	struct marked_alloc ma[] = {
		{ .size = 701, .freed_size = 700 },   /* freed batches back */
		{ .size = 801, .freed_size = 800 },   /* freed a generation back */
		{ .size = 4445, .freed_size = 4444 }, /* freed by another thread */
	};
	enum { NMA = sizeof ma / sizeof ma[0] };
	struct thread_state ts[8];
	size_t nts = 0;
	xtrace_reader *rd = xtrace_open(trace, NULL, 0);
	assert_non_null(rd);
	struct h_addrset live = { 0 }; /* address -> requested bytes */
	uint64_t frees = 0, by_ref = 0, realloc_by_ref = 0;
	uint64_t allocs = 0, allocs_by_ref = 0, realloc_kept = 0;
	struct xtrace_event ev;
	int rc;
	while ((rc = xtrace_next(rd, &ev)) == 1) {
		if (ev.kind == XTRACE_EVENT_SYNC)
			continue;
		struct thread_state *th = thread_state(ts, &nts, ev.thread);
		if (ev.offset != th->batch) {
			h_addrset_free(&th->freed);
			th->freed = (struct h_addrset){ 0 };
			th->batch = ev.offset;
			th->last_type = 0;
		}
		if (ev.type == XT_EV_ObjectAlloc && ev.args[0]) {
			const struct xtrace_alloc_type *t = xtrace_alloc_type(rd, ev.args[1]);
			assert_non_null(t);
			uint64_t size = t->elem_size * t->count;
			h_addrset_put(&live, ev.args[0], size);
			allocs++;
			if (ev.wire_type != ev.type) {
				assert_int_equal(ev.wire_type, XT_EV_ObjectAllocReused);
				allocs_by_ref++;
				/* it names a free of its address, this thread's in this batch */
				uint64_t one;
				assert_true(h_addrset_take(&th->freed, ev.args[0], &one));
				h_addrset_put(&th->freed, ev.args[0], one);
			}
			/* realloc keeping its address names the ObjectReallocFree just before */
			if (th->last_type == XT_EV_ObjectReallocFree && th->last_addr == ev.args[0]) {
				assert_int_equal(ev.wire_type, XT_EV_ObjectAllocReused);
				realloc_kept++;
			}
			for (int k = 0; k < NM; k++)
				if (size == m[k].size) {
					m[k].addr = ev.args[0];
					m[k].alloc_gen = ev.gen;
					m[k].alloc_batch = ev.offset;
				}
			for (int k = 0; k < NMA; k++)
				if (size == ma[k].size) {
					assert_int_equal(ev.wire_type, XT_EV_ObjectAlloc);
					/* the workload did what it means to */
					assert_int_equal(ev.args[0], ma[k].freed_addr);
					if (k == 0)
						assert_true(ev.offset != ma[k].free_batch);
					if (k == 1)
						assert_true(ev.gen > ma[k].free_gen);
					if (k == 2)
						assert_true(ev.thread != ma[k].free_thread);
					ma[k].allocs++;
				}
		} else if (ev.type == XT_EV_ObjectFree || ev.type == XT_EV_ObjectReallocFree) {
			uint64_t size;
			assert_true(h_addrset_take(&live, ev.args[0], &size));
			h_addrset_put(&th->freed, ev.args[0], 1);
			for (int k = 0; k < NMA; k++)
				if (size == ma[k].freed_size) {
					ma[k].freed_addr = ev.args[0];
					ma[k].free_gen = ev.gen;
					ma[k].free_batch = ev.offset;
					ma[k].free_thread = ev.thread;
				}
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
		th->last_type = ev.type;
		th->last_addr = ev.args[0];
	}
	assert_int_equal(rc, 0);
	xtrace_close(rd);
	h_addrset_free(&live);
	for (size_t i = 0; i < nts; i++)
		h_addrset_free(&ts[i].freed);
	for (int k = 0; k < NM; k++)
		assert_int_equal(m[k].frees, 1);
	for (int k = 0; k < NMA; k++)
		assert_int_equal(ma[k].allocs, 1);
	/* the ring's frees name allocations about 72 back, the realloc's the latest */
	if (by_ref * 10 < frees * 9)
		fail_msg("%llu of %llu frees by reference", (unsigned long long)by_ref,
			 (unsigned long long)frees);
	assert_true(realloc_by_ref * 10 >= N / 8 * 9);
	/* the allocator hands the loop's allocations addresses it freed lately */
	if (allocs_by_ref * 10 < allocs * 8)
		fail_msg("%llu of %llu allocations by reference", (unsigned long long)allocs_by_ref,
			 (unsigned long long)allocs);
	/* the 100 reallocs that shrink in place, and the loop's that grow in place */
	assert_true(realloc_kept >= 100);

	/* dump shows the resolved address and the form */
	struct h_run c;
	assert_int_equal(h_cli(&c, H_ARGV("dump", trace)), 0);
	assert_int_equal(h_count_substr(c.out, " (coded as ObjectFreeRecent)\n") +
				 h_count_substr(c.out, " (coded as ObjectReallocFreeRecent)\n"),
			 by_ref);
	assert_int_equal(h_count_substr(c.out, " ObjectFree obj_addr=0x") +
				 h_count_substr(c.out, " ObjectReallocFree obj_addr=0x"),
			 frees);
	assert_int_equal(h_count_substr(c.out, " (coded as ObjectAllocReused)\n"), allocs_by_ref);
	assert_int_equal(h_count_substr(c.out, " ObjectAlloc obj_addr=0x") -
				 h_count_substr(c.out, " ObjectAlloc obj_addr=0x0 "),
			 allocs);
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
