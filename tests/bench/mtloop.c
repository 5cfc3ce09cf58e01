/* mtloop.c: benchmark workload. THREADS threads, each ITERATIONS iterations of one free and
 * one malloc (loop.h): about 2 * THREADS * ITERATIONS heap events. LEVELS more frames under
 * each thread's loop make every event's stack that much deeper (for the cost of depth: at 0 the
 * stacks are 8 frames deep, libc's 3 included, at 52 they are 61).
 *   mtloop [THREADS [ITERATIONS [LEVELS]]]   defaults 2, 1000000 and 0 */
#include "loop.h"

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	long iterations = argc > 2 ? atol(argv[2]) : 1000000;
	int levels = argc > 3 ? atoi(argv[3]) : 0;
	if (threads < 1 || threads > 256 || iterations < 0 || levels < 0 || levels > 1000) {
		fprintf(stderr, "usage: mtloop [THREADS [ITERATIONS [LEVELS]]]\n");
		return 2;
	}
	return run_threads(threads, iterations, levels);
}
