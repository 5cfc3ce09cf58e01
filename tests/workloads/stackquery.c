/* stackquery.c: threads whose first act is asking glibc for their own stack, as the JVM's do
 * (pthread_getattr_np allocates while it holds the thread's lock), and pairs of threads that
 * ask for each other's at the same moment. Two waves of T threads: the second reuses the
 * first's stacks, and glibc frees the thread-local blocks they had when it does. An alarm ends
 * the program with SIGALRM if it hangs.
 *   stackquery [T]   T threads per wave (default 8, even)
 * Each thread then allocates 1000 + its index bytes once and frees them; main prints one line
 * per thread: its tid and the size of the stack it was told. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "workload.h"

#define MAXT 64 /* both waves */

struct job {
	int index;
	long tid;
	size_t stack;
	pthread_t self; /* set by the thread itself, before the barrier */
};

static struct job jobs[MAXT];
static pthread_barrier_t pairs;

static size_t stack_size(pthread_t th)
{
	pthread_attr_t attr;
	void *lo;
	size_t size = 0;
	if (pthread_getattr_np(th, &attr) != 0)
		return 0;
	if (pthread_attr_getstack(&attr, &lo, &size) != 0)
		size = 0;
	pthread_attr_destroy(&attr);
	return size;
}

static void *run(void *arg)
{
	struct job *j = arg;
	j->stack = stack_size(pthread_self());
	j->tid = workload_tid();
	j->self = pthread_self();
	/* then each asks for its partner's stack, both at once */
	pthread_barrier_wait(&pairs);
	if (stack_size(jobs[j->index ^ 1].self) == 0)
		j->stack = 0;
	pthread_barrier_wait(&pairs); /* the partner lives until both have asked */
	free(malloc(1000 + (size_t)j->index));
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8;
	if (n < 2 || 2 * n > MAXT || n % 2)
		return 2;
	alarm(30);
	pthread_barrier_init(&pairs, NULL, (unsigned)n);
	pthread_t th[MAXT];
	for (int w = 0; w < 2; w++) {
		for (int i = w * n; i < (w + 1) * n; i++) {
			jobs[i].index = i;
			if (pthread_create(&th[i], NULL, run, &jobs[i]) != 0)
				return 1;
		}
		for (int i = w * n; i < (w + 1) * n; i++)
			pthread_join(th[i], NULL);
	}
	for (int i = 0; i < 2 * n; i++)
		say("thread %d tid=%ld stack=%zu\n", i, jobs[i].tid, jobs[i].stack);
	return 0;
}
