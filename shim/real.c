/* real.c: finding the real functions behind the interposed ones, and the pool (real.h).
 *
 * dlsym itself calls calloc, before the real calloc is known; those few allocations come from a
 * static pool that free() and realloc() recognise, as do the shim's own, from its inner
 * blocks. Resolution happens once, on the first interposed call or in the constructor,
 * whichever comes first; other threads arriving during it wait for it. Never traces, never
 * allocates through the interposed malloc. */
#include <dlfcn.h>
#include <sched.h>
#include <stdint.h>
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
		if (start + n > XT_BOOT_SIZE || start + n < start)
			return NULL;
	} while (!atomic_compare_exchange_weak(&pool_used, &old, start + n));
	return xt_pool + start;
}

/* Inner blocks: a 16-byte head holding the block's class (16 << class bytes), then the block.
 * Each class keeps the blocks freed in a stack: its top is (tag << 32) | (head offset / 16 +
 * 1), 0 below when empty, the tag counting changes so that a top popped and pushed back
 * meanwhile fails the compare (ABA); a free block holds the next one's index in its first
 * four bytes. */
#define INNER_HEAD 16u
#define INNER_CLASSES 9u /* 16 B to 4 KiB */
static unsigned char *const inner = xt_pool + XT_BOOT_SIZE;
static _Atomic size_t inner_used;
static _Atomic uint64_t inner_top[INNER_CLASSES];

static unsigned inner_class(const void *p)
{
	return *(const uint32_t *)((const unsigned char *)p - INNER_HEAD);
}

void *xt_inner_alloc(size_t n)
{
	unsigned c = 0;
	while (c < INNER_CLASSES && (16u << c) < n)
		c++;
	if (c == INNER_CLASSES)
		return NULL;
	_Atomic uint64_t *top = &inner_top[c];
	uint64_t t = atomic_load(top);
	while ((uint32_t)t) {
		unsigned char *b = inner + ((uint32_t)t - 1) * 16u + INNER_HEAD;
		uint32_t next = atomic_load_explicit((_Atomic uint32_t *)b, memory_order_relaxed);
		if (atomic_compare_exchange_weak(top, &t, ((t >> 32) + 1) << 32 | next))
			return b;
	}
	size_t size = INNER_HEAD + (16u << c), at = atomic_load(&inner_used);
	do {
		if (at + size > XT_INNER_SIZE)
			return NULL;
	} while (!atomic_compare_exchange_weak(&inner_used, &at, at + size));
	*(uint32_t *)(inner + at) = c;
	return inner + at + INNER_HEAD;
}

void xt_inner_free(void *p)
{
	_Atomic uint64_t *top = &inner_top[inner_class(p)];
	uint32_t me = (uint32_t)(((unsigned char *)p - INNER_HEAD - inner) / 16) + 1;
	uint64_t t = atomic_load(top);
	do
		atomic_store_explicit((_Atomic uint32_t *)p, (uint32_t)t, memory_order_relaxed);
	while (!atomic_compare_exchange_weak(top, &t, ((t >> 32) + 1) << 32 | me));
}

size_t xt_pool_size_from(const void *p)
{
	if (xt_inner_owns(p))
		return 16u << inner_class(p);
	return (size_t)(xt_pool + XT_BOOT_SIZE - (const unsigned char *)p);
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
