/* ctl.c: `xtrace ctl PID start|stop|snapshot|status`: one request on the control channel of a
 * traced process (experiments/ctlproto.h), its answer printed. The socket is looked for where
 * that process puts it: under its XDG_RUNTIME_DIR (read from /proc/PID/environ, which only the
 * same user or root may read), else under /tmp/xtrace-<its effective uid>. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "ctlproto.h"

/* read_proc reads up to cap - 1 bytes of /proc/pid/name, NUL-terminated; -1 if unreadable. */
static ssize_t read_proc(long pid, const char *name, char *buf, size_t cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/%s", pid, name);
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	size_t n = 0;
	for (ssize_t r; n < cap - 1 && (r = read(f, buf + n, cap - 1 - n)) != 0; n += (size_t)r)
		if (r < 0) {
			close(f);
			return -1;
		}
	close(f);
	buf[n] = 0;
	return (ssize_t)n;
}

/* runtime_dir finds pid's XDG_RUNTIME_DIR in its environment (NULL if none or unreadable). */
static const char *runtime_dir(long pid, char *env, size_t cap)
{
	ssize_t n = read_proc(pid, "environ", env, cap);
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(env + i) + 1)
		if (strncmp(env + i, "XDG_RUNTIME_DIR=", 16) == 0)
			return env + i + 16;
	return NULL;
}

/* effective_uid is pid's effective user ID (the Uid line's second field); -1 if unknown. */
static long effective_uid(long pid)
{
	char st[4096];
	if (read_proc(pid, "status", st, sizeof st) < 0)
		return -1;
	const char *u = strstr(st, "\nUid:");
	unsigned long real, eff;
	return u && sscanf(u + 5, "%lu %lu", &real, &eff) == 2 ? (long)eff : -1;
}

/* traced: pid has the tracing library loaded (its maps are readable to the same user or root,
 * those who may control it). */
static int traced(long pid)
{
	char path[64], line[4096];
	snprintf(path, sizeof path, "/proc/%ld/maps", pid);
	FILE *f = fopen(path, "re");
	int found = 0;
	while (f && !found && fgets(line, sizeof line, f))
		found = strstr(line, "/libxtrace") != NULL;
	if (f)
		fclose(f);
	return found;
}

/* connect_to connects to the socket at path; -1 (errno set) if it cannot. */
static int connect_to(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof a.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(a.sun_path, path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
		int e = errno;
		close(s);
		errno = e;
		return -1;
	}
	return s;
}

int cmd_ctl(int argc, char **argv, const struct xt_command *cmd)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return cli_help(cmd);
	if (argc != 3)
		return cli_usage_error(cmd, "expected PID and a command");
	char *end;
	long pid = strtol(argv[1], &end, 10);
	if (*end || pid <= 0)
		return cli_usage_error(cmd, "'%s' is not a process ID", argv[1]);
	const char *what = argv[2];
	if (strcmp(what, "start") && strcmp(what, "stop") && strcmp(what, "snapshot") &&
	    strcmp(what, "status"))
		return cli_usage_error(cmd, "unknown command '%s'", what);

	char env[65536], dir[4096], path[4096];
	const char *xdg = runtime_dir(pid, env, sizeof env);
	long uid = effective_uid(pid);
	if (uid < 0) {
		cli_warn("no process %ld", pid);
		return XT_EXIT_FAIL;
	}
	/* Where the process put it: under its XDG_RUNTIME_DIR if it has one, else the fallback.
	 * The shim's thread makes it just after the process starts: a traced process is given
	 * a moment to. */
	int s = -1, err = ENOENT;
	for (int tries = traced(pid) ? 100 : 1; s < 0 && err == ENOENT && tries > 0; tries--) {
		for (int i = 0; i < 2 && s < 0; i++) {
			if (!xt_ctl_dir(dir, sizeof dir, i == 0 ? xdg : NULL, (unsigned long)uid) ||
			    !xt_ctl_sock(path, sizeof path, dir, pid) || (i == 0 && !xdg))
				continue;
			s = connect_to(path);
			if (s < 0 && errno != ENOENT)
				err = errno;
		}
		if (s < 0 && err == ENOENT && tries > 1)
			usleep(20000);
	}
	if (s < 0) {
		cli_warn("cannot reach process %ld's control socket (%s): %s%s", pid, path,
			 strerror(err),
			 err == ENOENT ? " (is it traced, and running?)"
				       : err == EACCES ? " (only its user or root may control it)" : "");
		return XT_EXIT_FAIL;
	}
	char line[XT_CTL_MAX_LINE];
	int n = snprintf(line, sizeof line, "%s\n", what);
	struct timeval tv = {10, 0}; /* a snapshot writes the generation first */
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	char reply[4096];
	size_t got = 0;
	if (send(s, line, (size_t)n, MSG_NOSIGNAL) == n) {
		for (ssize_t r; got < sizeof reply - 1 && (r = recv(s, reply + got, sizeof reply - 1 - got, 0)) > 0;)
			got += (size_t)r;
	}
	close(s);
	reply[got] = 0;
	char *text = strchr(reply, '\n');
	if (!text) {
		cli_warn("process %ld did not answer", pid);
		return XT_EXIT_FAIL;
	}
	*text++ = 0;
	int ok = strcmp(reply, "ok") == 0;
	fputs(text, ok ? stdout : stderr);
	return ok ? XT_EXIT_OK : XT_EXIT_FAIL;
}
