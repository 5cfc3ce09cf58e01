/* control.c: the control channel (`xtrace ctl PID start|stop|snapshot|status`), served by the
 * generation thread: it sleeps in poll on the channel's socket and on an eventfd that wakes it,
 * so a request is answered at once and costs the program's threads nothing. No signal is used
 * (the program may own every one).
 *
 * Who may drive it: the socket lies in a directory that must be the user's alone (mode 0700,
 * owned by the effective user, checked before use), the socket itself is mode 0600, and each
 * connection's peer credentials (SO_PEERCRED) must be the same user or root, else the request
 * is refused. The descriptors are high and hidden from the program like the trace descriptor
 * (fds.c); one closed past libc is made again. Cold path throughout: a lock only against the
 * program's dup2 onto a descriptor's number, with every signal blocked while it is held. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "ctlproto.h"
#include "fds.h"
#include "generation.h"
#include "output.h"
#include "real.h"

enum { LISTEN, CONN, WAKE };
static _Atomic int fds[XT_CTL_FDS] = {-1, -1, -1};
static pthread_mutex_t lock = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
/* The socket's path and the process that made it (a fork child's is its own): under the lock,
 * since exit removes it from a thread of the program's. */
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static pid_t sock_pid;
/* Each descriptor's file, from fstat when made: a number closed past libc and taken by the
 * program is never read, accepted on or written to. */
static struct { dev_t dev; ino_t ino; } ids[XT_CTL_FDS];
static _Atomic int ended;    /* exit or exec: no socket, nothing to make again */
static int said;             /* the one line on stderr about a channel that cannot be made */
/* The socket is made a moment after the generation thread starts: a process that ends before
 * (/bin/true, a compiler's passes) makes none and removes none, a file's creation and removal
 * that cost it more than the rest of its tracing's start. The CLI waits for a traced
 * process's socket to appear (reader/cli/ctl.c). The generation thread's alone. */
#define SOCKET_DELAY_NS (100 * 1000000ull)
static uint64_t socket_at; /* CLOCK_MONOTONIC ns; 0: the thread has not waited yet */

/* locked/unlocked bracket a use of the descriptors' numbers: a signal handler's dup2 on this
 * thread must not find the lock held (output.c does the same). */
static sigset_t locked(void)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_mutex_lock(&lock);
	return old;
}

static void unlocked(sigset_t old)
{
	pthread_mutex_unlock(&lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void xt_ctl_fds(int out[XT_CTL_FDS])
{
	for (int i = 0; i < XT_CTL_FDS; i++)
		out[i] = atomic_load_explicit(&fds[i], memory_order_relaxed);
}

bool xt_ctl_owns(int fd)
{
	for (int i = 0; i < XT_CTL_FDS; i++)
		if (fd >= 0 && fd == atomic_load_explicit(&fds[i], memory_order_relaxed))
			return true;
	return false;
}

void xt_ctl_vacate(int fd)
{
	bool take = pthread_mutex_lock(&lock) == 0; /* EDEADLK: this thread holds it */
	for (int i = 0; i < XT_CTL_FDS; i++)
		if (fd >= 0 && atomic_load(&fds[i]) == fd) {
			atomic_store(&fds[i], xt_fds_high(fd)); /* -1 if no room: made again later */
			xt_real.close(fd);
		}
	if (take)
		pthread_mutex_unlock(&lock);
}

/* ours: f is descriptor i's file still. */
static bool ours(int i, int f)
{
	struct stat st;
	return f >= 0 && fstat(f, &st) == 0 && st.st_dev == ids[i].dev && st.st_ino == ids[i].ino;
}

/* adopt makes f descriptor i, moved high (lock held). */
static void adopt_locked(int i, int f)
{
	struct stat st;
	if (fstat(f, &st) != 0) {
		xt_real.close(f);
		return;
	}
	ids[i].dev = st.st_dev;
	ids[i].ino = st.st_ino;
	/* the high copy is hidden before the low number goes, to keep the unhidden moment short */
	int high = xt_fds_high(f);
	atomic_store(&fds[i], high >= 0 ? high : f);
	if (high >= 0)
		xt_real.close(f);
}

static void adopt(int i, int f)
{
	sigset_t old = locked();
	adopt_locked(i, f);
	unlocked(old);
}

/* drop closes descriptor i (the generation thread's own use: under the lock); a number that is
 * no longer its file (closed past the shim, perhaps the program's now) is only forgotten. */
static void drop(int i)
{
	sigset_t old = locked();
	int f = atomic_exchange(&fds[i], -1);
	if (ours(i, f))
		xt_real.close(f);
	unlocked(old);
}

static void say_once(const char *what, const char *why)
{
	if (!said++)
		xt_say("no control channel (xtrace ctl): %s: %s", what, why);
}

/* own_dir makes dir if needed and checks it is a directory of the effective user's alone. */
static bool own_dir(const char *dir)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		say_once(dir, strerror(errno));
		return false;
	}
	struct stat st;
	if (lstat(dir, &st) != 0) {
		say_once(dir, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		say_once(dir, "not a directory of this user's alone (mode 0700)");
		return false;
	}
	return true;
}

/* new_socket makes an unbound socket, hidden at once: a program closing every descriptor
 * meanwhile (a daemon starting) would close it under the calls that set it up. If it closes the
 * new number before it is hidden, the socket is made again. -1 (said once) if it cannot be. */
static int new_socket(void)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		int n = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (n < 0) {
			say_once("socket", strerror(errno));
			return -1;
		}
		struct sockaddr_un got;
		socklen_t gl = sizeof got;
		/* still the unbound socket just made, not a file the program put on its number */
		if (getsockname(n, (struct sockaddr *)&got, &gl) != 0 || got.sun_family != AF_UNIX ||
		    gl != sizeof got.sun_family)
			continue;
		adopt(LISTEN, n);
		int s = atomic_load(&fds[LISTEN]);
		if (s >= 0)
			return s;
	}
	say_once("socket", "closed as it was made");
	return -1;
}

/* make_socket makes this process's socket, listening; false (said once) if it cannot. */
static bool make_socket(void)
{
	const char *dir = xt_config.ctl_dir;
	char path[sizeof sock_path];
	if (!dir[0] || !xt_ctl_sock(path, sizeof path, dir, (long)getpid())) {
		say_once(dir, "path too long");
		return false;
	}
	if (!own_dir(dir))
		return false;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	strcpy(a.sun_path, path);
	bool made = false;
	/* The socket's new high number is hidden only once adopted: a close_range of the
	 * program's between its making and then closes it (EBADF below); it is made again. */
	for (int attempt = 0; !made && attempt < 8; attempt++) {
		int s = new_socket();
		if (s < 0)
			return false;
		/* A socket at this pid's name is an earlier image's (exec) or a dead process's. */
		unlink(path);
		int err = EBADF; /* closed under us, unless a call says otherwise */
		if (ours(LISTEN, s)) {
			if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || chmod(path, 0600) != 0 ||
			    listen(s, 8) != 0)
				err = errno;
			else
				made = ours(LISTEN, s);
		}
		if (!made) {
			drop(LISTEN);
			if (err != EBADF) {
				say_once(path, strerror(err));
				return false;
			}
		}
	}
	if (!made) {
		unlink(path);
		say_once(path, "closed as it was made");
		return false;
	}
	sigset_t old = locked();
	bool live = !atomic_load(&ended); /* the image may have ended meanwhile */
	if (live) {
		strcpy(sock_path, path);
		sock_pid = getpid();
	}
	unlocked(old);
	if (!live) {
		unlink(path);
		drop(LISTEN);
	}
	return live;
}

static void make_wake(void)
{
	int e = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e >= 0)
		adopt(WAKE, e);
}

void xt_ctl_wake(void)
{
	sigset_t old = locked();
	int f = atomic_load(&fds[WAKE]);
	uint64_t one = 1;
	if (ours(WAKE, f)) {
		/* full counter or closed past libc (the thread then makes another): no matter */
		ssize_t w = write(f, &one, sizeof one);
		(void)w;
	}
	unlocked(old);
}

/* The commands. Each writes its answer's text into reply (after the "ok" line). */
static bool cmd_start(char *reply, size_t cap)
{
	bool rec = xt_gen_switch(true);
	snprintf(reply, cap, rec ? "recording\n" : "not recording: the trace has ended\n");
	return rec;
}

static bool cmd_stop(char *reply, size_t cap)
{
	xt_gen_switch(false);
	snprintf(reply, cap, "stopped\n");
	return true;
}

static bool cmd_snapshot(char *reply, size_t cap)
{
	return xt_gen_snapshot(reply, cap);
}

static bool cmd_status(char *reply, size_t cap)
{
	xt_gen_status(reply, cap);
	return true;
}

static const struct {
	const char *name;
	bool (*run)(char *reply, size_t cap);
} commands[] = {
	{"start", cmd_start},
	{"stop", cmd_stop},
	{"snapshot", cmd_snapshot},
	{"status", cmd_status},
};

/* request reads the command line from c, waiting at most about half a second in all. */
static bool request(int c, char *line, size_t cap)
{
	size_t n = 0;
	uint64_t deadline = xt_mono_ns() + 500000000u;
	while (n < cap - 1) {
		uint64_t now = xt_mono_ns();
		struct pollfd p = {c, POLLIN, 0};
		if (now >= deadline || poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
			return false;
		ssize_t r = recv(c, line + n, cap - 1 - n, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return false;
		n += (size_t)r;
		line[n] = 0;
		char *nl = strchr(line, '\n');
		if (nl) {
			*nl = 0;
			return true;
		}
	}
	return false;
}

/* serve answers one connection on c. */
static void serve(int c)
{
	char line[XT_CTL_MAX_LINE], text[1024], out[1100];
	struct ucred cred;
	socklen_t len = sizeof cred;
	bool ok = false;
	/* The request is read even to refuse it: closing on unread bytes would reset the
	 * connection before the client reads why. */
	if (!request(c, line, sizeof line)) {
		return;
	} else if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
		   (cred.uid != geteuid() && cred.uid != 0)) {
		snprintf(text, sizeof text, "refused: only user %lu or root may control process %ld\n",
			 (unsigned long)geteuid(), (long)getpid());
	} else {
		snprintf(text, sizeof text, "unknown command '%s': start, stop, snapshot or status\n",
			 line);
		for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
			if (strcmp(line, commands[i].name) == 0)
				ok = commands[i].run(text, sizeof text);
	}
	int n = snprintf(out, sizeof out, "%s\n%s", ok ? "ok" : "error", text);
	if (n > (int)sizeof out - 1)
		n = (int)sizeof out - 1;
	/* The reply fits the socket's buffer; a client that does not read it loses it. */
	ssize_t w = send(c, out, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)w;
}

static void accept_one(int l)
{
	sigset_t old = locked();
	int c = -1;
	/* not moved meanwhile (dup2 onto its number), nor closed past libc */
	if (atomic_load(&fds[LISTEN]) == l && ours(LISTEN, l))
		c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	unlocked(old);
	if (c < 0)
		return;
	adopt(CONN, c);
	c = atomic_load(&fds[CONN]);
	if (c >= 0)
		serve(c);
	drop(CONN);
}

bool xt_ctl_wait(uint64_t deadline)
{
	if (!ours(WAKE, atomic_load(&fds[WAKE]))) {
		drop(WAKE);
		make_wake();
	}
	sigset_t mask = locked();
	bool live = !atomic_load(&ended) && sock_pid == getpid();
	unlocked(mask);
	uint64_t now = xt_mono_ns();
	if (!socket_at)
		socket_at = now + SOCKET_DELAY_NS;
	bool due = now >= socket_at;
	if (due && !atomic_load(&ended) && (!live || !ours(LISTEN, atomic_load(&fds[LISTEN])))) {
		drop(LISTEN);
		if (!said)
			make_socket();
	}
	struct pollfd p[2] = {{atomic_load(&fds[WAKE]), POLLIN, 0},
			      {atomic_load(&ended) ? -1 : atomic_load(&fds[LISTEN]), POLLIN, 0}};
	if (!due && deadline > socket_at)
		deadline = socket_at;
	/* No wake descriptor: look again every 10 ms instead of being woken. */
	uint64_t until = p[0].fd < 0 && deadline > now + 10000000u ? now + 10000000u : deadline;
	int timeout = until > now ? (int)((until - now + 999999u) / 1000000u) : 0;
	if (poll(p, 2, timeout) <= 0)
		return false;
	bool woken = false;
	if (p[0].revents & POLLIN) {
		sigset_t old = locked();
		uint64_t v;
		woken = atomic_load(&fds[WAKE]) == p[0].fd && ours(WAKE, p[0].fd) &&
			xt_real.read(p[0].fd, &v, sizeof v) == sizeof v;
		unlocked(old);
	}
	if (p[1].revents & POLLIN)
		accept_one(p[1].fd);
	return woken;
}

void xt_ctl_end(void)
{
	sigset_t old = locked();
	atomic_store(&ended, 1);
	if (sock_pid == getpid() && sock_path[0])
		unlink(sock_path);
	sock_pid = 0;
	unlocked(old);
}

void xt_ctl_resume(void)
{
	atomic_store(&ended, 0);
	xt_ctl_wake();
}

void xt_ctl_fork_child(void)
{
	for (int i = 0; i < XT_CTL_FDS; i++) {
		int f = atomic_exchange(&fds[i], -1);
		if (f >= 0)
			xt_real.close(f);
	}
	lock = (pthread_mutex_t)PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
	sock_pid = 0;
	atomic_store(&ended, 0);
	said = 0;
	socket_at = 0; /* the child's thread makes its socket a moment after it starts */
}
