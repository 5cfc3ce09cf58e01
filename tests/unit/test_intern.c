/* test_intern.c: the shim's lock-free intern table (shim/intern.c): a table of few keys touches
 * few pages of its slots, however large it may grow; keys stay found with their IDs as it opens
 * new levels; a reset sizes the next generation's first level for as many keys as the last
 * had; a table nearing the end of its arena asks once a generation to end it early; threads
 * inserting the same keys at once get IDs that name them. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "intern.h"
#include "real.h"

struct xt_real xt_real;

static int setup(void **state)
{
	xt_real.mmap = mmap;
	return 0;
}

/* key_hash mixes key k as the stack tree does (splitmix64's finalizer). */
static uint64_t key_hash(uint64_t k)
{
	uint64_t h = k * 0x9e3779b97f4a7c15ull;
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

static uint64_t intern_key(struct xt_intern *tab, uint64_t k)
{
	return xt_intern(tab, key_hash(k), &k, sizeof k);
}

/* resident_pages counts the pages of the table's slots that were ever touched. */
static size_t resident_pages(const struct xt_intern *tab)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t bytes = (tab->nslots * sizeof(uint32_t) + page - 1) & ~(page - 1);
	static unsigned char vec[1u << 16];
	assert_true(bytes / page <= sizeof vec);
	assert_int_equal(mincore((void *)tab->slots, bytes, vec), 0);
	size_t n = 0;
	for (size_t i = 0; i < bytes / page; i++)
		n += vec[i] & 1;
	return n;
}

static void test_few_keys_touch_few_pages(void **state)
{
	/* a table that may grow to a million slots a level, as the stack tree's */
	static struct xt_intern tab;
	assert_true(xt_intern_init(&tab, 1u << 20, 20u << 20, NULL));
	for (uint64_t k = 1; k <= 2000; k++)
		assert_int_equal(intern_key(&tab, k), k);
	/* 2000 keys fit a level 0 of 4096 slots: 4 pages (spread over a million slots, nearly
	 * every key would touch a page of its own) */
	assert_true(resident_pages(&tab) <= 8);
	xt_intern_reset(&tab);
}

/* key_found says whether ID id names key k. */
static bool key_found(struct xt_intern *tab, uint64_t id, uint64_t k)
{
	uint32_t len;
	const void *key = xt_intern_key(tab, id, &len);
	return key && len == sizeof k && memcmp(key, &k, sizeof k) == 0;
}

static void test_keys_stay_found_as_levels_open(void **state)
{
	static struct xt_intern tab;
	assert_true(xt_intern_init(&tab, 1u << 20, 20u << 20, NULL));
	const uint64_t n = 100000;
	for (uint64_t k = 1; k <= n; k++)
		assert_int_equal(intern_key(&tab, k), k);
	/* level 0 of 4096 slots holds 2048 keys, each level twice the last */
	assert_int_equal(atomic_load(&tab.levels), 6);
	for (uint64_t k = 1; k <= n; k++) {
		assert_int_equal(intern_key(&tab, k), k);
		assert_true(key_found(&tab, k, k));
	}
	assert_int_equal(atomic_load(&tab.next_id), n);

	/* the next generation's level 0 holds as many keys: one level, as few pages */
	size_t touched = resident_pages(&tab);
	xt_intern_reset(&tab);
	assert_int_equal(atomic_load(&tab.levels), 1);
	for (uint64_t k = 1; k <= n; k++)
		assert_int_equal(intern_key(&tab, n + k), k);
	assert_int_equal(atomic_load(&tab.levels), 1);
	for (uint64_t k = 1; k <= n; k++)
		assert_true(key_found(&tab, k, n + k));
	/* a level 0 of 256 Ki slots: 256 pages, and the levels the last generation touched */
	assert_true(resident_pages(&tab) <= touched + 256);

	/* a generation of few keys: the next starts small again */
	xt_intern_reset(&tab);
	for (uint64_t k = 1; k <= 10; k++)
		assert_int_equal(intern_key(&tab, k), k);
	xt_intern_reset(&tab);
	assert_int_equal(atomic_load(&tab.bits), 12);
	assert_int_equal(intern_key(&tab, 42), 1);
	xt_intern_reset(&tab);
}

static int asked;

static void count_ask(void)
{
	asked++;
}

static void test_nearly_full_asks_once_a_generation(void **state)
{
	/* 8-byte keys take 32-byte entries: room for 100 */
	static struct xt_intern tab;
	assert_true(xt_intern_init(&tab, 1u << 12, 100 * 32, count_ask));
	asked = 0;
	for (uint64_t k = 1; k <= 75; k++)
		assert_int_equal(intern_key(&tab, k), k);
	assert_int_equal(asked, 0);
	assert_int_equal(intern_key(&tab, 76), 76);
	assert_int_equal(asked, 1);
	for (uint64_t k = 77; k <= 100; k++)
		assert_int_equal(intern_key(&tab, k), k);
	/* full: a new key is refused, the old ones are still found */
	assert_int_equal(intern_key(&tab, 101), 0);
	assert_int_equal(intern_key(&tab, 50), 50);
	assert_int_equal(asked, 1);
	xt_intern_reset(&tab);
	for (uint64_t k = 1; k <= 80; k++)
		assert_int_equal(intern_key(&tab, k), k);
	assert_int_equal(asked, 2);
	xt_intern_reset(&tab);
}

#define RACERS 4
#define RACE_KEYS 30000

static struct xt_intern race_tab;
static uint64_t race_ids[RACERS][RACE_KEYS];

static void *race(void *arg)
{
	uintptr_t r = (uintptr_t)arg;
	/* every thread the same keys, each from another place in the list */
	for (uint64_t i = 0; i < RACE_KEYS; i++) {
		uint64_t at = (i + r * (RACE_KEYS / RACERS)) % RACE_KEYS;
		race_ids[r][at] = intern_key(&race_tab, at + 1);
	}
	return NULL;
}

static void test_racing_threads_get_ids_of_their_keys(void **state)
{
	assert_true(xt_intern_init(&race_tab, 1u << 20, 20u << 20, NULL));
	pthread_t th[RACERS];
	for (uintptr_t r = 0; r < RACERS; r++)
		assert_int_equal(pthread_create(&th[r], NULL, race, (void *)r), 0);
	for (int r = 0; r < RACERS; r++)
		pthread_join(th[r], NULL);
	for (int r = 0; r < RACERS; r++)
		for (uint64_t i = 0; i < RACE_KEYS; i++) {
			assert_true(race_ids[r][i] != 0);
			assert_true(key_found(&race_tab, race_ids[r][i], i + 1));
			/* once the racing is over, a key has one ID for good */
			uint64_t id = intern_key(&race_tab, i + 1);
			assert_int_equal(intern_key(&race_tab, i + 1), id);
		}
	xt_intern_reset(&race_tab);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_few_keys_touch_few_pages),
		cmocka_unit_test(test_keys_stay_found_as_levels_open),
		cmocka_unit_test(test_nearly_full_asks_once_a_generation),
		cmocka_unit_test(test_racing_threads_get_ids_of_their_keys),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
