/* forkwait.c: T threads that allocated and then wait, while main forks C children one after
 * another; each child allocates K blocks of 96 bytes, frees them and exits (through exit, the
 * trace's final flush); main waits for each before the next fork.
 *   forkwait T C K
 * Prints each child's pid, the most a child's peak RSS exceeded its parent's RSS at the fork
 * (KiB), the fewest page faults a child took, and the time the fork-and-wait loop took in
 * microseconds. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "workload.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int started, done;

static void *idle(void *arg)
{
	free(malloc(32));
	pthread_mutex_lock(&lock);
	started++;
	pthread_cond_broadcast(&cond);
	while (!done)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return arg;
}

/* rss_kib is this process's resident set now. */
static long rss_kib(void)
{
	char buf[128];
	int fd = open("/proc/self/statm", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	long size = 0, resident = 0;
	sscanf(buf, "%ld %ld", &size, &resident);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	int nt = atoi(argv[1]), nc = atoi(argv[2]), k = atoi(argv[3]);
	if (nt < 0 || nc < 1 || k < 0 || k > 64)
		return 2;
	pthread_t *th = calloc((size_t)nt + 1, sizeof *th);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 128 << 10);
	for (int i = 0; i < nt; i++)
		if (pthread_create(&th[i], &attr, idle, NULL) != 0)
			return 3;
	pthread_mutex_lock(&lock);
	while (started < nt)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int failed = 0;
	long growth = 0, faults = -1;
	for (int c = 0; c < nc; c++) {
		long before = rss_kib();
		pid_t pid = fork();
		if (pid < 0)
			return 4;
		if (pid == 0) {
			void *b[64];
			for (int i = 0; i < k; i++)
				b[i] = malloc(96);
			for (int i = 0; i < k; i++)
				free(b[i]);
			exit(0);
		}
		int st;
		struct rusage ru;
		if (wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
		if (ru.ru_maxrss - before > growth)
			growth = ru.ru_maxrss - before;
		if (faults < 0 || ru.ru_minflt < faults)
			faults = ru.ru_minflt;
		say("child %d pid=%ld\n", c, (long)pid);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_mutex_lock(&lock);
	done = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	free(th);
	say("threads=%d children=%d failed=%d pid=%ld child_growth_kib=%ld child_faults=%ld "
	    "loop_us=%ld\n", nt, nc, failed, (long)getpid(), growth, faults,
	    (long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000));
	return failed != 0;
}
