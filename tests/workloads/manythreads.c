/* manythreads.c: TOTAL short threads, started in waves of ATONCE that are all alive together
 * (each thread makes K allocations of 48 bytes, waits until its whole wave has, frees them and
 * ends; main joins the wave before starting the next). Threads run on 128 KiB stacks.
 *   manythreads TOTAL ATONCE K
 * Prints the counts and how many distinct tids the threads had (the kernel may hand a tid out
 * again once its thread has ended), main's tid (main makes 2 allocations of its own), and its
 * own peak RSS in KiB. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "workload.h"

static long k_allocs;
static pthread_barrier_t wave_barrier;
static long *tids;

static void *run(void *arg)
{
	long *tid = arg;
	*tid = workload_tid();
	void *b[64];
	for (long i = 0; i < k_allocs; i++)
		b[i] = malloc(48);
	pthread_barrier_wait(&wave_barrier);
	for (long i = 0; i < k_allocs; i++)
		free(b[i]);
	return NULL;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	long total = atol(argv[1]), atonce = atol(argv[2]);
	k_allocs = atol(argv[3]);
	if (total < 1 || atonce < 1 || atonce > total || total % atonce || k_allocs < 1 ||
	    k_allocs > 64)
		return 2;
	pthread_t *th = calloc((size_t)atonce, sizeof *th);
	tids = calloc((size_t)total, sizeof *tids);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 128 << 10);
	for (long w = 0; w < total / atonce; w++) {
		pthread_barrier_init(&wave_barrier, NULL, (unsigned)atonce);
		for (long i = 0; i < atonce; i++)
			if (pthread_create(&th[i], &attr, run, &tids[w * atonce + i]) != 0)
				return 3;
		for (long i = 0; i < atonce; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&wave_barrier);
	}
	qsort(tids, (size_t)total, sizeof *tids, cmp_long);
	long distinct = 0;
	for (long i = 0; i < total; i++)
		distinct += i == 0 || tids[i] != tids[i - 1];
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	say("threads=%ld allocs=%ld frees=%ld distinct_tids=%ld main_tid=%ld maxrss_kib=%ld\n",
	    total, total * k_allocs, total * k_allocs, distinct, workload_tid(), ru.ru_maxrss);
	free(tids);
	free(th);
	return 0;
}
