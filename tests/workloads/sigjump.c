/* sigjump.c: a signal handler that leaves the shim with siglongjmp. Thread B allocates and frees
 * in a loop while a pinger thread sends it SIGUSR1 every 20 us; the handler jumps back into B's
 * loop when the signal interrupted code of libxtrace.so (never libc's: a jump out of malloc
 * would leave its lock held), J times. Then B makes 1000 allocations of 999 bytes and frees
 * them, jumps once more the same way and blocks for good from there, most likely with a
 * section of the shim left open; main waits 300 ms, makes 1000 of 4321 bytes, frees them and
 * exits.
 * Untraced, no jump happens.
 *   sigjump J
 * Prints the tids and the jumps taken. */
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "workload.h"

static uintptr_t shim_lo, shim_hi; /* libxtrace.so's code */
static sigjmp_buf env;
/* shared with the handler and the pinger */
static _Atomic int jumping, stop_pinger;
static _Atomic long jumps, max_jumps, b_tid;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int b_done;

static int find_shim(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size, (void)arg;
	if (!info->dlpi_name || !strstr(info->dlpi_name, "libxtrace"))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			shim_lo = info->dlpi_addr + ph->p_vaddr;
			shim_hi = shim_lo + ph->p_memsz;
		}
	}
	return 1;
}

static void on_usr1(int sig, siginfo_t *si, void *ucv)
{
	(void)sig, (void)si;
	ucontext_t *uc = ucv;
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	if (jumping && pc >= shim_lo && pc < shim_hi && jumps < max_jumps) {
		jumps++;
		siglongjmp(env, 1);
	}
}

static void raw_sleep_us(long us)
{
	struct timespec d = {0, us * 1000};
	syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &d, NULL);
}

static void *pinger(void *arg)
{
	pthread_t b = *(pthread_t *)arg;
	while (!stop_pinger) {
		pthread_kill(b, SIGUSR1);
		raw_sleep_us(20);
	}
	return NULL;
}

static void *run_b(void *arg)
{
	(void)arg;
	b_tid = workload_tid();
	void *volatile p = NULL;
	long rounds = 0;
	sigsetjmp(env, 1);
	jumping = 1;
	/* a cap on the rounds in case the signals never land in the shim (untraced) */
	while (jumps < max_jumps && rounds++ < 2000000) {
		/* no realloc: one left between its real call and its record would make the trace
		 * disagree with the heap, which the program, not the shim, left inconsistent */
		p = malloc(24);
		free(p);
	}
	jumping = 0;
	void *b[1000];
	for (int i = 0; i < 1000; i++)
		b[i] = malloc(999);
	for (int i = 0; i < 1000; i++)
		free(b[i]);
	if (shim_hi && sigsetjmp(env, 1) == 0) {
		max_jumps++;
		jumping = 1;
		for (;;) {
			p = malloc(24);
			free(p);
		}
	}
	jumping = 0;
	stop_pinger = 1;
	pthread_mutex_lock(&lock);
	b_done = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	for (;;)
		syscall(SYS_pause); /* blocks outside the shim until the process exits */
	return NULL;
}

int main(int argc, char **argv)
{
	max_jumps = argc > 1 ? atol(argv[1]) : 100;
	/* a shim that waited for a section left open for good would hang the exit */
	if (start_watchdog(60) != 0)
		return 2;
	dl_iterate_phdr(find_shim, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	pthread_t b, p;
	if (pthread_create(&b, NULL, run_b, NULL) != 0 || pthread_create(&p, NULL, pinger, &b) != 0)
		return 2;
	pthread_mutex_lock(&lock);
	while (!b_done)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	pthread_join(p, NULL);
	/* generations go on while B's section stays open (the test ends one every 20 ms): an
	 * advance gives up waiting for it before the exit's does, however fast the jumps were */
	raw_sleep_us(300000);
	void *m[1000];
	for (int i = 0; i < 1000; i++)
		m[i] = malloc(4321);
	for (int i = 0; i < 1000; i++)
		free(m[i]);
	say("main_tid=%ld b_tid=%ld jumps=%ld\n", workload_tid(), (long)b_tid, (long)jumps);
	exit(0);
}
