/* test_sampling.c: what a sampled trace's allocations stand for (reader/analysis/sampling.h):
 * s/p bytes and 1/p objects, p = 1 - exp(-s/T), objects counted whole without drifting from
 * the sum; a trace of every call, and a zero-byte request, stand for themselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "analysis/sampling.h"

static void test_unsampled_stands_for_itself(void **state)
{
	(void)state;
	struct xt_sampling w = {.mean = 0};
	uint64_t bytes = 1234;
	uint32_t objects = 0;
	xt_sampling_weigh(&w, &bytes, &objects);
	assert_int_equal(bytes, 1234);
	assert_int_equal(objects, 1);
}

static void test_weights(void **state)
{
	(void)state;
	struct xt_sampling w = {.mean = 65536};
	/* s = T: p = 1 - 1/e, so 65536 / 0.6321 = 103676.4 bytes and 1.582 objects */
	uint64_t total = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t bytes = 65536;
		uint32_t objects;
		xt_sampling_weigh(&w, &bytes, &objects);
		assert_int_equal(bytes, 103676);
		assert_true(objects == 1 || objects == 2);
		total += objects;
	}
	assert_int_equal(total, 1581); /* 1000 / (1 - 1/e) = 1581.98: within one of the sum */
	/* a small object stands for about T / s of its kind: 16 B at 64 KiB, 4096.5 */
	uint64_t bytes = 16;
	uint32_t objects;
	xt_sampling_weigh(&w, &bytes, &objects);
	assert_int_equal(bytes, 65544);
	assert_in_range(objects, 4096, 4097);
	/* a zero-byte request is never sampled: it counts as itself */
	bytes = 0;
	xt_sampling_weigh(&w, &bytes, &objects);
	assert_int_equal(bytes, 0);
	assert_int_equal(objects, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unsampled_stands_for_itself),
		cmocka_unit_test(test_weights),
	};
	return cmocka_run_group_tests_name("sampling", tests, NULL, NULL);
}
