/* rawclone.c: a child made by a system call that runs no fork handlers, allocating while its
 * parent does, so a test can check that each process's trace holds exactly its own events.
 *   rawclone HOW END
 * HOW: sysfork (syscall(SYS_fork)), sysclone (syscall(SYS_clone, SIGCHLD, 0, ...)), clone3
 * (the clone3 system call with a struct clone_args), or vm (glibc's clone() with CLONE_VM |
 * CLONE_VFORK on a stack of its own: the child shares the parent's memory, heap included, and
 * runs while the parent waits). END: how the child ends: _exit, exit, or return (vm only: the
 * child function returns and clone() ends the child).
 * The parent allocates PARENT_KEPT blocks and PARENT_ROUNDS rounds of ROUND blocks (freed at
 * once) before the child exists, so events of its are buffered when the child is made; the
 * child does CHILD_ROUNDS rounds of its own and frees one block it inherited; the parent waits,
 * does PARENT_ROUNDS more rounds and frees the rest. */
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "workload.h"

#define PARENT_KEPT 10
#define PARENT_ROUNDS 5
#define CHILD_ROUNDS 12
#define ROUND 1000

static void *kept[PARENT_KEPT];

static void rounds(int n, size_t size)
{
	static void *b[ROUND];
	for (int r = 0; r < n; r++) {
		for (int i = 0; i < ROUND; i++)
			b[i] = malloc(size);
		for (int i = 0; i < ROUND; i++)
			free(b[i]);
	}
}

static const char *end_how;

/* child_work: the child's allocations (ROUND * CHILD_ROUNDS, all freed) and its free of the
 * parent's first block; then it ends as END says. */
static int child_work(void *arg)
{
	(void)arg;
	rounds(CHILD_ROUNDS, 48);
	free(kept[0]);
	if (!strcmp(end_how, "exit"))
		exit(0);
	if (!strcmp(end_how, "_exit"))
		_exit(0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *how = argv[1];
	end_how = argv[2];
	for (int i = 0; i < PARENT_KEPT; i++)
		kept[i] = malloc(100);
	rounds(PARENT_ROUNDS, 24);

	long pid;
	if (!strcmp(how, "sysfork")) {
		pid = syscall(SYS_fork);
	} else if (!strcmp(how, "sysclone")) {
		pid = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	} else if (!strcmp(how, "clone3")) {
		struct clone_args ca;
		memset(&ca, 0, sizeof ca);
		ca.exit_signal = SIGCHLD;
		pid = syscall(SYS_clone3, &ca, sizeof ca);
	} else if (!strcmp(how, "vm")) {
		static char stack[256 << 10] __attribute__((aligned(16)));
		pid = clone(child_work, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	} else {
		return 2;
	}
	if (pid < 0)
		return 3;
	if (pid == 0)
		return child_work(NULL) + 100; /* child_work ends the child before this */

	int st;
	if (waitpid((pid_t)pid, &st, 0) != (pid_t)pid)
		return 4;
	rounds(PARENT_ROUNDS, 24);
	/* a vm child's free of kept[0] freed the parent's block: it is the parent's heap */
	for (int i = !strcmp(how, "vm"); i < PARENT_KEPT; i++)
		free(kept[i]);
	say("pids parent=%ld child=%ld\n", (long)getpid(), pid);
	say("child status=%d parent_allocs=%d child_allocs=%d\n", st,
	    PARENT_KEPT + 2 * PARENT_ROUNDS * ROUND, CHILD_ROUNDS * ROUND);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 5;
}
