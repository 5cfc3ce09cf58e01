/* pool.c: a fixed-size block pool allocator annotated with include/xtrace.h's heap calls, as a
 * program annotates its own allocators. Two pools (heaps "small", 48-byte blocks, and "big",
 * 512-byte blocks) carved from static arenas, so nothing here goes through malloc. Each round
 * takes small_n blocks from small and big_n from big, gives back every other one, and at the
 * end one bad free: a block of small given back to big. Prints what it did, and the heap IDs.
 *   pool [ROUNDS [MS]]   ROUNDS rounds (default 3), MS milliseconds asleep after each (default 0)
 *   pool names N         names N heaps "h0", "h1", ... twice: how many got IDs, the same twice */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../include/xtrace.h"
#include "workload.h"

struct pool {
	const char *name;
	unsigned heap; /* its ID in the trace, 0 untraced */
	size_t block;
	unsigned char *arena;
	size_t nblocks;
	void *free_list;
	size_t next; /* blocks below this were handed out at least once */
};

static unsigned char small_arena[48 * 256], big_arena[512 * 64];
static struct pool small = {"small", 0, 48, small_arena, 256, NULL, 0};
static struct pool big = {"big", 0, 512, big_arena, 64, NULL, 0};

static void pool_init(struct pool *p)
{
	p->heap = xtrace_heap(p->name);
}

__attribute__((noinline)) static void *pool_take(struct pool *p)
{
	void *b = p->free_list;
	if (b)
		p->free_list = *(void **)b;
	else if (p->next < p->nblocks)
		b = p->arena + p->block * p->next++;
	if (b)
		xtrace_heap_alloc(p->heap, b, p->block);
	return b;
}

__attribute__((noinline)) static void pool_give(struct pool *p, void *b)
{
	xtrace_heap_free(p->heap, b); /* before the block can be taken again */
	*(void **)b = p->free_list;
	p->free_list = b;
}

static int name_heaps(int n)
{
	int given = 0, same = 0;
	for (int i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof name, "h%d", i);
		unsigned id = xtrace_heap(name);
		given += id != 0;
		same += id == xtrace_heap(name);
	}
	say("names given=%d same=%d\n", given, same);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "names"))
		return name_heaps(atoi(argv[2]));
	int rounds = argc > 1 ? atoi(argv[1]) : 3;
	int ms = argc > 2 ? atoi(argv[2]) : 0;
	pool_init(&small);
	pool_init(&big);
	unsigned again = xtrace_heap("small"); /* the same name: the same heap */
	say("heaps small=%u big=%u small_again=%u\n", small.heap, big.heap, again);
	void *held[64];
	size_t small_allocs = 0, small_frees = 0, big_allocs = 0, big_frees = 0;
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < 40; i++) {
			held[i] = pool_take(&small);
			small_allocs++;
		}
		for (int i = 40; i < 50; i++) {
			held[i] = pool_take(&big);
			big_allocs++;
		}
		for (int i = 0; i < 50; i += 2) {
			pool_give(i < 40 ? &small : &big, held[i]);
			if (i < 40)
				small_frees++;
			else
				big_frees++;
		}
		if (ms)
			usleep((useconds_t)ms * 1000);
	}
	void *stray = pool_take(&small);
	small_allocs++;
	pool_give(&big, stray); /* the bad free: big never handed this block out */
	big_frees++;
	say("small allocs=%zu frees=%zu bytes=%zu\n", small_allocs, small_frees,
	    small_allocs * small.block);
	say("big allocs=%zu frees=%zu bytes=%zu\n", big_allocs, big_frees, big_allocs * big.block);
	say("bad free=%p\n", stray);
	return 0;
}
