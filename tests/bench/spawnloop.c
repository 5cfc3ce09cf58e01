/* spawnloop.c: the start-up cost of an environment (a preloaded shim, say) on a short command.
 *   spawnloop N [NAME=VALUE...] -- COMMAND [ARGS...]
 * runs COMMAND 2N times, alternately as is and with the assignments added to its environment
 * (alternating, so a change in the machine's load falls on both alike), and prints one line
 * "wall_plain_s wall_with_s cpu_plain_s cpu_with_s": the medians of each run's wall time (fork
 * to wait) and CPU time (user+sys, from wait4). COMMAND's output goes to /dev/null; any run that
 * does not exit 0 is an error. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

/* run runs the command once, with the assignments when with is set; false if it failed. */
static bool run(char **assign, int nassign, char **cmd, int with, double *wall, double *cpu)
{
	double t0 = now();
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 1);
		for (int i = 0; with && i < nassign; i++)
			putenv(assign[i]);
		execvp(cmd[0], cmd);
		fprintf(stderr, "spawnloop: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return false;
	*wall = now() - t0;
	*cpu = cpu_of(&ru);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "spawnloop: %s exited with status %d\n", cmd[0], status);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0, a = 2;
	while (a < argc && strcmp(argv[a], "--") != 0)
		a++;
	if (n <= 0 || a + 1 >= argc) {
		fprintf(stderr, "usage: spawnloop N [NAME=VALUE...] -- COMMAND [ARGS...]\n");
		return 2;
	}
	double *wall[2], *cpu[2];
	for (int w = 0; w < 2; w++) {
		wall[w] = calloc((size_t)n, sizeof(double));
		cpu[w] = calloc((size_t)n, sizeof(double));
		if (!wall[w] || !cpu[w])
			return 2;
	}
	for (int i = 0; i < n; i++)
		for (int w = 0; w < 2; w++)
			if (!run(argv + 2, a - 2, argv + a + 1, w, &wall[w][i], &cpu[w][i]))
				return 1;
	printf("%.6f %.6f %.6f %.6f\n", median(wall[0], n), median(wall[1], n), median(cpu[0], n),
	       median(cpu[1], n));
	return 0;
}
