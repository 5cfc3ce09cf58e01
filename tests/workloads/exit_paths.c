/* exit_paths.c: leaves the program by one of several paths after a known set of allocations,
 * so a test can check that each path still leaves a complete trace and an unchanged status.
 *   exit_paths MODE   MODE: return (status 3), exit (4), _exit (5), _Exit (6),
 *                     thread (a thread allocates and leaves with pthread_exit; status 7),
 *                     abort (SIGABRT), sigterm (SIGTERM, default action), segv (a store
 *                     through a null pointer: SIGSEGV)
 * Main always makes MAIN_ALLOCS allocations of 512 bytes and frees MAIN_FREES of them. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define MAIN_ALLOCS 10
#define MAIN_FREES 4
#define THREAD_ALLOCS 8
#define THREAD_FREES 3

static void *kept[MAIN_ALLOCS + THREAD_ALLOCS];
static long thread_tid;

__attribute__((noinline)) static void leave_thread(void)
{
	pthread_exit(NULL); /* from a nested frame: the thread never returns to its start routine */
}

static void *early(void *arg)
{
	thread_tid = workload_tid();
	void *b[THREAD_ALLOCS];
	for (int i = 0; i < THREAD_ALLOCS; i++)
		b[i] = malloc(256);
	for (int i = 0; i < THREAD_FREES; i++)
		free(b[i]);
	for (int i = THREAD_FREES; i < THREAD_ALLOCS; i++)
		kept[MAIN_ALLOCS + i] = b[i];
	leave_thread();
	return arg;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "return";
	if (strcmp(mode, "thread") == 0) {
		pthread_t t;
		if (pthread_create(&t, NULL, early, NULL) != 0)
			return 2;
		pthread_join(t, NULL);
		say("thread tid=%ld allocs=%d frees=%d\n", thread_tid, THREAD_ALLOCS, THREAD_FREES);
	}
	for (int i = 0; i < MAIN_ALLOCS; i++)
		kept[i] = malloc(512);
	for (int i = 0; i < MAIN_FREES; i++)
		free(kept[i]);
	say("mode=%s main_tid=%ld allocs=%d frees=%d\n", mode, workload_tid(), MAIN_ALLOCS,
	    MAIN_FREES);

	if (strcmp(mode, "return") == 0)
		return 3;
	if (strcmp(mode, "exit") == 0)
		exit(4);
	if (strcmp(mode, "_exit") == 0)
		_exit(5);
	if (strcmp(mode, "_Exit") == 0)
		_Exit(6);
	if (strcmp(mode, "thread") == 0)
		return 7;
	if (strcmp(mode, "abort") == 0)
		abort();
	if (strcmp(mode, "segv") == 0) {
		int *volatile nowhere = NULL;
		*nowhere = 1;
	}
	if (strcmp(mode, "sigterm") == 0) {
		signal(SIGTERM, SIG_DFL);
		raise(SIGTERM);
	}
	say("exit_paths: unknown mode %s\n", mode);
	return 2;
}
