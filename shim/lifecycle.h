/* lifecycle.h: init, on the first interposed call or in the constructor. */
#ifndef XT_LIFECYCLE_H
#define XT_LIFECYCLE_H

#include "format.h"
#include "real.h"
#include "shim.h"

extern _Atomic int xt_init_state; /* 0 not begun, 1 running, 2 done */
XT_HIDDEN void xt_init_slow(void);

/* xt_prefault makes the pages of [p, p + len) writable in one system call, for memory that is
 * about to be written: a page fault costs several times the call's share of a page on a VM (a
 * page read before it is written, two faults). errno is kept; before Linux 5.14 it does
 * nothing, and the pages fault as they are touched. */
XT_HIDDEN void xt_prefault(const void *p, size_t len);

/* In a build for ASan or TSan, libraries the sanitizer's runtime loads call malloc before the
 * runtime is up: until the shim's constructor runs (after the runtime's, a dependency), the
 * interposed calls only pass through to the real functions, in code built without that
 * sanitizer (malloc.c, real.c). */
#if defined(XT_SANITIZED_THREADS)
/* TSan also sets up each new thread's state after the thread has started running, and calls
 * malloc on the way: a thread counts as ready once its start routine runs (sanitized.c). */
extern int xt_sanitizer_ready;
extern XT_TLS int xt_thread_sanitizer_ready;
#define xt_passing_through() xt_unlikely(!xt_sanitizer_ready || !xt_thread_sanitizer_ready)
#elif defined(XT_SANITIZED)
extern int xt_sanitizer_ready;
#define xt_passing_through() xt_unlikely(!xt_sanitizer_ready)
#else
#define xt_passing_through() 0
#endif

/* xt_ensure_init: one load on the hot path once initialized. */
static inline void xt_ensure_init(void)
{
	if (xt_unlikely(atomic_load_explicit(&xt_init_state, memory_order_acquire) != 2)) {
		if (xt_passing_through())
			xt_real_resolve();
		else
			xt_init_slow();
	}
}

/* xt_crash_flush records that signal sig ends the process and completes the trace, from a
 * signal about to kill the process (in a vfork child, which shares the parent's memory, it does
 * nothing). */
XT_HIDDEN void xt_crash_flush(int sig);
/* xt_image_end records how this process image ends (ProcessEnd), before its last flush. */
XT_HIDDEN void xt_image_end(enum xt_image_end how, int status);
/* A fork child starts tracing, into a file of its own, at its first event or when it exits or
 * execs, whichever comes first (lifecycle.c): nothing of that may run in the fork handler. */
XT_HIDDEN bool xt_fork_child_pending(void);
/* xt_fork_child_start: true if tracing runs now; advancer: start the generation thread. */
XT_HIDDEN bool xt_fork_child_start(bool advancer);

/* signals.c */
XT_HIDDEN void xt_signals_init(void);

#endif
