/* runtime_exp.c: a program that defines an experiment of its own through include/xtrace.h and
 * emits its events from two threads and from a forked child. Without the shim every definition
 * returns 0 and every emit does nothing; stdout is the same either way. stderr says the IDs
 * (exp=E fill=F evict=V), for the test to find them in the trace.
 *   runtime_exp [N [FORK]]   N fills and N evictions per thread (default 200), then, unless FORK
 *                            is 0, N / 2 fills in a forked child */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/xtrace.h"

static unsigned exp_id, fill, evict;
static int n = 200;
static char entries[2][64];

static const char *const fill_args[] = {"key_string", "entry_addr", "size_value", "stack"};
static const char *const evict_args[] = {"key_string", "entry_addr", "age_ns"};

/* define defines the experiment and its events, and checks that definitions behave: the same
 * one again returns the same ID, a contradicting one 0. */
static int define(void)
{
	exp_id = xtrace_experiment("Cache", 3);
	fill = xtrace_event(exp_id, "CacheFill", 4, fill_args);
	evict = xtrace_event(exp_id, "CacheEvict", 3, evict_args);
	if (!exp_id)
		return 0; /* untraced */
	static const char *const other[] = {"key_string"};
	static const char *const typed[] = {"t_type"};
	static const char *const unknown[] = {"x_nokind"};
	int bad = 0;
	bad |= xtrace_experiment("Cache", 3) != exp_id;
	bad |= xtrace_event(exp_id, "CacheFill", 4, fill_args) != fill;
	bad |= xtrace_experiment("Cache", 4) != 0;           /* another version */
	bad |= xtrace_experiment("AllocFree", 1) != 0;       /* a built-in experiment's name */
	bad |= xtrace_event(exp_id, "CacheFill", 1, other) != 0; /* other arguments */
	bad |= xtrace_event(exp_id, "Typed", 1, typed) != 0;
	bad |= xtrace_event(exp_id, "Unknown", 1, unknown) != 0;
	bad |= !fill || !evict || fill == evict;
	return bad;
}

static void *worker(void *arg)
{
	int k = (int)(long)arg;
	char key[32];
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof key, "t%d-%d", k, i % 8);
		uintptr_t entry = (uintptr_t)&entries[k][i % 64];
		xtrace_emit(fill, (const uint64_t[]){XTRACE_STR(key), entry, (uint64_t)i, 0});
		xtrace_emit(evict, (const uint64_t[]){XTRACE_STR(key), entry, 1000u * (uint64_t)i});
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		n = atoi(argv[1]);
	int forking = argc > 2 ? atoi(argv[2]) : 1;
	if (define()) {
		fprintf(stderr, "definitions misbehave\n");
		return 3;
	}
	fprintf(stderr, "exp=%u fill=%u evict=%u\n", exp_id, fill, evict);
	pthread_t th[2];
	for (long k = 0; k < 2; k++)
		pthread_create(&th[k], NULL, worker, (void *)k);
	for (int k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	fflush(NULL);
	pid_t pid = forking ? fork() : -1;
	if (pid == 0) {
		/* the child keeps the definitions */
		if (exp_id && xtrace_experiment("Cache", 3) != exp_id)
			_exit(4);
		for (int i = 0; i < n / 2; i++)
			xtrace_emit(fill, (const uint64_t[]){XTRACE_STR("child"), (uintptr_t)&n,
							     (uint64_t)i, 0});
		_exit(0);
	}
	int st = 0;
	if (pid > 0)
		waitpid(pid, &st, 0);
	printf("threads 2 events %d child status %d\n", 4 * n, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
