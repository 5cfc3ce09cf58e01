/* busyfork.c: a busy main thread (enough allocations to be given its full-size memos) that
 * allocates three sizes in turn, then forks a child that allocates the last size again: the
 * child's trace starts with tables of its own, so its types must not be the parent's IDs.
 *   busyfork   prints the child's pid */
#include <stdlib.h>
#include <sys/wait.h>

#include "workload.h"

#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")

int main(void)
{
	for (int i = 0; i < 3000; i++) {
		void *p = malloc(1096 - (size_t)(i % 3) * 500); /* 1096, 596, 96 bytes */
		KEEP(p);
		free(p);
	}
	pid_t c = fork();
	if (c == 0) {
		for (int i = 0; i < 10; i++) {
			void *p = malloc(96);
			KEEP(p);
			free(p);
		}
		_exit(0);
	}
	int status;
	if (c < 0 || waitpid(c, &status, 0) != c || !WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	say("child pid=%ld\n", (long)c);
	return 0;
}
