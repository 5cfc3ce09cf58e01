/* malloc.c: the malloc family, the hot path. Each wrapper calls the real function with the
 * in_real guard up (libc calling itself through the PLT is then not recorded twice), and
 * records one AllocFree event. Allocations are timestamped after the real call returns and
 * frees before the real free runs, so a reused address always sorts free-then-alloc.
 * Never locks, never allocates, never makes a syscall; errno is what the real call left.
 * Under XTRACE_SAMPLE only sampled allocations are recorded, and the frees of those
 * (sample.h). pthread_getattr_np is here too: glibc allocates inside it with a lock held. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "allocemit.h"
#include "allocfree.h"
#include "alloctypes.h"
#include "lifecycle.h"
#include "real.h"
#include "sample.h"
#include "stacks.h"


static inline void record_alloc(void *p, unsigned api, uint64_t elem, uint64_t count,
				uint64_t align, void *ra, void *frame)
{
	if (xt_passing_through())
		return;
	uint64_t bytes;
	if (__builtin_mul_overflow(elem, count, &bytes))
		bytes = UINT64_MAX;
	if (xt_sample_skip(bytes))
		return;
	xt_recent_prefetch(xt_tl.t, (uintptr_t)p);
	struct xt_thread *t = xt_enter();
	if (!t)
		return;
	if (xt_unlikely(xt_sampled != NULL) && p && !xt_sampled_add((uintptr_t)p)) {
		xt_leave(t);
		return;
	}
	int e = errno;
	uint64_t ts = xt_now();
	uint64_t stack = xt_stack_framed(t, ra, frame);
	uint64_t type = xt_alloc_type(t, api, elem, count, align);
	xt_emit_alloc(t, ts, (uintptr_t)p, type, stack);
	xt_leave(t);
	errno = e;
}

/* own_alloc: an inner block (real.h) for an allocation the shim's own code causes; NULL for
 * the program's, or when no inner block serves it (the real allocator does). */
static inline void *own_alloc(size_t n)
{
	return xt_unlikely(xt_tl.internal) ? xt_inner_alloc(n) : NULL;
}

/* free_recorded: the free of p is recorded (when sampling, p was sampled: it leaves the set). */
static inline bool free_recorded(void *p)
{
	return xt_likely(!xt_sampled) || xt_sampled_take((uintptr_t)p);
}

XT_EXPORT void *malloc(size_t n)
{
	xt_ensure_init();
	if (xt_unlikely(!xt_real.malloc))
		return xt_pool_alloc(n, 16);
	void *p = own_alloc(n);
	if (p)
		return p;
	p = XT_REAL(xt_real.malloc(n));
	record_alloc(p, XT_API_MALLOC, n, 1, 0, XT_CALLER, XT_FRAME);
	return p;
}

XT_EXPORT void *calloc(size_t nmemb, size_t size)
{
	xt_ensure_init();
	if (xt_unlikely(!xt_real.calloc)) {
		size_t total;
		if (__builtin_mul_overflow(nmemb, size, &total))
			return NULL;
		return xt_pool_alloc(total, 16); /* the pool is static, so already zeroed */
	}
	size_t total;
	void *p = __builtin_mul_overflow(nmemb, size, &total) ? NULL : own_alloc(total);
	if (p)
		return memset(p, 0, total);
	p = XT_REAL(xt_real.calloc(nmemb, size));
	record_alloc(p, XT_API_CALLOC, size, nmemb, 0, XT_CALLER, XT_FRAME);
	return p;
}

XT_EXPORT void free(void *p)
{
	if (!p || xt_pool_owns(p)) {
		if (p && xt_inner_owns(p))
			xt_inner_free(p);
		return;
	}
	xt_ensure_init();
	struct xt_thread *t = xt_passing_through() || !free_recorded(p) ? NULL : xt_enter();
	if (t) {
		int e = errno;
		xt_emit_free(t, xt_now(), (uintptr_t)p, XT_EV_ObjectFree, XT_EV_ObjectFreeRecent);
		xt_leave(t);
		errno = e;
	}
	xt_tl.in_real++;
	xt_real.free(p);
	xt_tl.in_real--;
}

/* pthread_getattr_np allocates while it holds the lock of the thread it asks about (glibc's,
 * not recursive), and registration asks about its own thread the same way: a thread whose
 * first event comes from in there (every JVM thread's does) would wait for itself, and two
 * threads asking about each other would wait for each other. Setup waits for an event
 * outside, as it does under a signal handler (writer.c). Here, built without the sanitizer:
 * a sanitizer's runtime asks for a new thread's stack before the thread may run code it
 * instruments. */
XT_EXPORT int pthread_getattr_np(pthread_t th, pthread_attr_t *attr)
{
	xt_ensure_init();
	unsigned no_alloc = xt_tl.no_alloc;
	xt_tl.no_alloc = 1;
	int r = xt_real.pthread_getattr_np(th, attr);
	xt_tl.no_alloc = no_alloc;
	return r;
}

/* from_pool moves a pool block: an inner block of the shim's own to another (into real memory
 * if it has grown past them), anything else into real memory (a block of the dlsym window, or
 * an inner block the program's code took over: glibc growing the shim's). */
static void *from_pool(void *old, size_t n)
{
	void *p = own_alloc(n);
	if (!p)
		p = xt_real.malloc(n);
	if (p) {
		size_t have = xt_pool_size_from(old);
		memcpy(p, old, have < n ? have : n);
		if (xt_inner_owns(old))
			xt_inner_free(old);
	}
	return p;
}

/* realloc_common records a realloc or reallocarray call: the release of the old object in a
 * section held across the real call (its generation cannot end before a thread that reuses the
 * address records that), then the new object. */
static void *realloc_common(void *old, size_t elem, size_t count, unsigned api, void *ra,
			    void *frame)
{
	size_t n;
	int overflow = __builtin_mul_overflow(elem, count, &n);
	xt_ensure_init();
	if (xt_unlikely(!xt_real.realloc)) {
		void *p = overflow ? NULL : xt_pool_alloc(n, 16);
		if (p && old)
			memcpy(p, old, xt_pool_size_from(old) < n ? xt_pool_size_from(old) : n);
		return p;
	}
	void *own = old || overflow ? NULL : own_alloc(n);
	if (own)
		return own;
	bool old_recorded = old && !xt_passing_through() && free_recorded(old);
	struct xt_thread *t = old_recorded ? xt_enter() : NULL;
	uint64_t ts0 = t ? xt_now() : 0;
	void *p = api == XT_API_REALLOCARRAY ? XT_REAL(xt_real.reallocarray(old, count, elem))
					     : XT_REAL(xt_real.realloc(old, n));
	bool released = p || (n == 0 && !overflow);
	if (t) {
		int e = errno;
		if (released)
			xt_emit_free(t, ts0, (uintptr_t)old, XT_EV_ObjectReallocFree,
				     XT_EV_ObjectReallocFreeRecent);
		xt_leave(t);
		errno = e;
	}
	if (xt_unlikely(xt_sampled != NULL) && old_recorded && !released)
		xt_sampled_add((uintptr_t)old); /* the failed call left the sampled object live */
	record_alloc(p, api, elem, count, 0, ra, frame);
	return p;
}

XT_EXPORT void *realloc(void *old, size_t n)
{
	if (xt_unlikely(old && xt_pool_owns(old) && xt_real.malloc)) {
		void *p = from_pool(old, n);
		record_alloc(p, XT_API_REALLOC, n, 1, 0, XT_CALLER, XT_FRAME);
		return p;
	}
	return realloc_common(old, n, 1, XT_API_REALLOC, XT_CALLER, XT_FRAME);
}

XT_EXPORT void *reallocarray(void *old, size_t count, size_t elem)
{
	if (xt_unlikely(old && xt_pool_owns(old) && xt_real.malloc)) {
		size_t n;
		if (__builtin_mul_overflow(count, elem, &n)) {
			errno = ENOMEM;
			return NULL;
		}
		void *p = from_pool(old, n);
		record_alloc(p, XT_API_REALLOCARRAY, elem, count, 0, XT_CALLER, XT_FRAME);
		return p;
	}
	return realloc_common(old, elem, count, XT_API_REALLOCARRAY, XT_CALLER, XT_FRAME);
}

XT_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	xt_ensure_init();
	if (xt_unlikely(!xt_real.posix_memalign)) {
		*out = xt_pool_alloc(n, align);
		return *out ? 0 : ENOMEM;
	}
	int r = XT_REAL(xt_real.posix_memalign(out, align, n));
	record_alloc(r == 0 ? *out : NULL, XT_API_POSIX_MEMALIGN, n, 1, align, XT_CALLER, XT_FRAME);
	return r;
}

#define XT_ALIGNED(name, API, align_expr)                                   \
	XT_EXPORT void *name(size_t align, size_t n)                            \
	{                                                                       \
		xt_ensure_init();                                                   \
		if (xt_unlikely(!xt_real.name))                                     \
			return xt_pool_alloc(n, align);                                 \
		void *p = XT_REAL(xt_real.name(align, n));                      \
		record_alloc(p, API, n, 1, align_expr, XT_CALLER, XT_FRAME);          \
		return p;                                                           \
	}

XT_ALIGNED(aligned_alloc, XT_API_ALIGNED_ALLOC, align)
XT_ALIGNED(memalign, XT_API_MEMALIGN, align)

#define XT_PAGE_ALIGNED(name, API)                                          \
	XT_EXPORT void *name(size_t n)                                          \
	{                                                                       \
		xt_ensure_init();                                                   \
		size_t page = (size_t)sysconf(_SC_PAGESIZE);                        \
		if (xt_unlikely(!xt_real.name))                                     \
			return xt_pool_alloc(n, page);                                  \
		void *p = XT_REAL(xt_real.name(n));                             \
		record_alloc(p, API, n, 1, page, XT_CALLER, XT_FRAME);                \
		return p;                                                           \
	}

XT_PAGE_ALIGNED(valloc, XT_API_VALLOC)
XT_PAGE_ALIGNED(pvalloc, XT_API_PVALLOC)
