/* churn.c: two threads allocating and freeing as fast as they can for a given wall time, each
 * keeping its last 1024 blocks (16 B to 4 KiB) live, so a trace grows by tens of MB a second
 * while the heap stays small (the flight recorder's tests).
 *   churn [MS]   run for MS milliseconds (default 2000), or until the file "churn-stop" is in
 *                the working directory; prints rounds and peak RSS */
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double end_ms;

static void *churn(void *arg)
{
	void *keep[1024] = {0};
	unsigned long long rounds = 0, x = (unsigned long long)(size_t)arg * 2654435761u + 1;
	while (now_ms() < end_ms && access("churn-stop", F_OK) != 0) {
		for (int i = 0; i < 1024; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			free(keep[i]);
			keep[i] = malloc(16 + (size_t)(x >> 33) % 4080);
		}
		rounds++;
	}
	for (int i = 0; i < 1024; i++)
		free(keep[i]);
	return (void *)(size_t)rounds;
}

int main(int argc, char **argv)
{
	end_ms = now_ms() + (double)(argc > 1 ? atol(argv[1]) : 2000);
	pthread_t t;
	pthread_create(&t, NULL, churn, (void *)1);
	size_t mine = (size_t)churn((void *)2);
	void *theirs;
	pthread_join(t, &theirs);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	say("churn rounds=%zu maxrss_kib=%ld\n", mine + (size_t)theirs, ru.ru_maxrss);
	return 0;
}
