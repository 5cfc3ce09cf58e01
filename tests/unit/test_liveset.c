/* test_liveset.c: the live set against a plain reference array on random operations (insert,
 * remove, lookup, growth, backward-shift deletion), addresses crafted to collide under a fixed
 * hash, and the heap accounting built on it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "analysis/heap.h"
#include "analysis/liveset.h"

/* xorshift64: a fixed sequence, so failures repeat. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* check_table walks every slot: each key is reachable from its home without crossing an empty
 * slot (the invariant backward shift must keep), and the count matches. */
static void check_table(const struct xt_liveset *s)
{
	size_t n = 0;
	for (size_t i = 0; i <= s->mask; i++) {
		if (s->slots[i].addr == 0)
			continue;
		n++;
		assert_ptr_equal(xt_liveset_find(s, s->slots[i].addr), &s->slots[i]);
	}
	assert_int_equal(n, s->count);
}

static void test_basic(void **state)
{
	struct xt_liveset s;
	assert_int_equal(xt_liveset_init(&s, 0), 0);
	int added;
	struct xt_live *e = xt_liveset_put(&s, 0x1000, &added);
	assert_non_null(e);
	assert_int_equal(added, 1);
	e->bytes = 24;
	e->api = 3;
	e = xt_liveset_put(&s, 0x1000, &added);
	assert_int_equal(added, 0);
	assert_int_equal(e->bytes, 24);
	assert_null(xt_liveset_find(&s, 0x2000));
	struct xt_live out;
	assert_int_equal(xt_liveset_remove(&s, 0x2000, &out), 0);
	assert_int_equal(xt_liveset_remove(&s, 0x1000, &out), 1);
	assert_int_equal(out.addr, 0x1000);
	assert_int_equal(out.bytes, 24);
	assert_int_equal(out.api, 3);
	assert_int_equal(s.count, 0);
	assert_null(xt_liveset_find(&s, 0x1000));
	xt_liveset_destroy(&s);
}

/* Key 0 marks empty slots: finding or removing it (a free of address 0 in a corrupt trace) must
 * neither find an empty slot nor drop the count, or every later put would double the table. */
static void test_zero_key(void **state)
{
	struct xt_liveset s;
	assert_int_equal(xt_liveset_init(&s, 0), 0);
	int added;
	assert_non_null(xt_liveset_put(&s, 0x1000, &added));
	assert_null(xt_liveset_find(&s, 0));
	assert_int_equal(xt_liveset_remove(&s, 0, NULL), 0);
	assert_int_equal(s.count, 1);
	size_t cap = s.mask + 1;
	assert_non_null(xt_liveset_put(&s, 0x2000, &added));
	assert_int_equal(s.mask + 1, cap);
	check_table(&s);
	xt_liveset_destroy(&s);

	struct xt_heap h;
	assert_int_equal(xt_heap_init(&h, 0), 0);
	assert_int_equal(xt_heap_free(&h, 0, 0, NULL), XT_HEAP_NOT_LIVE_FREE);
	assert_int_equal(h.live.count, 0);
	assert_int_equal(h.errors, 1);
	xt_heap_destroy(&h);
}

static void test_growth(void **state)
{
	struct xt_liveset s;
	assert_int_equal(xt_liveset_init(&s, 0), 0);
	size_t cap0 = s.mask + 1;
	int added;
	for (uint64_t i = 1; i <= 100000; i++) {
		struct xt_live *e = xt_liveset_put(&s, i * 16, &added);
		assert_non_null(e);
		e->bytes = i;
	}
	assert_true(s.mask + 1 > cap0);
	assert_true(s.count * 4 <= (s.mask + 1) * 3);
	assert_int_equal(s.count, 100000);
	for (uint64_t i = 1; i <= 100000; i++) {
		struct xt_live *e = xt_liveset_find(&s, i * 16);
		assert_non_null(e);
		assert_int_equal(e->bytes, i);
	}
	check_table(&s);
	xt_liveset_destroy(&s);
}

/* Random operations on a small key space (so runs collide, wrap and shift), checked against a
 * reference array indexed by key. */
static void test_random_against_reference(void **state)
{
	enum { KEYS = 4096, OPS = 400000 };
	static uint64_t ref[KEYS]; /* bytes + 1 of a present key, 0 if absent */
	struct xt_liveset s;
	assert_int_equal(xt_liveset_init(&s, 0), 0);
	uint64_t seed = 88172645463325252ull, present = 0;
	for (int op = 0; op < OPS; op++) {
		uint64_t r = rnd(&seed);
		size_t k = (size_t)(r >> 8) % KEYS;
		/* Clustered, aligned addresses like a heap's, plus a few far ones. */
		uint64_t addr = (k % 7 == 0 ? 0x7f0000000000ull : 0x555500000000ull) + k * 16;
		int added;
		switch (r & 3) {
		case 0:
		case 1: {
			struct xt_live *e = xt_liveset_put(&s, addr, &added);
			assert_non_null(e);
			assert_int_equal(added, ref[k] == 0);
			present += (uint64_t)added;
			e->bytes = op;
			ref[k] = (uint64_t)op + 1;
			break;
		}
		case 2: {
			struct xt_live out;
			int had = xt_liveset_remove(&s, addr, &out);
			assert_int_equal(had, ref[k] != 0);
			if (had) {
				assert_int_equal(out.bytes + 1, ref[k]);
				present--;
			}
			ref[k] = 0;
			break;
		}
		default: {
			struct xt_live *e = xt_liveset_find(&s, addr);
			if (ref[k])
				assert_int_equal(e->bytes + 1, ref[k]);
			else
				assert_null(e);
		}
		}
		assert_int_equal(s.count, present);
		if (op % 50000 == 0)
			check_table(&s);
	}
	for (size_t k = 0; k < KEYS; k++) {
		uint64_t addr = (k % 7 == 0 ? 0x7f0000000000ull : 0x555500000000ull) + k * 16;
		struct xt_live *e = xt_liveset_find(&s, addr);
		assert_int_equal(e != NULL, ref[k] != 0);
	}
	check_table(&s);
	xt_liveset_destroy(&s);
}

/* Deleting from the middle of a run that wraps around the end of the table keeps later keys. */
static void test_wraparound_delete(void **state)
{
	struct xt_liveset s;
	assert_int_equal(xt_liveset_init(&s, 0), 0);
	/* Find keys whose home is the last slot, so their run wraps to slot 0. */
	uint64_t keys[6];
	size_t n = 0;
	for (uint64_t a = 16; n < 6; a += 16)
		if (xt_liveset_home(&s, a) == s.mask)
			keys[n++] = a;
	int added;
	for (size_t i = 0; i < n; i++)
		assert_non_null(xt_liveset_put(&s, keys[i], &added));
	for (size_t i = 0; i < n; i += 2)
		assert_int_equal(xt_liveset_remove(&s, keys[i], NULL), 1);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(xt_liveset_find(&s, keys[i]) != NULL, i % 2 == 1);
	check_table(&s);
	xt_liveset_destroy(&s);
}

/* Keys i * K^-1 multiply back to i under the Fibonacci hash the table once used (key * K, top
 * bits): every one of them had home slot 0 at every size, so each put walked the whole run and
 * a trace of such addresses made the live set quadratic. Seeded, their probes stay short. */
static void test_crafted_addresses(void **state)
{
	enum { N = 40000 };
	uint64_t kinv = 0x9E3779B97F4A7C15u; /* Newton's iteration for the inverse mod 2^64 */
	for (int i = 0; i < 5; i++)
		kinv *= 2 - 0x9E3779B97F4A7C15u * kinv;
	assert_int_equal(kinv * 0x9E3779B97F4A7C15u, 1);
	struct xt_liveset s;
	assert_int_equal(xt_liveset_init(&s, 0), 0);
	int added;
	for (uint64_t i = 1; i <= N; i++)
		assert_non_null(xt_liveset_put(&s, i * kinv, &added));
	for (uint64_t i = 1; i <= N; i += 2)
		assert_int_equal(xt_liveset_remove(&s, i * kinv, NULL), 1);
	for (uint64_t i = 1; i <= N; i++)
		assert_int_equal(xt_liveset_find(&s, i * kinv) != NULL, i % 2 == 0);
	/* A random hash at load 1/2 keeps the longest displacement near log2(N); 64 is far above
	 * what any seed gives, and far below the N - 1 of the old hash. */
	assert_true(s.max_probe < 64);
	check_table(&s);
	xt_liveset_destroy(&s);
}

static void test_heap_accounting(void **state)
{
	struct xt_heap h;
	assert_int_equal(xt_heap_init(&h, 0), 0);
	assert_int_equal(xt_heap_alloc(&h, 10, 0x1000, XT_API_MALLOC, 100, 1, 0), XT_HEAP_OK);
	assert_int_equal(xt_heap_alloc(&h, 20, 0x2000, XT_API_CALLOC, 50, 1, 0), XT_HEAP_OK);
	assert_int_equal(h.peak_live_bytes, 150);
	assert_int_equal(h.peak_ts, 20);
	assert_int_equal(xt_heap_free(&h, 0x1000, 0, NULL), XT_HEAP_OK);
	assert_int_equal(xt_heap_free(&h, 0x1000, 0, NULL), XT_HEAP_NOT_LIVE_FREE);
	assert_int_equal(xt_heap_free(&h, 0x2000, 1, NULL), XT_HEAP_OK);
	assert_int_equal(xt_heap_alloc(&h, 30, 0x2000, XT_API_REALLOC, 10, 1, 0), XT_HEAP_OK);
	assert_int_equal(xt_heap_alloc(&h, 40, 0x2000, XT_API_MALLOC, 30, 1, 0), XT_HEAP_LIVE_ALLOC);
	assert_int_equal(xt_heap_alloc(&h, 50, 0, XT_API_MALLOC, 8, 1, 0), XT_HEAP_OK);    /* failed */
	assert_int_equal(xt_heap_alloc(&h, 60, 0, XT_API_REALLOC, 0, 1, 0), XT_HEAP_OK);   /* realloc(p, 0) */
	assert_int_equal(xt_heap_alloc(&h, 70, 0x3000, XT_API_UNKNOWN, 99, 1, 0), XT_HEAP_UNKNOWN_TYPE);
	assert_int_equal(h.allocs, 5);
	assert_int_equal(h.failed_allocs, 1);
	assert_int_equal(h.frees, 2);
	assert_int_equal(h.realloc_frees, 1);
	assert_int_equal(h.errors, 3);
	assert_int_equal(h.alloc_bytes, 190);
	assert_int_equal(h.live_bytes, 30); /* the replaced record counts once */
	assert_int_equal(h.live.count, 2);
	assert_int_equal(h.peak_live_bytes, 150);
	assert_int_equal(h.by_api[XT_API_MALLOC].calls, 3);
	assert_int_equal(h.by_api[XT_API_MALLOC].bytes, 130);
	assert_int_equal(h.by_api[XT_API_REALLOC].calls, 2);
	assert_int_equal(xt_request_bytes(UINT64_MAX / 2, 3), UINT64_MAX);
	assert_int_equal(xt_request_bytes(12, 5), 60);
	xt_heap_destroy(&h);
}

/* In a forked child a free of a never-seen address is inherited, but only once per address. */
static void test_heap_forked_child(void **state)
{
	struct xt_heap h;
	assert_int_equal(xt_heap_init(&h, 1), 0);
	assert_int_equal(xt_heap_free(&h, 0x5000, 0, NULL), XT_HEAP_INHERITED_FREE);
	assert_int_equal(xt_heap_free(&h, 0x5000, 0, NULL), XT_HEAP_NOT_LIVE_FREE);
	assert_int_equal(xt_heap_alloc(&h, 1, 0x6000, XT_API_MALLOC, 8, 1, 0), XT_HEAP_OK);
	assert_int_equal(xt_heap_free(&h, 0x6000, 0, NULL), XT_HEAP_OK);
	assert_int_equal(xt_heap_free(&h, 0x6000, 1, NULL), XT_HEAP_NOT_LIVE_FREE);
	assert_int_equal(h.inherited_frees, 1);
	assert_int_equal(h.errors, 2);
	xt_heap_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_zero_key),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_random_against_reference),
		cmocka_unit_test(test_wraparound_delete),
		cmocka_unit_test(test_crafted_addresses),
		cmocka_unit_test(test_heap_accounting),
		cmocka_unit_test(test_heap_forked_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
