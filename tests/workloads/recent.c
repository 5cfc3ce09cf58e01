/* recent.c: frees of recent allocations and allocations at recently freed addresses, and those
 * that cannot name theirs, for the frees and allocations by reference (test_recent.c). Sizes
 * 700, 701, 800, 801, 1111, 2222, 3333, 4444 and 4445 are used once each, so a test can find
 * those objects in the trace.
 *   recent N GAP_MS
 * 1. N iterations over a ring of 64 blocks: free the oldest, malloc one of 8..519 bytes (the
 *    sizes of an LCG from 1, size = 8 + (x >> 8) % 512), and every 8th iteration realloc it to
 *    16 bytes more; every 1000th iteration a malloc of 1 PiB fails in between. Then free the
 *    ring. The allocator hands most of the loop's allocations an address the loop freed lately.
 * 2. malloc(1111), malloc(700) and free it, then 10000 getitimer calls (more than a batch of
 *    events), then free the 1111 bytes: its ObjectAlloc is the latest one, but in an earlier
 *    batch; then malloc(701), which gets the 700 bytes' address back (the allocator's cache of
 *    that size), freed in an earlier batch; then free it.
 * 3. malloc(2222), malloc(3333), malloc(800) and free it, sleep GAP_MS (a generation goes by),
 *    free the 2222 bytes, realloc the 3333 to 3334, malloc(801) (the 800 bytes' address, freed a
 *    generation back) and free it.
 * 4. malloc(4444), freed by a second thread; then malloc(4445), at the address the other thread
 *    freed.
 * 5. 100 times malloc(600), realloc to 300 (it shrinks in place: the address stays), free.
 * 6. 5 blocks of 777 bytes, the 3334-byte and the 4445-byte block stay allocated at exit.
 * Prints "done" at the end. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#include "workload.h"

#define RING 64

static void *free_it(void *p)
{
	free(p);
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000;
	long gap_ms = argc > 2 ? atol(argv[2]) : 100;
	void *ring[RING] = {0};
	uint32_t x = 1;
	for (long i = 0; i < n; i++) {
		void **slot = &ring[i % RING];
		free(*slot);
		x = x * 1103515245u + 12345u;
		size_t size = 8 + (x >> 8) % 512;
		*slot = malloc(size);
		if (i % 8 == 7)
			*slot = realloc(*slot, size + 16);
		if (i % 1000 == 999 && malloc((size_t)1 << 50))
			return 1;
	}
	for (int i = 0; i < RING; i++)
		free(ring[i]);

	void *keep = malloc(1111), *p = malloc(700);
	free(p);
	struct itimerval it;
	for (int i = 0; i < 10000; i++)
		getitimer(ITIMER_REAL, &it);
	free(keep);
	free(malloc(701));

	void *a = malloc(2222), *b = malloc(3333);
	free(malloc(800));
	struct timespec d = {gap_ms / 1000, (gap_ms % 1000) * 1000000};
	nanosleep(&d, NULL);
	free(a);
	b = realloc(b, 3334);
	free(malloc(801));

	pthread_t th;
	if (pthread_create(&th, NULL, free_it, malloc(4444)) != 0 || pthread_join(th, NULL) != 0)
		return 1;
	if (!malloc(4445))
		return 1;

	for (int i = 0; i < 100; i++) {
		void *s = malloc(600);
		free(realloc(s, 300));
	}

	for (int i = 0; i < 5; i++)
		if (!malloc(777))
			return 1;
	say("done\n");
	return 0;
}
