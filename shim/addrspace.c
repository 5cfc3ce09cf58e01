/* addrspace.c: the AddrSpace experiment: the program's mmap, mmap64, munmap, mremap, brk and
 * sbrk calls, its threads' stacks, and once a generation its resident and mapped bytes.
 *
 * A call is recorded after the real call succeeded, with the caller's stack; errno and the
 * result are the real call's. Calls that are not the program's pass through unrecorded: the
 * shim maps its own memory through xt_real, libunwind's and the allocator's calls come with
 * the shim's guards up (xt_tl.internal, in_real), and glibc's malloc and the loader map
 * through libc's internal functions, which never reach these. So memory malloc serves by mmap
 * is counted once, as heap. In a sanitizer build, calls made while its runtime sets up pass
 * through, as malloc's do (shim/lifecycle.h). A munmap or mremap holds its section across the
 * real call and is timestamped before it, as realloc is: another thread that gets the range
 * next records that later. */
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "addrspace.h"
#include "experiment.h"
#include "fds.h"
#include "lifecycle.h"
#include "real.h"
#include "stacks.h"
#include "writer.h"

extern void *__sbrk(intptr_t incr); /* glibc's sbrk, which is not interposed */

/* map is mmap and mmap64 (the same call on 64-bit Linux), real the real one's xt_real field;
 * ra: where the program called. Before the real functions are known (inside dlsym), the system
 * call itself. */
static inline __attribute__((always_inline)) void *
map(void *(*const *real)(void *, size_t, int, int, int, off_t), void *addr, size_t len, int prot,
    int flags, int fd, off_t off, void *ra)
{
	xt_ensure_init();
	if (xt_unlikely(!*real))
		return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	void *r = XT_REAL((*real)(addr, len, prot, flags, fd, off));
	if (r == MAP_FAILED)
		return r;
	struct xt_thread *t = xt_passing_through() ? NULL : xt_enter();
	if (!t)
		return r;
	int e = errno;
	uint64_t ts = xt_now();
	xt_emit_MapCreate(t, ts, (uintptr_t)r, len, (unsigned)prot, (unsigned)flags,
			  xt_stack_here(t, ra));
	xt_leave(t);
	errno = e;
	return r;
}

XT_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return map(&xt_real.mmap, addr, len, prot, flags, fd, off, XT_CALLER);
}

XT_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	return map(&xt_real.mmap64, addr, len, prot, flags, fd, off, XT_CALLER);
}

XT_EXPORT int munmap(void *addr, size_t len)
{
	xt_ensure_init();
	if (xt_unlikely(!xt_real.munmap))
		return (int)syscall(SYS_munmap, addr, len);
	struct xt_thread *t = xt_passing_through() ? NULL : xt_enter();
	uint64_t ts = t ? xt_now() : 0;
	int r = XT_REAL(xt_real.munmap(addr, len));
	if (t) {
		int e = errno;
		if (r == 0)
			xt_emit_MapFree(t, ts, (uintptr_t)addr, len, xt_stack_here(t, XT_CALLER));
		xt_leave(t);
		errno = e;
	}
	return r;
}

/* mremap's fifth argument is read as glibc reads it: only with MREMAP_FIXED. */
XT_EXPORT void *mremap(void *old, size_t oldlen, size_t newlen, int flags, ...)
{
	void *want = NULL;
	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		want = va_arg(ap, void *);
		va_end(ap);
	}
	xt_ensure_init();
	if (xt_unlikely(!xt_real.mremap))
		return (void *)syscall(SYS_mremap, old, oldlen, newlen, flags, want);
	struct xt_thread *t = xt_passing_through() ? NULL : xt_enter();
	uint64_t ts = t ? xt_now() : 0;
	void *r = XT_REAL(xt_real.mremap(old, oldlen, newlen, flags, want));
	if (t) {
		int e = errno;
		if (r != MAP_FAILED)
			xt_emit_MapMove(t, ts, (uintptr_t)old, oldlen, (uintptr_t)r, newlen,
					xt_stack_here(t, XT_CALLER));
		xt_leave(t);
		errno = e;
	}
	return r;
}

static void brk_moved(void *top, void *ra)
{
	struct xt_thread *t = xt_passing_through() ? NULL : xt_enter();
	if (!t)
		return;
	int e = errno;
	uint64_t ts = xt_now();
	xt_emit_BrkMove(t, ts, (uintptr_t)top, xt_stack_here(t, ra));
	xt_leave(t);
	errno = e;
}

XT_EXPORT int brk(void *addr)
{
	xt_ensure_init();
	if (xt_unlikely(!xt_real.brk))
		return __sbrk((char *)addr - (char *)__sbrk(0)) == (void *)-1 ? -1 : 0;
	int r = XT_REAL(xt_real.brk(addr));
	if (r == 0)
		brk_moved(addr, XT_CALLER);
	return r;
}

/* sbrk(0) only reads the break: nothing moved, nothing is recorded. */
XT_EXPORT void *sbrk(intptr_t incr)
{
	xt_ensure_init();
	if (xt_unlikely(!xt_real.sbrk))
		return __sbrk(incr);
	void *r = XT_REAL(xt_real.sbrk(incr));
	if (r != (void *)-1 && incr)
		brk_moved((char *)r + incr, XT_CALLER);
	return r;
}

/* --- thread stacks --------------------------------------------------------------------- */

/* A thread's stack is known once its state is set up (writer.c reads the bounds with
 * pthread_getattr_np, which allocates, only where the shim may: outside the allocator and
 * signal handlers over it, as its own allocation): StackAlloc then, StackFree as the thread
 * ends. The main thread's is seen once, at its first event; a thread that records nothing is
 * not seen. */
static void stack_event(struct xt_thread *t, bool start)
{
	if (t->stack_hi <= t->stack_lo)
		return;
	struct xt_thread *s = xt_enter();
	if (!s)
		return;
	int e = errno;
	if (start)
		xt_emit_StackAlloc(s, xt_now(), t->stack_lo, t->stack_hi - t->stack_lo);
	else
		xt_emit_StackFree(s, xt_now(), t->stack_lo);
	xt_leave(s);
	errno = e;
}

static void thread_start(struct xt_thread *t)
{
	stack_event(t, true);
}

static void thread_end(struct xt_thread *t)
{
	stack_event(t, false);
}

/* --- memory samples -------------------------------------------------------------------- */

static uint64_t page_size;

/* /proc/self/statm is kept open (fds.c: high and hidden, as the shim's descriptors are) and read
 * again at each sample: opening it then would take the lowest free number for a moment, the
 * one a thread of the program opening a file at that moment gets untraced. */
static void init(void)
{
	page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	xt_fds_keep("/proc/self/statm");
}

/* A fork child's own statm: the inherited descriptor reads the parent's. */
static void fork_child(void)
{
	xt_fds_keep("/proc/self/statm");
}

/* statm_field parses the decimal number at *p and the space after it. */
static uint64_t statm_field(const char **p, const char *end)
{
	uint64_t v = 0;
	while (*p < end && **p >= '0' && **p <= '9')
		v = v * 10 + (uint64_t)(*(*p)++ - '0');
	if (*p < end && **p == ' ')
		(*p)++;
	return v;
}

/* The memory table, one sample of /proc/self/statm (size and resident, in pages) per
 * generation. The advance that writes it may be at exit or in a fatal signal's handler: pread
 * alone, no allocation. */
static void batches(struct xt_expw *w)
{
	char buf[256];
	int fd = xt_fds_kept();
	ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof buf, 0);
	if (n <= 0)
		return;
	const char *p = buf, *end = buf + n;
	uint64_t size = statm_field(&p, end), resident = statm_field(&p, end);
	uint8_t e[3 * XT_MAX_VARINT], *q = e;
	q = xt_put_uvarint(q, xt_mono_ns()); /* the table's times are CLOCK_MONOTONIC ns */
	q = xt_put_uvarint(q, resident * page_size);
	q = xt_put_uvarint(q, size * page_size);
	xt_expw_subtype(w, XT_ADDRSPACE_BATCH_MEMORY);
	xt_expw_put(w, e, (size_t)(q - e));
}

const struct xt_experiment_hooks xt_hooks_AddrSpace = {
	.init = init,
	.fork_child = fork_child,
	.thread_start = thread_start,
	.thread_end = thread_end,
	.batches = batches,
};
