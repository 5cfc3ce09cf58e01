/* proctree.c: a small process tree with exactly known heap use per process, for `xtrace run`'s
 * run directory. The root allocates 4 x 100 B and frees one, then forks, one after the other:
 *   child A, which allocates 6 x 1000 B, frees 4 and exits 3 (2000 B still live at its end);
 *   child B, which execs this program again ("proctree again"): that image allocates 2 x 5000 B,
 *   frees both and returns 4.
 * The root waits for each before going on, frees its 3 blocks and returns 0 when the children
 * ended as they should. So the tree's largest live heap is the root's 300 B plus the exec'd
 * image's 10,000 B; child A, at 6,000 B, had only the root's 300 B beside it. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "workload.h"

static int again(void)
{
	void *b[2];
	for (int i = 0; i < 2; i++)
		b[i] = malloc(5000);
	for (int i = 0; i < 2; i++)
		free(b[i]);
	say("again pid=%ld\n", (long)getpid());
	return 4;
}

/* wait_for returns the exit status of pid, or -1 when it did not exit. */
static int wait_for(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "again") == 0)
		return again();
	char dir[4096], self[4200];
	if (exe_dir(dir, sizeof dir) != 0)
		return 2;
	snprintf(self, sizeof self, "%sproctree", dir);

	void *mine[4];
	for (int i = 0; i < 4; i++)
		mine[i] = malloc(100);
	free(mine[3]);
	say("root pid=%ld\n", (long)getpid());

	pid_t a = fork();
	if (a < 0)
		return 2;
	if (a == 0) {
		void *b[6];
		for (int i = 0; i < 6; i++)
			b[i] = malloc(1000);
		for (int i = 0; i < 4; i++)
			free(b[i]);
		say("child a pid=%ld\n", (long)getpid());
		exit(3);
	}
	int sa = wait_for(a);

	pid_t b = fork();
	if (b < 0)
		return 2;
	if (b == 0) {
		execl(self, "proctree", "again", (char *)NULL);
		_exit(127);
	}
	int sb = wait_for(b);
	for (int i = 0; i < 3; i++)
		free(mine[i]);
	say("root a=%d b=%d\n", sa, sb);
	return sa == 3 && sb == 4 ? 0 : 1;
}
