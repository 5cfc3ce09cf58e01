/* tsccost.c: what one event timestamp costs, with the shim's own clock (shim/clock.c, xt_now in
 * shim.h): the floor under any per-event overhead, since every event reads the clock once.
 *   tsccost [READS]   default 20000000
 * prints "ns_per_read clock" on stdout, clock being "tsc" or "clock_gettime" (what xt_now
 * uses here: the raw TSC where the CPU says it is invariant, else the vDSO). Runs 5 passes and
 * prints the fastest, since a preempted pass only adds time. */
#include <stdio.h>
#include <stdlib.h>

#include "shim.h"

int main(int argc, char **argv)
{
	long reads = argc > 1 ? atol(argv[1]) : 20000000;
	if (reads <= 0) {
		fprintf(stderr, "usage: tsccost [READS]\n");
		return 2;
	}
	xt_clock_init();
	double best = 0;
	uint64_t sink = 0;
	for (int pass = 0; pass < 5; pass++) {
		uint64_t t0 = xt_mono_ns();
		for (long i = 0; i < reads; i++)
			sink += xt_now(); /* summed: the reads stay in the loop */
		double ns = (double)(xt_mono_ns() - t0) / (double)reads;
		if (pass == 0 || ns < best)
			best = ns;
	}
	__asm__ volatile("" : : "r"(sink));
	printf("%.2f %s\n", best, xt_clock.use_tsc ? "tsc" : "clock_gettime");
	return 0;
}
