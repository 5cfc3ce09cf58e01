/* sampling.c: the accuracy workload of XTRACE_SAMPLE: 2M allocations of 16 B to 4 KiB from
 * three sites, picked so that they allocate about 60, 30 and 10% of the bytes. Each object is
 * freed 4096 allocations later; the last 4096 stay live. It prints the exact bytes each site
 * allocated, and their total, for a test to hold the estimates against:
 *   site_sixty BYTES / site_thirty BYTES / site_ten BYTES / total BYTES */
#include <stdint.h>
#include <stdlib.h>

#include "workload.h"

#define ALLOCS 2000000
#define RING 4096

static void *ring[RING];

__attribute__((noinline)) static void *site_sixty(size_t n) { return malloc(n); }
__attribute__((noinline)) static void *site_thirty(size_t n) { return malloc(n); }
__attribute__((noinline)) static void *site_ten(size_t n) { return malloc(n); }

int main(void)
{
	uint64_t bytes[3] = {0}, x = 88172645463325252ull;
	for (long i = 0; i < ALLOCS; i++) {
		/* xorshift64: the same sizes and sites in every run */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t n = 16 + (size_t)(x >> 40) % (4096 - 16 + 1);
		unsigned pick = (unsigned)(x % 10);
		int site = pick < 6 ? 0 : pick < 9 ? 1 : 2;
		void *p = site == 0 ? site_sixty(n) : site == 1 ? site_thirty(n) : site_ten(n);
		if (!p)
			return 1;
		bytes[site] += n;
		free(ring[i % RING]);
		ring[i % RING] = p;
	}
	say("site_sixty %llu\nsite_thirty %llu\nsite_ten %llu\ntotal %llu\n",
	    (unsigned long long)bytes[0], (unsigned long long)bytes[1],
	    (unsigned long long)bytes[2], (unsigned long long)(bytes[0] + bytes[1] + bytes[2]));
	return 0;
}
