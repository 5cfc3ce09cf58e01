/* timers_all: every timer and sleep API the Timers experiment records, one phase after another,
 * and its own count of what it saw:
 *   a periodic SIGEV_THREAD timer (its function runs, and allocates),
 *   a periodic SIGEV_SIGNAL timer on SIGUSR1 (timer_gettime, timer_getoverrun while it runs),
 *   a periodic ITIMER_REAL (setitimer, getitimer) with a SIGALRM handler,
 *   alarm set and cancelled, a periodic timerfd read in a loop (timerfd_gettime, then closed
 *   through a dup2'd descriptor), and each sleep.
 * Prints "calls API=N ..." (its own calls) and "fires thread=N signal=N timerfd=N". */
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define PHASE_FIRES 20

static atomic_int thread_fires, usr1_fires, alrm_fires;

static void on_thread_timer(union sigval v)
{
	/* allocates in the callback: the allocation's stack goes through this function */
	char *p = malloc(64);
	memset(p, (int)v.sival_int, 64);
	free(p);
	atomic_fetch_add(&thread_fires, 1);
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	atomic_fetch_add(&usr1_fires, 1);
}

static void on_alrm(int sig)
{
	(void)sig;
	atomic_fetch_add(&alrm_fires, 1);
}

static void wait_for(atomic_int *n, int want)
{
	while (atomic_load(n) < want)
		sched_yield();
}

static const struct itimerspec every_2ms = {{0, 2000000}, {0, 2000000}};
static const struct itimerspec disarm;

int main(void)
{
	int ncreate = 0, nsettime = 0, ngettime = 0, ngetoverrun = 0, ndelete = 0;
	int nsetitimer = 0, ngetitimer = 0, nalarm = 0, nfd_create = 0, nfd_settime = 0;
	int nfd_gettime = 0, nnanosleep = 0, nclock_nanosleep = 0, nusleep = 0, nsleep = 0;
	struct itimerspec cur;

	/* SIGEV_THREAD */
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = on_thread_timer;
	sev.sigev_value.sival_int = 7;
	timer_t tt;
	if (timer_create(CLOCK_MONOTONIC, &sev, &tt) != 0)
		return 1;
	ncreate++;
	timer_settime(tt, 0, &every_2ms, NULL);
	nsettime++;
	wait_for(&thread_fires, PHASE_FIRES);
	timer_delete(tt);
	ndelete++;
	/* a run already started when the timer was deleted finishes within this */
	struct timespec settle = {0, 50000000};
	nanosleep(&settle, NULL);
	nnanosleep++;

	/* SIGEV_SIGNAL */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR1;
	timer_t ts;
	if (timer_create(CLOCK_MONOTONIC, &sev, &ts) != 0)
		return 1;
	ncreate++;
	timer_settime(ts, 0, &every_2ms, NULL);
	nsettime++;
	wait_for(&usr1_fires, PHASE_FIRES / 2);
	timer_gettime(ts, &cur);
	ngettime++;
	timer_getoverrun(ts);
	ngetoverrun++;
	wait_for(&usr1_fires, PHASE_FIRES);
	timer_settime(ts, 0, &disarm, NULL);
	nsettime++;
	timer_delete(ts);
	ndelete++;

	/* ITIMER_REAL */
	signal(SIGALRM, on_alrm);
	struct itimerval iv = {{0, 500}, {0, 500}}, got;
	setitimer(ITIMER_REAL, &iv, NULL);
	nsetitimer++;
	wait_for(&alrm_fires, PHASE_FIRES / 2);
	getitimer(ITIMER_REAL, &got);
	ngetitimer++;
	wait_for(&alrm_fires, PHASE_FIRES);
	struct itimerval off;
	memset(&off, 0, sizeof off);
	setitimer(ITIMER_REAL, &off, NULL);
	nsetitimer++;

	/* alarm, set and cancelled */
	alarm(30);
	nalarm++;
	alarm(0);
	nalarm++;

	/* timerfd */
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (fd < 0)
		return 1;
	nfd_create++;
	timerfd_settime(fd, 0, &every_2ms, NULL);
	nfd_settime++;
	uint64_t fd_fires = 0;
	while (fd_fires < PHASE_FIRES) {
		uint64_t n;
		if (read(fd, &n, sizeof n) == sizeof n)
			fd_fires += n;
	}
	timerfd_gettime(fd, &cur);
	nfd_gettime++;
	int fd2 = dup2(fd, 100);
	close(fd);
	uint64_t n;
	if (read(fd2, &n, sizeof n) == sizeof n)
		fd_fires += n;
	close(fd2);

	/* each sleep */
	struct timespec ms = {0, 1000000};
	nanosleep(&ms, NULL);
	nnanosleep++;
	clock_nanosleep(CLOCK_MONOTONIC, 0, &ms, NULL);
	nclock_nanosleep++;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	now.tv_nsec += 1000000;
	if (now.tv_nsec >= 1000000000) {
		now.tv_sec++;
		now.tv_nsec -= 1000000000;
	}
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, NULL);
	nclock_nanosleep++;
	usleep(1000);
	nusleep++;
	sleep(0);
	nsleep++;

	say("calls timer_create=%d timer_settime=%d timer_gettime=%d timer_getoverrun=%d "
	    "timer_delete=%d setitimer=%d getitimer=%d alarm=%d timerfd_create=%d "
	    "timerfd_settime=%d timerfd_gettime=%d nanosleep=%d clock_nanosleep=%d usleep=%d "
	    "sleep=%d\n", ncreate, nsettime, ngettime, ngetoverrun, ndelete, nsetitimer, ngetitimer,
	    nalarm, nfd_create, nfd_settime, nfd_gettime, nnanosleep, nclock_nanosleep, nusleep,
	    nsleep);
	say("fires thread=%d signal=%d timerfd=%llu\n", atomic_load(&thread_fires),
	    atomic_load(&usr1_fires) + atomic_load(&alrm_fires), (unsigned long long)fd_fires);
	return 0;
}
