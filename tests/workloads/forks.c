/* forks.c: a parent that allocates, then forks three children: child 0 execs every_api (a
 * sibling binary) with a small N, children 1 and 2 allocate, free one block inherited from the
 * parent, and exit. The parent waits for all of them and frees its own blocks.
 *   forks [EXEC_N]   N passed to every_api (default 3)
 * Printed lines name each pid and what it did, so a test can match trace files to processes. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "workload.h"

#define PARENT_BEFORE 7 /* parent allocations before the forks */
#define PARENT_AFTER 5  /* parent allocations after the children ended */

static void child_work(int k, void *inherited)
{
	/* child k does 10*k allocations of 300+k bytes and frees all of them, plus the inherited
	 * block: that free has no allocation in the child's own trace */
	int count = 10 * k;
	void *blocks[32];
	for (int i = 0; i < count; i++)
		blocks[i] = malloc(300 + (size_t)k);
	for (int i = 0; i < count; i++)
		free(blocks[i]);
	say("child %d pid=%ld allocs=%d frees=%d inherited_free=%p\n", k, (long)getpid(), count,
	    count, inherited);
	free(inherited);
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *exec_n = argc > 1 ? argv[1] : "3";
	char dir[4096], path[4200];
	if (exe_dir(dir, sizeof dir) != 0)
		return 2;
	snprintf(path, sizeof path, "%severy_api", dir);

	void *mine[PARENT_BEFORE];
	for (int i = 0; i < PARENT_BEFORE; i++)
		mine[i] = malloc(200);
	say("parent pid=%ld\n", (long)getpid());

	pid_t kids[3];
	for (int k = 0; k < 3; k++) {
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0) {
			if (k == 0) {
				char *const av[] = { "every_api", (char *)exec_n, NULL };
				execv(path, av);
				_exit(127);
			}
			child_work(k, mine[k]);
		}
		kids[k] = pid;
	}
	int failed = 0;
	for (int k = 0; k < 3; k++) {
		int st;
		if (waitpid(kids[k], &st, 0) != kids[k] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
		say("child %d pid=%ld status=%d\n", k, (long)kids[k], st);
	}
	void *after[PARENT_AFTER];
	for (int i = 0; i < PARENT_AFTER; i++)
		after[i] = malloc(400);
	for (int i = 0; i < PARENT_AFTER; i++)
		free(after[i]);
	for (int i = 0; i < PARENT_BEFORE; i++)
		free(mine[i]);
	say("parent allocs=%d frees=%d failed_children=%d\n", PARENT_BEFORE + PARENT_AFTER,
	    PARENT_BEFORE + PARENT_AFTER, failed);
	return failed ? 1 : 0;
}
