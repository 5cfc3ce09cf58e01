/* threads.c: two waves of T threads (the second wave starts after the first has ended, so its
 * threads can reuse per-thread state left by the first); each thread makes K allocations of
 * 64 + (its index) bytes. A thread whose index is a multiple of 4 leaves early with pthread_exit
 * after K/2 allocations and frees only K/4 of them; the others free all of theirs.
 *   threads [T [K]]   T threads per wave (default 8), K allocations (default 1000)
 * After all threads ended, main prints one line per thread: its tid and counts. */
#include <pthread.h>
#include <stdlib.h>

#include "workload.h"

#define MAXT 64

struct job {
	int index;
	long tid;
	long allocs, frees;
	size_t size;
};

static long k_allocs = 1000;
static struct job jobs[2 * MAXT];

static void *run(void *arg)
{
	struct job *j = arg;
	j->tid = workload_tid();
	j->size = 64 + (size_t)j->index;
	int early = j->index % 4 == 0;
	long n = early ? k_allocs / 2 : k_allocs;
	void **b = malloc((size_t)n * sizeof *b);
	for (long i = 0; i < n; i++)
		b[i] = malloc(j->size);
	/* the pointer array itself is one more allocation of this thread */
	j->allocs = n + 1;
	long nf = early ? n / 2 : n;
	for (long i = 0; i < nf; i++)
		free(b[i]);
	j->frees = nf;
	if (early)
		pthread_exit(NULL); /* leaks b and the rest on purpose */
	free(b);
	j->frees++;
	return NULL;
}

int main(int argc, char **argv)
{
	int t = argc > 1 ? atoi(argv[1]) : 8;
	if (argc > 2)
		k_allocs = atol(argv[2]);
	if (t < 1 || t > MAXT || k_allocs < 4)
		return 2;
	pthread_t th[MAXT];
	for (int wave = 0; wave < 2; wave++) {
		for (int i = 0; i < t; i++) {
			jobs[wave * t + i].index = wave * t + i;
			if (pthread_create(&th[i], NULL, run, &jobs[wave * t + i]) != 0)
				return 2;
		}
		for (int i = 0; i < t; i++)
			pthread_join(th[i], NULL);
	}
	long ta = 0, tf = 0;
	for (int i = 0; i < 2 * t; i++) {
		say("thread %d tid=%ld size=%zu allocs=%ld frees=%ld\n", i, jobs[i].tid, jobs[i].size,
		    jobs[i].allocs, jobs[i].frees);
		ta += jobs[i].allocs;
		tf += jobs[i].frees;
	}
	say("threads=%d allocs=%ld frees=%ld\n", 2 * t, ta, tf);
	return 0;
}
