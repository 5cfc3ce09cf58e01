/* fds.c: the descriptor calls, so that the shim's descriptors (the trace file's, the
 * unwinder's pipe) are invisible to the program: to close, close_range, closefrom, dup, dup2,
 * dup3 and fcntl (fcntl64) their numbers are ones not open (EBADF, and closing ranges goes
 * around them), and before the program duplicates onto one the shim moves its descriptor
 * elsewhere, so the program gets exactly the number and the result it gets untraced. The
 * shim's own calls (xt_tl.internal) pass. Calls made past libc (syscall(SYS_close, ...)) are
 * caught by output.c's check before each write instead. These calls also keep the timerfd
 * table (timers.c) in step with the descriptors.
 *
 * Left as they are: /proc/self/fd lists the shim's descriptors; other calls on their numbers
 * (read, write, fstat, lseek, ioctl...) reach them; and a program holding every number below
 * one of them gets the next one above it from open() and the like. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "control.h"
#include "experiment.h"
#include "fds.h"
#include "lifecycle.h"
#include "output.h"
#include "real.h"
#include "thread.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* libunwind keeps a pipe to test whether an address can be read (it writes a byte from there
 * into it). Made while the shim runs its own code (pipe2 below), its ends are moved high and
 * hidden like the trace descriptor. libunwind remembers their numbers: when the program takes
 * one (dup2 onto it), both are closed and remembered as stale, and the unwinder, finding them
 * closed, opens a new pipe. */
static _Atomic int unwinder_pipe[2] = {-1, -1};
static _Atomic int stale_pipe[2] = {-1, -1};

/* A file an experiment keeps open to read again and again (xt_fds_keep), hidden like the rest:
 * opening it afresh each time would take, for a moment, the lowest free number, the one a
 * thread of the program opening a file at the same moment gets untraced. */
static _Atomic int kept = -1;
/* the trace file's, the unwinder's pipe, the kept file, the control channel's (control.h) */
#define XT_SHIM_FDS (4 + XT_CTL_FDS)

int xt_fds_high(int f)
{
	struct rlimit lim;
	long floor = 100;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
		floor = (long)lim.rlim_cur / 2 < 1000 ? (long)lim.rlim_cur / 2 : 1000;
	return xt_real.fcntl(f, F_DUPFD_CLOEXEC, floor);
}

int xt_fds_move_high(int f)
{
	int high = xt_fds_high(f);
	if (high < 0)
		return f;
	xt_real.close(f);
	return high;
}

bool xt_fds_unwinder_stale(int fd)
{
	return fd >= 0 && (fd == atomic_load(&stale_pipe[0]) || fd == atomic_load(&stale_pipe[1]));
}

static bool in_pipe(_Atomic int *pair, int fd)
{
	return fd >= 0 && (fd == atomic_load(&pair[0]) || fd == atomic_load(&pair[1]));
}

int xt_fds_keep(const char *path)
{
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f >= 0)
		f = xt_fds_move_high(f);
	int old = atomic_exchange(&kept, f);
	if (old >= 0)
		xt_real.close(old);
	return f;
}

int xt_fds_kept(void)
{
	return atomic_load_explicit(&kept, memory_order_relaxed);
}

/* shim_fds fills keep with the shim's descriptors, ascending (-1 for none); returns keep. */
static int *shim_fds(int keep[XT_SHIM_FDS])
{
	keep[0] = xt_out_fd();
	keep[1] = atomic_load(&unwinder_pipe[0]);
	keep[2] = atomic_load(&unwinder_pipe[1]);
	keep[3] = atomic_load(&kept);
	xt_ctl_fds(keep + 4);
	for (int i = 1; i < XT_SHIM_FDS; i++)
		for (int j = i; j > 0 && keep[j] < keep[j - 1]; j--) {
			int k = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = k;
		}
	return keep;
}

/* hidden: fd is one of the shim's, and the program is asking. */
static bool hidden(int fd)
{
	return fd >= 0 && !xt_tl.internal &&
	       (fd == xt_out_fd() || in_pipe(unwinder_pipe, fd) || fd == atomic_load(&kept) ||
		xt_ctl_owns(fd));
}

static int not_open(void)
{
	errno = EBADF;
	return -1;
}

/* vacate frees number fd of the shim's descriptor before the program duplicates onto it. */
static void vacate(int fd)
{
	if (fd == xt_out_fd()) {
		xt_out_vacate(fd);
		return;
	}
	if (xt_ctl_owns(fd)) {
		xt_ctl_vacate(fd);
		return;
	}
	if (fd == atomic_load(&kept)) {
		/* the same open file, at another number: no number below the floor taken meanwhile */
		int high = xt_fds_high(fd);
		atomic_store(&kept, high);
		xt_real.close(fd);
		return;
	}
	for (int i = 0; i < 2; i++) {
		int end = atomic_exchange(&unwinder_pipe[i], -1);
		atomic_store(&stale_pipe[i], end);
		if (end >= 0)
			xt_real.close(end);
	}
}

/* as_untraced takes r, the descriptor a call gave that picks the lowest free number at or
 * above min: untraced, the shim's numbers would have been free, and if r lies past one of them
 * the lowest such is what the program would have got. It moves there. */
static int as_untraced(int r, long min, int cloexec)
{
	int keep[XT_SHIM_FDS], want = -1;
	shim_fds(keep);
	for (int i = 0; i < XT_SHIM_FDS && want < 0; i++)
		if (keep[i] >= 0 && keep[i] >= min && keep[i] < r)
			want = keep[i];
	if (want < 0)
		return r;
	vacate(want);
	int e = errno;
	if (xt_real.dup3(r, want, cloexec ? O_CLOEXEC : 0) != want) {
		errno = e;
		return r;
	}
	xt_real.close(r);
	errno = e;
	return want;
}

XT_EXPORT int pipe2(int fds[2], int flags)
{
	xt_ensure_init();
	int r = xt_real.pipe2(fds, flags);
	if (r == 0 && xt_tl.internal) {
		for (int i = 0; i < 2; i++) {
			fds[i] = xt_fds_move_high(fds[i]);
			atomic_store(&unwinder_pipe[i], fds[i]);
		}
	}
	return r;
}

XT_EXPORT int close(int fd)
{
	xt_ensure_init();
	if (xt_unlikely(!xt_real.close)) /* inside dlsym, before the real one is known */
		return (int)syscall(SYS_close, fd);
	if (xt_unlikely(xt_tl.internal)) {
		/* the unwinder closing its pipe to open a new one: a stale number is the program's */
		for (int i = 0; i < 2; i++) {
			int stale = fd;
			if (atomic_compare_exchange_strong(&stale_pipe[i], &stale, -1))
				return not_open();
			int end = fd;
			atomic_compare_exchange_strong(&unwinder_pipe[i], &end, -1);
		}
		return xt_real.close(fd);
	}
	if (xt_unlikely(hidden(fd)))
		return not_open();
	xt_experiments_fds_closing((unsigned)fd, (unsigned)fd, XT_CALLER);
	return xt_real.close(fd);
}

static int real_close_range(unsigned first, unsigned last, int flags)
{
	if (xt_real.close_range)
		return xt_real.close_range(first, last, flags);
	return (int)syscall(SYS_close_range, first, last, flags);
}

/* close_around closes first..last (first <= last, flags valid) but for the shim's
 * descriptors: the ranges between them. */
static int close_around(unsigned first, unsigned last, int flags, void *ra)
{
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		xt_experiments_fds_closing(first, last, ra);
	int keep[XT_SHIM_FDS];
	shim_fds(keep);
	unsigned from = first;
	bool called = false;
	for (int i = 0; i < XT_SHIM_FDS; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < from || (unsigned)keep[i] > last)
			continue;
		if (from < (unsigned)keep[i]) {
			called = true;
			if (real_close_range(from, (unsigned)keep[i] - 1, flags) != 0)
				return -1;
		}
		from = (unsigned)keep[i] + 1;
	}
	if (from <= last)
		return real_close_range(from, last, flags);
	if (!called && (flags & CLOSE_RANGE_UNSHARE))
		return unshare(CLONE_FILES); /* what the call does before closing nothing */
	return 0;
}

/* shim_fd_within: one of the shim's descriptors lies in first..last. */
static bool shim_fd_within(unsigned first, unsigned last)
{
	int keep[XT_SHIM_FDS];
	shim_fds(keep);
	for (int i = 0; i < XT_SHIM_FDS; i++)
		if (keep[i] >= 0 && (unsigned)keep[i] >= first && (unsigned)keep[i] <= last)
			return true;
	return false;
}

XT_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	xt_ensure_init();
	if (first > last || !shim_fd_within(first, last)) {
		if (!(flags & CLOSE_RANGE_CLOEXEC) && first <= last)
			xt_experiments_fds_closing(first, last, XT_CALLER);
		return real_close_range(first, last, flags);
	}
	if ((unsigned)flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) {
		errno = EINVAL;
		return -1;
	}
	return close_around(first, last, flags, XT_CALLER);
}

XT_EXPORT void closefrom(int lowfd)
{
	xt_ensure_init();
	if (lowfd < 0)
		lowfd = 0;
	int keep[XT_SHIM_FDS];
	shim_fds(keep);
	int top = keep[XT_SHIM_FDS - 1];
	if (top >= lowfd) {
		/* glibc's closefrom is close_range to the end, aborting if that cannot be done */
		if (close_around((unsigned)lowfd, ~0U, 0, XT_CALLER) == 0)
			return;
		/* no close_range system call: below the shim's descriptors one by one, above them
		 * by glibc's own way */
		for (int fd = lowfd, k = 0; fd < top; fd++) {
			while (keep[k] < fd)
				k++;
			if (fd != keep[k])
				xt_real.close(fd);
		}
		lowfd = top + 1;
	}
	xt_experiments_fds_closing((unsigned)lowfd, ~0U, XT_CALLER);
	if (xt_real.closefrom)
		xt_real.closefrom(lowfd);
	else
		real_close_range((unsigned)lowfd, ~0U, 0);
}

XT_EXPORT int dup(int fd)
{
	xt_ensure_init();
	if (xt_unlikely(hidden(fd)))
		return not_open();
	int r = as_untraced(xt_real.dup(fd), 0, 0);
	if (r >= 0)
		xt_experiments_fd_copied(fd, r, XT_CALLER);
	return r;
}

XT_EXPORT int dup2(int oldfd, int newfd)
{
	xt_ensure_init();
	if (xt_unlikely(hidden(oldfd)))
		return not_open();
	if (xt_unlikely(hidden(newfd)))
		vacate(newfd);
	int r = xt_real.dup2(oldfd, newfd);
	if (r >= 0 && oldfd != newfd)
		xt_experiments_fd_copied(oldfd, newfd, XT_CALLER);
	return r;
}

XT_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	xt_ensure_init();
	if (xt_unlikely(hidden(oldfd))) {
		/* the kernel checks the flags and the two numbers before the descriptor */
		if ((flags & ~O_CLOEXEC) || oldfd == newfd) {
			errno = EINVAL;
			return -1;
		}
		return not_open();
	}
	if (xt_unlikely(hidden(newfd)) && oldfd != newfd)
		vacate(newfd);
	int r = xt_real.dup3(oldfd, newfd, flags);
	if (r >= 0)
		xt_experiments_fd_copied(oldfd, newfd, XT_CALLER);
	return r;
}

/* fcntl_common is fcntl and fcntl64 (real: which): every command on the trace descriptor
 * finds it not open, and F_DUPFD* gives the number the program would get untraced. */
static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg, void *ra)
{
	if (xt_unlikely(hidden(fd)))
		return not_open();
	int r = real(fd, cmd, arg);
	if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && r >= 0) {
		r = as_untraced(r, (long)arg, cmd == F_DUPFD_CLOEXEC);
		xt_experiments_fd_copied(fd, r, ra);
	}
	return r;
}

/* fcntl's third argument, when it has one, is an int, a long or a pointer: passed on as a
 * pointer-sized word, as glibc reads it. */
XT_EXPORT int fcntl(int fd, int cmd, ...)
{
	xt_ensure_init();
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(xt_real.fcntl, fd, cmd, arg, XT_CALLER);
}

XT_EXPORT int fcntl64(int fd, int cmd, ...)
{
	xt_ensure_init();
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(xt_real.fcntl64 ? xt_real.fcntl64 : xt_real.fcntl, fd, cmd, arg,
			    XT_CALLER);
}
