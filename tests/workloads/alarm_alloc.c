/* alarm_alloc [N]: a SIGALRM handler that allocates, fired by ITIMER_REAL every 100us, while the
 * main thread allocates and frees in a tight loop N times (default 2000000): handler events
 * interrupt the thread's own events at every point of the shim. Main and handler use different
 * size classes and free at once, so glibc serves both from the thread cache without a lock and
 * the program itself stays correct. Prints "loop=N handler_allocs=M". */
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "workload.h"

static atomic_ulong handler_allocs;

static void on_alrm(int sig)
{
	(void)sig;
	char *p = malloc(200);
	p[0] = 1;
	free(p);
	atomic_fetch_add(&handler_allocs, 1);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
	free(malloc(200)); /* the handler's size class is in the thread cache from here on */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alrm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval iv = {{0, 100}, {0, 100}};
	setitimer(ITIMER_REAL, &iv, NULL);
	for (unsigned long i = 0; i < n; i++) {
		volatile char *p = malloc(24);
		p[0] = (char)i;
		free((void *)p);
	}
	struct itimerval off;
	memset(&off, 0, sizeof off);
	setitimer(ITIMER_REAL, &off, NULL);
	say("loop=%lu handler_allocs=%lu\n", n, atomic_load(&handler_allocs));
	return 0;
}
