/* mtloop.c: benchmark workload. THREADS threads, each ITERATIONS iterations of one free and
 * one malloc (loop.h): about 2 * THREADS * ITERATIONS heap events.
 *   mtloop [THREADS [ITERATIONS]]   defaults 2 and 1000000 */
#include "loop.h"

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	long iterations = argc > 2 ? atol(argv[2]) : 1000000;
	if (threads < 1 || threads > 256 || iterations < 0) {
		fprintf(stderr, "usage: mtloop [THREADS [ITERATIONS]]\n");
		return 2;
	}
	return run_threads(threads, iterations);
}
