/* syscall_policy.c: a program under a seccomp policy written for what glibc does: the filter
 * kills the process on each system call that glibc has replaced by a newer one (nanosleep by
 * clock_nanosleep, open by openat, stat and lstat by newfstatat, getrlimit by prlimit64, tkill
 * by tgkill) and allows the rest. A preloaded library that makes only the calls glibc makes
 * runs under it as the program does.
 *   syscall_policy         installs the filter (PR_SET_SECCOMP), then execs "syscall_policy
 *                          work": the new image starts under it, its preloaded libraries too
 *   syscall_policy work    allocates, starts a thread that allocates, sleeps 5 x 40 ms
 *                          (usleep, nanosleep, clock_nanosleep), frees, prints and exits 0 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "workload.h"

static const int refused[] = {SYS_nanosleep, SYS_open, SYS_stat, SYS_lstat, SYS_getrlimit,
			      SYS_tkill};
#define NREFUSED (sizeof refused / sizeof refused[0])

static int install_filter(void)
{
	struct sock_filter f[4 + 2 * NREFUSED + 1];
	size_t n = 0;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < NREFUSED; i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)refused[i],
						      0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = {(unsigned short)n, f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void *worker(void *arg)
{
	void *b[4];
	for (int i = 0; i < 4; i++)
		b[i] = malloc(64);
	for (int i = 0; i < 4; i++)
		free(b[i]);
	return arg;
}

static int work(void)
{
	void *b[6];
	for (int i = 0; i < 6; i++)
		b[i] = malloc(128);
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0 || pthread_join(t, NULL) != 0)
		return 2;
	struct timespec d = {0, 40000000};
	usleep(40000);
	nanosleep(&d, NULL);
	clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL);
	usleep(40000);
	nanosleep(&d, NULL);
	for (int i = 0; i < 6; i++)
		free(b[i]);
	say("work allocs=10 frees=10\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "work"))
		return work();
	char dir[4096], self[4200];
	if (exe_dir(dir, sizeof dir) != 0)
		return 2;
	snprintf(self, sizeof self, "%ssyscall_policy", dir);
	if (install_filter() != 0) {
		say("cannot install the seccomp filter\n");
		return 2;
	}
	char *const av[] = {"syscall_policy", "work", NULL};
	execv(self, av);
	return 2;
}
