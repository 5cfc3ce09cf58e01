/* keyhash.c: the seed of the analyses' table hash (see keyhash.h). */
#include "keyhash.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

uint64_t xt_keyhash_seed;

/* Drawn before main, so every table of the process hashes alike and no thread races the
 * draw. Without getrandom (an old kernel, a seccomp filter) the clock, the PID and the
 * randomized stack address still vary from run to run. */
__attribute__((constructor)) static void draw_seed(void)
{
	uint64_t seed;
	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
		       ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&ts;
	}
	xt_keyhash_seed = seed;
}

void xt_keyhash_fix_seed(uint64_t seed)
{
	xt_keyhash_seed = seed;
}
