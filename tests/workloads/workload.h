/* workload.h: output helpers shared by the workload programs.
 * Workloads print with write(2) from a stack buffer rather than stdio: stdio allocates its
 * buffer inside libc on first use, which would add an allocation the program did not ask for
 * and make trace counts depend on libc, and buffered output would be duplicated across fork. */
#ifndef XT_WORKLOAD_H
#define XT_WORKLOAD_H

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* say_to writes the formatted text to descriptor fd: say to stdout, say_err to stderr. */
static void say_to(int fd, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	for (int off = 0; off < n;) {
		ssize_t w = write(fd, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (int)w;
	}
}

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say_to(1, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 1, 2), unused)) static void say_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say_to(2, fmt, ap);
	va_end(ap);
}

static inline long workload_tid(void)
{
	return (long)syscall(SYS_gettid);
}

/* exe_dir writes the directory of the running program (with a trailing '/') into buf, so a
 * workload finds its sibling binaries and plugins wherever the build tree is. */
static inline int exe_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	for (ssize_t i = n - 1; i >= 0; i--) {
		if (buf[i] == '/') {
			buf[i + 1] = 0;
			return 0;
		}
	}
	return -1;
}

/* run_plugin loads the plugin at path (libplugin.so), has it allocate n times, and unloads it:
 * the allocations it made, or -1 when loading or unloading failed. */
static inline int run_plugin(const char *path, int n)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		say("dlopen failed: %s\n", dlerror());
		return -1;
	}
	int (*work)(int) = (int (*)(int))dlsym(h, "plugin_work");
	int done = work ? work(n) : -1;
	return dlclose(h) == 0 ? done : -1;
}

static void *watchdog_main(void *arg)
{
	struct timespec d = {(time_t)(long)arg, 0};
	syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &d, NULL);
	say("watchdog: still running after %ld s\n", (long)arg);
	syscall(SYS_exit_group, 9);
	return NULL;
}

/* start_watchdog ends the process with status 9 after seconds, by system calls alone (nothing
 * the shim interposes): a workload whose exit the shim could hang fails instead. */
static inline int start_watchdog(long seconds)
{
	pthread_t w;
	return pthread_create(&w, NULL, watchdog_main, (void *)seconds);
}

#endif
