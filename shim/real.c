/* real.c: finding the real functions behind the interposed ones.
 *
 * dlsym itself calls calloc, before the real calloc is known; those few allocations come from a
 * static pool that free() and realloc() recognise. Resolution happens once, on the first
 * interposed call or in the constructor, whichever comes first; other threads arriving during
 * it wait for it. Never traces, never allocates through the interposed malloc. */
#include <dlfcn.h>
#include <sched.h>
#include <string.h>

#include "real.h"

struct xt_real xt_real;

_Alignas(64) unsigned char xt_pool[XT_POOL_SIZE];
static _Atomic size_t pool_used;
static _Atomic int resolve_state; /* 0 not begun, 1 resolving, 2 done */
static XT_TLS int resolving;      /* this thread is the one inside dlsym */

void *xt_pool_alloc(size_t n, size_t align)
{
	if (align < 16)
		align = 16;
	size_t old = atomic_load(&pool_used), start;
	do {
		start = (old + align - 1) & ~(align - 1);
		if (start + n > sizeof(xt_pool) || start + n < start)
			return NULL;
	} while (!atomic_compare_exchange_weak(&pool_used, &old, start + n));
	return xt_pool + start;
}

size_t xt_pool_size_from(const void *p)
{
	return (size_t)(xt_pool + sizeof(xt_pool) - (const unsigned char *)p);
}

static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

void xt_real_resolve(void)
{
	int expect = 0;
	if (!atomic_compare_exchange_strong(&resolve_state, &expect, 1)) {
		/* Another thread resolves: wait for it, unless it is this thread (dlsym recursing). */
		while (!resolving && atomic_load(&resolve_state) != 2)
			sched_yield();
		return;
	}
	resolving = 1;
#define XT_RESOLVE(ret, name, params) xt_real.name = (ret(*) params)next(#name);
	XT_REAL_FUNCTIONS(XT_RESOLVE)
#undef XT_RESOLVE
	resolving = 0;
	atomic_store(&resolve_state, 2);
}
