/* commanded.c: allocates and frees as told, one command a line on stdin, answering each on
 * stdout once done, so a test can switch recording on and off from outside between them.
 *   alloc N   allocate N blocks of 48 bytes, kept
 *   free      free the blocks kept
 *   fork      fork a child that allocates and frees until the file "child-stop" exists in
 *             the working directory; answers "child PID"
 *   closeall  close every descriptor from 3 up, as a daemon does (close_range, then close)
 *   exit      wait for the child, if any, and exit 0
 * Answers "ok" (or "child PID") to each; "ready" first. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workload.h"

static void *blocks[100000];
static size_t nblocks;

/* get_line reads one line from stdin with read(2) (stdio would allocate); false at the end. */
static int get_line(char *buf, size_t cap)
{
	size_t n = 0;
	while (n < cap - 1) {
		ssize_t r = read(0, buf + n, 1);
		if (r <= 0)
			return 0;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0;
	return 1;
}

static void child_loop(void)
{
	while (access("child-stop", F_OK) != 0) {
		free(malloc(64));
		usleep(2000);
	}
	_exit(0);
}

int main(void)
{
	char line[64];
	pid_t child = 0;
	say("ready\n");
	while (get_line(line, sizeof line)) {
		if (strncmp(line, "alloc ", 6) == 0) {
			for (long n = atol(line + 6); n > 0 && nblocks < 100000; n--)
				blocks[nblocks++] = malloc(48);
			say("ok\n");
		} else if (strcmp(line, "free") == 0) {
			while (nblocks)
				free(blocks[--nblocks]);
			say("ok\n");
		} else if (strcmp(line, "fork") == 0) {
			child = fork();
			if (child == 0)
				child_loop();
			say("child %ld\n", (long)child);
		} else if (strcmp(line, "closeall") == 0) {
			close_range(3u, ~0u, 0);
			for (int fd = 3; fd < 4096; fd++)
				close(fd);
			say("ok\n");
		} else if (strcmp(line, "exit") == 0) {
			break;
		}
	}
	if (child > 0)
		waitpid(child, NULL, 0);
	return 0;
}
