/* exec_paths.c: replaces its image by one of the exec functions, after a failed call of the
 * same function, so a test can check that each completes the trace before the image goes and
 * that tracing goes on after a failure.
 *   exec_paths MODE   MODE: execve execv execvp execvpe execl execlp execle fexecve execveat
 *                     execveat_fd (AT_EMPTY_PATH). 5 allocations of 300 bytes, 2 freed; the
 *                     failing exec (a missing program, or a descriptor of /dev/null), whose
 *                     errno is printed; 3 more allocations, 1 freed; the exec of
 *                     "exec_paths child" (the p forms find it by PATH, which main points at
 *                     the program's directory).
 *   exec_paths child  4 allocations of 100 bytes, all freed; exits 0 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

extern char **environ;

static char dir[4096], self[4200], missing[4200];
static char *const child_argv[] = {"exec_paths", "child", NULL};

/* path_of is the program an exec by path runs: this one, or a file that does not exist. */
static const char *path_of(int fail)
{
	return fail ? missing : self;
}

static const char *name_of(int fail)
{
	return fail ? "no-such-program" : "exec_paths";
}

/* fd_of opens what an exec by descriptor runs: this program, or /dev/null, which cannot run. */
static int fd_of(int fail, int flags)
{
	return open(fail ? "/dev/null" : self, flags);
}

static void by_execve(int fail) { execve(path_of(fail), child_argv, environ); }
static void by_execv(int fail) { execv(path_of(fail), child_argv); }
static void by_execvp(int fail) { execvp(name_of(fail), child_argv); }
static void by_execvpe(int fail) { execvpe(name_of(fail), child_argv, environ); }
static void by_execl(int fail) { execl(path_of(fail), "exec_paths", "child", (char *)NULL); }
static void by_execlp(int fail) { execlp(name_of(fail), "exec_paths", "child", (char *)NULL); }

static void by_execle(int fail)
{
	execle(path_of(fail), "exec_paths", "child", (char *)NULL, environ);
}

static void by_fexecve(int fail)
{
	int fd = fd_of(fail, O_RDONLY);
	fexecve(fd, child_argv, environ);
	int e = errno;
	close(fd);
	errno = e;
}

static void by_execveat(int fail)
{
	int d = open(dir, O_PATH | O_DIRECTORY);
	execveat(d, name_of(fail), child_argv, environ, 0);
	int e = errno;
	close(d);
	errno = e;
}

static void by_execveat_fd(int fail)
{
	int fd = fd_of(fail, O_PATH);
	execveat(fd, "", child_argv, environ, AT_EMPTY_PATH);
	int e = errno;
	close(fd);
	errno = e;
}

static const struct mode {
	const char *name;
	void (*exec)(int fail);
} modes[] = {
	{"execve", by_execve},   {"execv", by_execv},     {"execvp", by_execvp},
	{"execvpe", by_execvpe}, {"execl", by_execl},     {"execlp", by_execlp},
	{"execle", by_execle},   {"fexecve", by_fexecve}, {"execveat", by_execveat},
	{"execveat_fd", by_execveat_fd},
};

static int child(void)
{
	void *b[4];
	for (int i = 0; i < 4; i++)
		b[i] = malloc(100);
	for (int i = 0; i < 4; i++)
		free(b[i]);
	say("child allocs=4 frees=4\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "child"))
		return child();
	if (exe_dir(dir, sizeof dir) != 0)
		return 2;
	snprintf(self, sizeof self, "%sexec_paths", dir);
	snprintf(missing, sizeof missing, "%sno-such-program", dir);
	setenv("PATH", dir, 1);
	for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
		if (strcmp(mode, modes[m].name) != 0)
			continue;
		void *b[8];
		for (int i = 0; i < 5; i++)
			b[i] = malloc(300);
		for (int i = 0; i < 2; i++)
			free(b[i]);
		errno = 0;
		modes[m].exec(1);
		say("%s failed errno=%d\n", mode, errno);
		for (int i = 5; i < 8; i++)
			b[i] = malloc(300);
		free(b[5]);
		modes[m].exec(0);
		say("%s failed again errno=%d\n", mode, errno);
		return 2;
	}
	say("exec_paths: unknown mode %s\n", mode);
	return 2;
}
