/* mtscale.c: benchmark workload for the scaling rows. The same loop as mtloop, sized by the
 * total number of heap events: EVENTS split evenly over THREADS threads, so one thread and two
 * threads do the same work, and 1e5, 1e6 and 1e7 events differ only in length.
 *   mtscale THREADS EVENTS */
#include "loop.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mtscale THREADS EVENTS\n");
		return 2;
	}
	int threads = atoi(argv[1]);
	double events = strtod(argv[2], NULL); /* accepts 1e7 */
	if (threads < 1 || threads > 256 || events < 0) {
		fprintf(stderr, "usage: mtscale THREADS EVENTS\n");
		return 2;
	}
	/* two events (a malloc and a free) per iteration */
	long iterations = (long)(events / 2.0 / threads + 0.5);
	return run_threads(threads, iterations, 0);
}
