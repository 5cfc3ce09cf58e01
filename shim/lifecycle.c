/* lifecycle.c: the cold paths. Init (on the first interposed call or in the constructor,
 * whichever comes first), fork, exec, exit, _exit and _Exit, dlclose (dlopen is left alone:
 * it resolves names relative to its caller, so the module table is snapshotted instead).
 * When tracing cannot start, one line goes to stderr and the program runs untraced. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloctypes.h"
#include "control.h"
#include "experiment.h"
#include "generation.h"
#include "lifecycle.h"
#include "modules.h"
#include "output.h"
#include "real.h"
#include "runtime.h"
#include "sample.h"
#include "stacks.h"
#include "unwind.h"
#include "unwlib.h"
#include "user.h"
#include "writer.h"


_Atomic int xt_init_state;
static pid_t traced_pid;      /* the process the trace belongs to (a vfork child is not it) */
static uint64_t fork_ts;
static pid_t parent_pid;      /* in a fork child: the parent */
/* In a fork child: 1 while tracing is still to start, 2 while one thread starts it. */
static _Atomic int child_pending;
static int exit_hooked;       /* on_exit(at_exit) was registered */
static void at_exit(int status, void *arg);

void xt_say(const char *fmt, ...)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "xtrace: ");
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n += m < 0 ? 0 : m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	int e = errno;
	ssize_t w = write(2, line, (size_t)n);
	(void)w;
	errno = e;
}

void xt_prefault(const void *p, size_t len)
{
	uintptr_t page = 4096, lo = (uintptr_t)p & ~(page - 1),
		  hi = ((uintptr_t)p + len + page - 1) & ~(page - 1);
	int e = errno;
	madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
	errno = e;
}

/* prefault_small_state prefaults the pages of the shim's small state (its .bss, gathered apart
 * from its arrays by scripts/bulk-ld.sh): a process writes each of them as tracing starts, a
 * fork child copies each. */
static void prefault_small_state(void)
{
	extern XT_HIDDEN char xt_small_state_start[], xt_small_state_end[];
	xt_prefault(xt_small_state_start, (size_t)(xt_small_state_end - xt_small_state_start));
}

static void fork_prepare(void)
{
	xt_tl.internal++;
	fork_ts = xt_mono_ns(); /* the header's times are CLOCK_MONOTONIC ns */
	xt_runtime_fork_prepare();
	xt_gen_fork_prepare();
}

static void fork_parent(void)
{
	xt_gen_fork_parent();
	xt_runtime_fork_parent();
	xt_tl.internal--;
}

/* become_child makes this process, a copy of the traced one made at time ts, one whose own
 * trace is still to start: at its first event, exit or exec (xt_fork_child_start). Stores and
 * a close alone: async-signal-safe, as a fork handler in a multithreaded parent must be. */
static void become_child(uint64_t ts)
{
	prefault_small_state();
	parent_pid = traced_pid;
	traced_pid = getpid();
	fork_ts = ts;
	xt_clone_mark_set();
	xt_gen_fork_child(); /* and the control channel's (the child gets its own) */
	xt_runtime_fork_child();
	xt_out_close();
	atomic_store(&child_pending, 1);
}

static void fork_child(void)
{
	become_child(fork_ts);
	xt_tl.internal--;
}

/* The copy's only thread until it is adopted is the one that made it (the others of the traced
 * process are not copied), unless the program starts threads before any of them records an
 * event: only one adopts, the others' calls meanwhile are not recorded. When it was made is not
 * known: its trace starts now. */
void xt_clone_adopt(void)
{
	static _Atomic int adopting;
	if (atomic_load(&xt_init_state) != 2 || atomic_exchange(&adopting, 1))
		return;
	if (xt_clone_unadopted()) {
		xt_tl.internal++;
		become_child(xt_mono_ns());
		xt_tl.internal--;
	}
	atomic_store(&adopting, 0);
}

bool xt_fork_child_pending(void)
{
	return atomic_load_explicit(&child_pending, memory_order_relaxed) == 1;
}

bool xt_fork_child_start(bool advancer)
{
	int expect = 1;
	if (xt_tl.no_alloc || !atomic_compare_exchange_strong(&child_pending, &expect, 2))
		return false;
	xt_tl.internal++;
	xt_gen_fork_tables();
	struct xt_origin origin = {(uint64_t)parent_pid, fork_ts};
	if (xt_out_open(&origin))
		xt_gen_begin(advancer);
	atomic_store(&child_pending, 0);
	xt_tl.internal--;
	return atomic_load(&xt_gen) != 0;
}

static void init(void)
{
	xt_tl.internal++;
	prefault_small_state();
	xt_real_resolve();
	xt_clock_init();
	xt_config_load();
	xt_writer_init();
	traced_pid = getpid();
	if (!xt_stacks_init() || !xt_alloctypes_init() || !xt_user_init() ||
	    !xt_sample_init()) {
		xt_say("cannot map the trace tables; the program runs untraced");
	} else {
		struct xt_origin origin = {0, 0};
		if (xt_out_open(&origin)) {
			xt_clone_mark_init();
			pthread_atfork(fork_prepare, fork_parent, fork_child);
			exit_hooked = on_exit(at_exit, NULL) == 0;
			xt_signals_init();
			xt_experiments_init();
			xt_gen_begin(true);
		}
	}
	xt_tl.internal--;
}

void xt_init_slow(void)
{
	int expect = 0;
	if (atomic_compare_exchange_strong(&xt_init_state, &expect, 1)) {
		init();
		atomic_store_explicit(&xt_init_state, 2, memory_order_release);
		return;
	}
	/* Another thread (or this one, inside init) is initializing: the real functions are all
	 * this call needs, and tracing starts when init is done. */
	xt_real_resolve();
}

__attribute__((constructor(101))) static void on_load(void)
{
#ifdef XT_SANITIZED
	xt_sanitizer_ready = 1;
#endif
#ifdef XT_SANITIZED_THREADS
	xt_thread_sanitizer_ready = 1;
#endif
	xt_ensure_init();
	/* init, if an allocation of the loader's ran it, could not load libunwind then */
	if (xt_config.unwind == XT_UNWIND_LIBUNWIND)
		xt_unwlib_load();
}

/* is_traced_process: false in a vfork child, which shares the parent's memory and must not
 * touch the parent's trace; a copy made past the fork handlers, or a fork child that has not
 * recorded an event yet, gets a trace of its own first. */
static int is_traced_process(void)
{
	if (atomic_load(&xt_init_state) != 2)
		return 0;
	if (xt_clone_unadopted())
		xt_clone_adopt();
	if (getpid() != traced_pid)
		return 0;
	if (xt_fork_child_pending())
		xt_fork_child_start(false);
	return 1;
}

void xt_image_end(enum xt_image_end how, int status)
{
	struct xt_thread *t = xt_enter();
	if (!t)
		return;
	xt_emit_ProcessEnd(t, xt_now(), how, (uint64_t)status);
	xt_leave(t);
}

/* final_flush ends the image: how it ended (0: not known), then its last generation. */
static void final_flush(enum xt_image_end how, int status)
{
	if (!is_traced_process())
		return;
	xt_tl.internal++;
	xt_ctl_end();
	xt_gen_switch_on_to_end(false);
	xt_tl.internal--;
	if (how)
		xt_image_end(how, status);
	xt_tl.internal++;
	xt_advance(XT_ADVANCE_FINAL);
	xt_out_flight_write(false);
	xt_tl.internal--;
}

void xt_crash_flush(int sig)
{
	if (!is_traced_process())
		return;
	xt_tl.internal++;
	xt_ctl_end();
	xt_gen_switch_on_to_end(true);
	xt_tl.internal--;
	/* The signal may have come inside the real allocator, or inside this thread's encoding
	 * of an event, which never completes now (the signal kills once the trace is written; the
	 * dispatcher gave its section up): the end is recorded all the same, after the last
	 * complete event. */
	struct xt_signal_save s = xt_signal_enter();
	xt_image_end(XT_END_SIGNAL, sig);
	xt_signal_leave(s);
	xt_tl.internal++;
	xt_advance(XT_ADVANCE_CRASH);
	xt_out_flight_write(true);
	xt_tl.internal--;
}

/* at_exit ends the image on exit() and return from main. Registered from the constructor, before
 * __libc_start_main registers the destructors' run, it runs after every destructor: their
 * allocations and frees are the program's too. */
static void at_exit(int status, void *arg)
{
	(void)arg;
	final_flush(XT_END_EXIT, status & 0xff);
}

__attribute__((destructor(101))) static void on_unload(void)
{
	/* Only when exit's handlers will not end the image after the destructors. */
	if (!exit_hooked)
		final_flush(0, 0);
}

XT_EXPORT void _exit(int status)
{
	xt_ensure_init();
	final_flush(XT_END_EXIT, status & 0xff);
	xt_real._exit(status);
	for (;;)
		syscall(SYS_exit_group, status);
}

XT_EXPORT void _Exit(int status)
{
	xt_ensure_init();
	final_flush(XT_END_EXIT, status & 0xff);
	xt_real._Exit(status);
	for (;;)
		syscall(SYS_exit_group, status);
}

/* Exec: the generation being written is completed first; if exec fails, tracing goes on. */
#define XT_EXEC(call)                         \
	do {                                      \
		xt_ensure_init();                     \
		int traced = is_traced_process();     \
		if (traced)                           \
			final_flush(XT_END_EXEC, 0);      \
		int r = call;                         \
		int e = errno;                        \
		if (traced)                           \
			xt_gen_resume();                  \
		errno = e;                            \
		return r;                             \
	} while (0)

XT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	XT_EXEC(xt_real.execve(path, argv, envp));
}

XT_EXPORT int execv(const char *path, char *const argv[])
{
	XT_EXEC(xt_real.execv(path, argv));
}

XT_EXPORT int execvp(const char *file, char *const argv[])
{
	XT_EXEC(xt_real.execvp(file, argv));
}

XT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	XT_EXEC(xt_real.execvpe(file, argv, envp));
}

XT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	XT_EXEC(xt_real.fexecve(fd, argv, envp));
}

XT_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
		       int flags)
{
	XT_EXEC(xt_real.execveat(dirfd, path, argv, envp, flags));
}

/* The execl family gathers its arguments and goes through the vector forms above. */
#define XT_GATHER_ARGS(arg0, ap, argv)              \
	size_t argc_ = 1;                               \
	va_start(ap, arg0);                             \
	while (va_arg(ap, char *))                      \
		argc_++;                                    \
	va_end(ap);                                     \
	char *argv[argc_ + 1];                          \
	argv[0] = (char *)arg0;                         \
	va_start(ap, arg0);                             \
	for (size_t i_ = 1; i_ <= argc_; i_++)          \
		argv[i_] = va_arg(ap, char *);

XT_EXPORT int execl(const char *path, const char *arg0, ...)
{
	va_list ap;
	XT_GATHER_ARGS(arg0, ap, argv)
	va_end(ap);
	return execv(path, argv);
}

XT_EXPORT int execlp(const char *file, const char *arg0, ...)
{
	va_list ap;
	XT_GATHER_ARGS(arg0, ap, argv)
	va_end(ap);
	return execvp(file, argv);
}

XT_EXPORT int execle(const char *path, const char *arg0, ...)
{
	va_list ap;
	XT_GATHER_ARGS(arg0, ap, argv)
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}

XT_EXPORT int dlclose(void *handle)
{
	xt_ensure_init();
	xt_modules_note();
	int r = xt_real.dlclose(handle);
	xt_unwind_code_unmapped();
	return r;
}
