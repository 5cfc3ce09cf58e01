/* forkchild.c: what a fork child costs its parent.
 *   forkchild N
 * forks N children one after another; each allocates and frees a block and exits. Prints one
 * line "wall_s cpu_s": the medians of the time from fork to the parent's wait returning, and of
 * the child's CPU time (user+sys, from wait4). Traced, each child writes a trace of its own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0;
	if (n <= 0) {
		fprintf(stderr, "usage: forkchild N\n");
		return 2;
	}
	double *wall = malloc((size_t)n * sizeof(double)), *cpu = malloc((size_t)n * sizeof(double));
	if (!wall || !cpu)
		return 2;
	for (int i = 0; i < n; i++) {
		double t0 = now();
		pid_t pid = fork();
		if (pid < 0) {
			perror("forkchild: fork");
			return 1;
		}
		if (pid == 0) {
			free(malloc(64 + (size_t)i));
			exit(0);
		}
		int status;
		struct rusage ru;
		while (wait4(pid, &status, 0, &ru) < 0)
			if (errno != EINTR) {
				perror("forkchild: wait4");
				return 1;
			}
		wall[i] = now() - t0;
		cpu[i] = cpu_of(&ru);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "forkchild: child exited with status %d\n", status);
			return 1;
		}
	}
	printf("%.6f %.6f\n", median(wall, n), median(cpu, n));
	free(wall);
	free(cpu);
	return 0;
}
