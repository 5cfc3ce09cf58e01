/* longrun.c: allocates and frees in a loop for a given wall time, so a trace written with a short
 * XTRACE_GEN_MS spans several generations (used by the truncated-trace test).
 *   longrun [MS]   run for MS milliseconds (default 300) */
#include <stdlib.h>
#include <time.h>

#include "workload.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 300;
	double end = now_ms() + (double)ms;
	void *ring[64] = { 0 };
	unsigned long long rounds = 0;
	while (now_ms() < end) {
		for (int i = 0; i < 64; i++) {
			free(ring[i]);
			ring[i] = malloc(32 + (size_t)((rounds + (unsigned)i) % 200));
		}
		rounds++;
		/* a short pause keeps the trace small while the clock moves on */
		struct timespec pause = { 0, 200000 };
		nanosleep(&pause, NULL);
	}
	for (int i = 0; i < 64; i++)
		free(ring[i]);
	say("longrun rounds=%llu\n", rounds);
	return 0;
}
