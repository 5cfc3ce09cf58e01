/* fds.c: a program that does to its descriptors what daemons and careful programs do, between
 * known allocations, so a test can check that the trace survives and that the program sees
 * exactly what it sees untraced.
 *   fds MODE DATAFILE [ARG]
 * MODE (every descriptor below means every one from 3 to 1023):
 *   close-loop    close() every descriptor
 *   close-range   close_range(3, ~0U, FLAGS), ARG: 0 (default), cloexec or unshare
 *   closefrom     closefrom(3)
 *   dup2-all      dup2() DATAFILE onto every descriptor, then write 9 bytes to it
 *   dup3-all      the same with dup3(..., O_CLOEXEC)
 *   dupfd-all     fcntl(F_DUPFD) DATAFILE from every descriptor up, then write 9 bytes to it
 *   dup2-signal   dup2() DATAFILE, opened for reading and writing, onto every descriptor, then
 *                 allocate in a handler on an alternate signal stack (where stacks are taken
 *                 by libunwind, which tests addresses through a pipe of its own), count the
 *                 descriptors still open and write 9 bytes
 *   raw-close     chdir("/"), then the close system call on every descriptor, past libc
 *   raw-dup2      the dup2 system call of DATAFILE onto every descriptor, past libc, then write
 *                 9 bytes to it
 *   probe         report which descriptors up to 1023 the program finds open (fcntl F_GETFD)
 *                 and what closing, querying and duplicating each of them answers
 *   exec-probe    exec this program in probe mode (what does an exec'd image inherit?)
 *   daemon        fork; the child calls setsid, chdir("/"), close_range(0, ~0U, 0), opens
 *                 /dev/null as 0, 1 and 2, opens DATAFILE (descriptor 3), allocates and writes
 *                 its counts into DATAFILE; the parent waits for it
 * Every mode but the probes allocates BEFORE blocks, does its descriptor work, then ROUNDS rounds
 * of PER allocations and frees with short sleeps between them (generations pass meanwhile),
 * frees the first blocks and prints its counts. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define BEFORE 100
#define ROUNDS 20
#define PER 1000
#define TOP 1023

static void *kept[BEFORE];

static void allocate_before(void)
{
	for (int i = 0; i < BEFORE; i++)
		kept[i] = malloc(64);
}

/* allocate_after: ROUNDS rounds of PER allocations freed at once, 2 ms apart (several full
 * buffers and, with a short XTRACE_GEN_MS, several generations), then the kept blocks' frees. */
static void allocate_after(void)
{
	static void *b[PER];
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < PER; i++)
			b[i] = malloc(32 + (size_t)i % 64);
		for (int i = 0; i < PER; i++)
			free(b[i]);
		struct timespec ms = { 0, 2000000 };
		nanosleep(&ms, NULL);
	}
	for (int i = 0; i < BEFORE; i++)
		free(kept[i]);
}

static int open_data(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
}

/* probe prints a digest of what the program finds at every descriptor up to TOP: open or not,
 * and what fcntl, close of a closed number, dup2 and F_DUPFD onto it answer. */
static int probe(void)
{
	unsigned long open_sum = 0;
	int nopen = 0, bad_getfl = 0, bad_close = 0, dup_moved = 0;
	for (int fd = 0; fd <= TOP; fd++) {
		errno = 0;
		if (fcntl(fd, F_GETFD) >= 0) {
			nopen++;
			open_sum += (unsigned long)fd;
			continue;
		}
		bad_getfl += fcntl(fd, F_GETFL) < 0 && errno == EBADF;
		bad_close += close(fd) < 0 && errno == EBADF;
	}
	/* every closed number in turn: dup2 and F_DUPFD onto it give exactly that number */
	for (int fd = 3; fd <= TOP; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int d = dup2(1, fd);
		dup_moved += d != fd;
		close(d);
		d = fcntl(1, F_DUPFD_CLOEXEC, fd);
		dup_moved += d != fd;
		close(d);
	}
	say("probe open=%d sum=%lu ebadf_getfl=%d ebadf_close=%d dup_elsewhere=%d\n", nopen, open_sum,
	    bad_getfl, bad_close, dup_moved);
	return 0;
}

/* fill_with duplicates data onto every descriptor from 3 to TOP by how (dup2, dup3 or F_DUPFD);
 * returns how many did not land on the number asked for. */
static int fill_with(int data, const char *how)
{
	int missed = 0;
	for (int fd = 3; fd <= TOP; fd++) {
		if (fd == data)
			continue;
		int r;
		if (!strcmp(how, "dup2"))
			r = dup2(data, fd);
		else if (!strcmp(how, "dup3"))
			r = dup3(data, fd, O_CLOEXEC);
		else if (!strcmp(how, "dupfd"))
			r = fcntl(data, F_DUPFD, fd);
		else
			r = (int)syscall(SYS_dup2, data, fd);
		missed += r != fd;
	}
	return missed;
}

static void *in_handler[10];

static void on_usr1(int sig)
{
	(void)sig;
	for (int i = 0; i < 10; i++)
		in_handler[i] = malloc(16);
	for (int i = 0; i < 10; i++)
		free(in_handler[i]);
}

/* allocate_on_signal_stack raises a signal whose handler allocates on an alternate stack. */
static int allocate_on_signal_stack(void)
{
	static char altstack[1 << 16];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_ONSTACK;
	if (sigaltstack(&ss, NULL) != 0 || sigaction(SIGUSR1, &sa, NULL) != 0)
		return -1;
	return raise(SIGUSR1);
}

static int write_nine(int fd)
{
	return write(fd, "123456789", 9) == 9 ? 0 : 1;
}

static int daemon_child(const char *data_path)
{
	if (setsid() < 0 || chdir("/") != 0)
		_exit(10);
	if (close_range(0, ~0U, 0) != 0)
		_exit(12);
	for (int fd = 0; fd < 3; fd++)
		if (open("/dev/null", O_RDWR) != fd)
			_exit(13);
	int data = open_data(data_path);
	if (data != 3)
		_exit(14);
	allocate_before();
	allocate_after();
	char line[128];
	int n = snprintf(line, sizeof line, "daemon allocs=%d frees=%d\n", BEFORE + ROUNDS * PER,
			 BEFORE + ROUNDS * PER);
	if (write(data, line, (size_t)n) != n)
		_exit(15);
	exit(0);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *mode = argv[1], *data_path = argv[2], *arg = argc > 3 ? argv[3] : "0";
	if (!strcmp(mode, "probe"))
		return probe();
	if (!strcmp(mode, "exec-probe")) {
		execl("/proc/self/exe", "fds", "probe", data_path, (char *)NULL);
		return 127;
	}
	if (!strcmp(mode, "daemon")) {
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0)
			daemon_child(data_path);
		int st;
		if (waitpid(pid, &st, 0) != pid)
			return 2;
		say("daemon status=%d\n", st);
		return 0;
	}

	allocate_before();
	struct timespec pause = { 0, 30000000 }; /* a generation or more of the program before */
	nanosleep(&pause, NULL);
	int rc = 0, missed = 0;
	if (!strcmp(mode, "close-loop")) {
		for (int fd = 3; fd <= TOP; fd++)
			close(fd);
	} else if (!strcmp(mode, "close-range")) {
		unsigned flags = !strcmp(arg, "cloexec")   ? CLOSE_RANGE_CLOEXEC
				 : !strcmp(arg, "unshare") ? CLOSE_RANGE_UNSHARE
							   : 0;
		rc = close_range(3, ~0U, flags);
	} else if (!strcmp(mode, "closefrom")) {
		closefrom(3);
	} else if (!strcmp(mode, "raw-close")) {
		rc = chdir("/");
		for (int fd = 3; fd <= TOP; fd++)
			syscall(SYS_close, fd);
	} else if (!strcmp(mode, "dup2-signal")) {
		int data = open(data_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (data < 0)
			return 2;
		missed = fill_with(data, "dup2");
		rc = allocate_on_signal_stack();
		for (int fd = 3; fd <= TOP; fd++)
			missed += fcntl(fd, F_GETFD) < 0;
		rc |= write_nine(data);
	} else if (!strncmp(mode, "dup", 3) || !strcmp(mode, "raw-dup2")) {
		int data = open_data(data_path);
		if (data < 0)
			return 2;
		char how[8];
		snprintf(how, sizeof how, "%.*s", (int)(strcspn(mode, "-")), mode);
		missed = fill_with(data, how);
		rc = write_nine(data);
	} else {
		return 2;
	}
	allocate_after();
	say("mode=%s rc=%d missed=%d allocs=%d frees=%d\n", mode, rc, missed, BEFORE + ROUNDS * PER,
	    BEFORE + ROUNDS * PER);
	return 0;
}
