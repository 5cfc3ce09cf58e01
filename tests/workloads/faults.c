/* faults.c: programs that stress the shim where tracers usually break: fork while other threads
 * allocate, fork in a loop, vfork and posix_spawn, exec, dlopen/dlclose in a loop, thousands of
 * threads, allocations far beyond the address space, and a long run to be killed. Every mode
 * prints exactly what it did (never timings), so a traced run's output can be compared with an
 * untraced one and its trace checked against the counts.
 *   faults churn N         main and one thread each run N rounds of 64 malloc/free (a pause
 *                          every 8 rounds); prints "churn rounds=N"
 *   faults forkthreads N   4 threads allocate without pause while main forks N times; each
 *                          child makes 5 allocations, frees them and one block inherited from
 *                          the parent, and exits
 *   faults forkloop N      N forks one after the other; child i makes i % 5 + 1 allocations
 *   faults spawn           vfork+execv and posix_spawn of "faults child 7" and "faults child 9"
 *   faults exec            3 allocations, then execv of "faults child 4"
 *   faults child K         K allocations of 100 bytes, all freed (the exec'd/spawned image)
 *   faults dlloop N        N rounds of dlopen(libplugin.so), plugin_work(3), dlclose
 *   faults manythreads N   N threads in waves of 50, each 3 allocations of 48 bytes, all freed
 *   faults huge            every allocation API asked for more than the address space holds:
 *                          each returns NULL (ENOMEM) and a realloc'd block stays intact
 * A child that cannot finish in 60 s is killed by its alarm, so a deadlock fails the test
 * instead of hanging it. */
#include <malloc.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

extern char **environ;

static char self[4096];

static void *churn_thread(void *arg)
{
	long rounds = *(long *)arg;
	void *ring[64] = {0};
	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < 64; i++) {
			free(ring[i]);
			ring[i] = malloc(32 + (size_t)((r + i) % 200));
		}
		if (r % 8 == 7) {
			struct timespec pause = {0, 50000};
			nanosleep(&pause, NULL);
		}
	}
	for (int i = 0; i < 64; i++)
		free(ring[i]);
	return NULL;
}

static int churn(long rounds)
{
	pthread_t t;
	if (pthread_create(&t, NULL, churn_thread, &rounds) != 0)
		return 2;
	churn_thread(&rounds);
	pthread_join(t, NULL);
	say("churn rounds=%ld\n", rounds);
	return 0;
}

static atomic_int stop;
static atomic_long spins;

static void *allocator(void *arg)
{
	void *ring[16] = {0};
	for (unsigned long r = 0; !atomic_load(&stop); r++) {
		unsigned i = r % 16;
		free(ring[i]);
		ring[i] = malloc(16 + r % 300);
		atomic_fetch_add(&spins, 1);
	}
	for (int i = 0; i < 16; i++)
		free(ring[i]);
	return arg;
}

/* child_work: the forked child's own allocations, and the free of one inherited block. The
 * first has the size the parent allocated just before the fork: a request the forking thread
 * has seen already, in the generation the child's trace starts with. */
static void child_work(int n, void *inherited)
{
	alarm(60);
	void *b[8];
	for (int i = 0; i < n; i++)
		b[i] = malloc(i ? 200 + (size_t)i : 64);
	for (int i = 0; i < n; i++)
		free(b[i]);
	free(inherited);
}

static int wait_child(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int forkthreads(int n)
{
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, allocator, NULL) != 0)
			return 2;
	int failed = 0;
	for (int k = 0; k < n; k++) {
		/* let the threads get going between forks, so a fork lands among their calls */
		long seen = atomic_load(&spins);
		while (atomic_load(&spins) < seen + 1000)
			sched_yield();
		void *inherited = malloc(64);
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0) {
			child_work(5, inherited);
			exit(0);
		}
		free(inherited);
		failed += wait_child(pid) != 0;
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	say("forkthreads forks=%d failed=%d\n", n, failed);
	return failed ? 1 : 0;
}

static int forkloop(int n)
{
	int failed = 0;
	for (int k = 0; k < n; k++) {
		void *inherited = malloc(64);
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0) {
			child_work(k % 5 + 1, inherited);
			/* half leave through exit (destructors run), half through _exit */
			if (k % 2)
				_exit(0);
			exit(0);
		}
		free(inherited);
		failed += wait_child(pid) != 0;
	}
	say("forkloop forks=%d failed=%d\n", n, failed);
	return failed ? 1 : 0;
}

static int spawn(void)
{
	void *mine[3];
	for (int i = 0; i < 3; i++)
		mine[i] = malloc(1000);
	char *const argv7[] = {self, "child", "7", NULL};
	char *const argv9[] = {self, "child", "9", NULL};
	pid_t pid = vfork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		execv(self, argv7);
		_exit(127);
	}
	int failed = wait_child(pid) != 0;
	pid_t sp;
	if (posix_spawn(&sp, self, NULL, NULL, argv9, environ) != 0)
		return 2;
	failed += wait_child(sp) != 0;
	for (int i = 0; i < 3; i++)
		free(mine[i]);
	say("spawn vfork_pid=%ld spawn_pid=%ld failed=%d\n", (long)pid, (long)sp, failed);
	return failed ? 1 : 0;
}

static int do_exec(void)
{
	void *kept[3];
	for (int i = 0; i < 3; i++)
		kept[i] = malloc(500);
	free(kept[0]);
	say("exec allocs=3\n");
	char *const argv[] = {self, "child", "4", NULL};
	execv(self, argv);
	return 2;
}

static int child(int k)
{
	void *b[16];
	for (int i = 0; i < k && i < 16; i++)
		b[i] = malloc(100);
	for (int i = 0; i < k && i < 16; i++)
		free(b[i]);
	say("child allocs=%d\n", k);
	return 0;
}

static int dlloop(int n)
{
	/* self is this program's path: the plugin sits in the same directory */
	char path[4200];
	char *slash = strrchr(self, '/');
	snprintf(path, sizeof path, "%.*s/libplugin.so", (int)(slash - self), self);
	int done = 0;
	for (int i = 0; i < n; i++) {
		int d = run_plugin(path, 3);
		if (d < 0)
			return 2;
		done += d;
	}
	say("dlloop rounds=%d plugin_allocs=%d\n", n, done);
	return done == 3 * n ? 0 : 1;
}

static void *small_thread(void *arg)
{
	void *b[3];
	for (int i = 0; i < 3; i++)
		b[i] = malloc(48);
	for (int i = 0; i < 3; i++)
		free(b[i]);
	return arg;
}

static int manythreads(int n)
{
	int made = 0;
	while (made < n) {
		pthread_t th[50];
		int wave = n - made < 50 ? n - made : 50;
		for (int i = 0; i < wave; i++)
			if (pthread_create(&th[i], NULL, small_thread, NULL) != 0)
				return 2;
		for (int i = 0; i < wave; i++)
			pthread_join(th[i], NULL);
		made += wave;
	}
	say("manythreads threads=%d allocs=%d\n", made, 3 * made);
	return 0;
}

/* More than the 47-bit user address space: no system can grant it, with or without the shim. */
#define HUGE_SIZE ((size_t)3 << 46)

static int check(void *p, int *ok)
{
	int good = p == NULL && errno == ENOMEM;
	*ok += good;
	errno = 0;
	return good;
}

static int huge(void)
{
	int ok = 0;
	char *keep = malloc(64);
	memset(keep, 'k', 64);
	errno = 0;
	check(malloc(HUGE_SIZE), &ok);
	check(calloc(1 << 20, HUGE_SIZE >> 20), &ok);
	check(calloc((size_t)1 << 40, (size_t)1 << 40), &ok); /* the product overflows */
	/* called through pointers: the compiler may not assume keep is gone after a realloc that
	 * must fail */
	void *(*volatile re)(void *, size_t) = realloc;
	void *(*volatile rea)(void *, size_t, size_t) = reallocarray;
	check(re(keep, HUGE_SIZE), &ok);
	check(rea(keep, (size_t)1 << 40, (size_t)1 << 40), &ok);
	void *q = &q;
	int rc = posix_memalign(&q, 64, HUGE_SIZE);
	ok += rc == ENOMEM && q == &q; /* posix_memalign returns the error and leaves *q alone */
	check(aligned_alloc(64, HUGE_SIZE), &ok);
	check(memalign(4096, HUGE_SIZE), &ok);
	check(valloc(HUGE_SIZE), &ok);
	check(pvalloc(HUGE_SIZE), &ok);
	int intact = 1;
	for (int i = 0; i < 64; i++)
		intact &= keep[i] == 'k';
	free(keep);
	say("huge failed_ok=%d of=10 intact=%d\n", ok, intact);
	return ok == 10 && intact ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (readlink("/proc/self/exe", self, sizeof self - 1) <= 0)
		return 2;
	const char *mode = argc > 1 ? argv[1] : "";
	long n = argc > 2 ? atol(argv[2]) : 0;
	if (strcmp(mode, "child") != 0)
		alarm(120);
	if (!strcmp(mode, "churn"))
		return churn(n);
	if (!strcmp(mode, "forkthreads"))
		return forkthreads((int)n);
	if (!strcmp(mode, "forkloop"))
		return forkloop((int)n);
	if (!strcmp(mode, "spawn"))
		return spawn();
	if (!strcmp(mode, "exec"))
		return do_exec();
	if (!strcmp(mode, "child"))
		return child((int)n);
	if (!strcmp(mode, "dlloop"))
		return dlloop((int)n);
	if (!strcmp(mode, "manythreads"))
		return manythreads((int)n);
	if (!strcmp(mode, "huge"))
		return huge();
	say("faults: unknown mode %s\n", mode);
	return 2;
}
