/* handlerfirst.c: a thread whose first call the shim records is made by a signal handler that
 * interrupted the allocator while it held its lock (liblockmalloc.so, which this program adds
 * to LD_PRELOAD, after what is there, by running itself again). The handler calls getitimer;
 * then the thread makes 100 allocations of 777 bytes and frees them.
 * Prints the thread's tid and "handled" once the handler has run. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "workload.h"

static void (*signal_next)(void); /* liblockmalloc.so's */
static volatile sig_atomic_t handled;
static long tid;

static void on_usr1(int sig)
{
	(void)sig;
	struct itimerval v;
	getitimer(ITIMER_REAL, &v);
	handled = 1;
}

static void *run(void *arg)
{
	(void)arg;
	tid = workload_tid();
	signal_next();
	void *p = malloc(555);
	void *b[100];
	for (int i = 0; i < 100; i++)
		b[i] = malloc(777);
	for (int i = 0; i < 100; i++)
		free(b[i]);
	free(p);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *pre = getenv("LD_PRELOAD");
	if (!pre || !strstr(pre, "liblockmalloc.so")) {
		char dir[4096], env[8192];
		if (exe_dir(dir, sizeof dir) != 0)
			return 2;
		snprintf(env, sizeof env, "%s%sliblockmalloc.so", pre ? pre : "", pre ? " " : "");
		char *at = env + strlen(pre ? pre : "") + (pre ? 1 : 0);
		memmove(at + strlen(dir), at, strlen(at) + 1);
		memcpy(at, dir, strlen(dir));
		setenv("LD_PRELOAD", env, 1);
		execv("/proc/self/exe", argv);
		return 3;
	}
	(void)argc;
	signal_next = (void (*)(void))dlsym(RTLD_DEFAULT, "lockmalloc_signal_next");
	if (!signal_next)
		return 4;
	signal(SIGUSR1, on_usr1);
	pthread_t t;
	if (start_watchdog(60) != 0 || pthread_create(&t, NULL, run, NULL) != 0)
		return 2;
	pthread_join(t, NULL);
	say("tid=%ld handled=%d\n", tid, (int)handled);
	return handled ? 0 : 1;
}
