/* fderows.c: the process's store of long FDEs' rows (fderows.h).
 *
 * Threads run the same code, so the rows are shared: a table of slots keyed by the FDE's
 * address, whose entries live in an append-only arena. Both are one mapping, taken at the first
 * long FDE (a process that never meets one maps nothing) and never through the interposed
 * malloc. An entry is written whole, then published by a CAS on its slot (release; lookups
 * acquire), so nobody waits and a signal handler that walks in the middle of its own thread's
 * insert builds and publishes its own entry. Rows hold only while the code does: an entry of an
 * older code epoch (a dlclose since) is a miss, and its slot goes to the next insert. The memory
 * is bounded: when the arena is used up, long FDEs are run for each pc as short ones are. */
#include <string.h>
#include <sys/mman.h>

#include "fderows.h"
#include "real.h"

/* gcc's cc1 compiling a small file keeps 7 FDEs' rows, 95 KiB (80 of them its largest function's);
 * the pages are touched only as they fill. */
#define SLOT_BITS 10
#define PROBES 8
#define ARENA_BYTES (4ul << 20)

static _Atomic(_Atomic(struct xt_fde_rows *) *) slots; /* the mapping: slots, then entries */
static _Atomic size_t arena_used = sizeof(_Atomic(struct xt_fde_rows *)) << SLOT_BITS;
static _Atomic bool map_failed;

static size_t slot_of(const uint8_t *fde)
{
	return (size_t)(((uintptr_t)fde * 0x9e3779b97f4a7c15ull) >> (64 - SLOT_BITS));
}

const struct xt_fde_rows *xt_fde_rows_find(const uint8_t *fde, unsigned epoch)
{
	_Atomic(struct xt_fde_rows *) *s = atomic_load_explicit(&slots, memory_order_acquire);
	if (!s)
		return NULL;
	for (size_t i = slot_of(fde), k = 0; k < PROBES; k++, i = (i + 1) & ((1u << SLOT_BITS) - 1)) {
		const struct xt_fde_rows *e = atomic_load_explicit(&s[i], memory_order_acquire);
		if (!e)
			return NULL;
		if (e->fde == fde && e->epoch == epoch)
			return e;
	}
	return NULL;
}

/* mapping returns the slots and arena, mapping them at the first call (threads, or a handler
 * and the thread it interrupted, racing to map keep one mapping). */
static _Atomic(struct xt_fde_rows *) *mapping(void)
{
	_Atomic(struct xt_fde_rows *) *s = atomic_load_explicit(&slots, memory_order_acquire);
	if (s || atomic_load_explicit(&map_failed, memory_order_relaxed))
		return s;
	void *m = xt_real.mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		atomic_store_explicit(&map_failed, true, memory_order_relaxed);
		return NULL;
	}
	if (atomic_compare_exchange_strong_explicit(&slots, &s, m, memory_order_acq_rel,
						    memory_order_acquire))
		return m;
	xt_real.munmap(m, ARENA_BYTES);
	return s;
}

struct xt_fde_rows *xt_fde_rows_new(uint32_t n)
{
	_Atomic(struct xt_fde_rows *) *s = mapping();
	size_t bytes = (sizeof(struct xt_fde_rows) + (size_t)n * 12 + 7) & ~(size_t)7;
	if (!s || bytes > ARENA_BYTES)
		return NULL;
	size_t at = atomic_fetch_add_explicit(&arena_used, bytes, memory_order_relaxed);
	if (at > ARENA_BYTES - bytes)
		return NULL; /* used up: arena_used stays past the end, so every later one fails */
	struct xt_fde_rows *r = (struct xt_fde_rows *)((uint8_t *)s + at);
	r->n = n;
	return r;
}

void xt_fde_rows_publish(struct xt_fde_rows *r)
{
	_Atomic(struct xt_fde_rows *) *s = atomic_load_explicit(&slots, memory_order_acquire);
	for (size_t i = slot_of(r->fde), k = 0; k < PROBES; k++, i = (i + 1) & ((1u << SLOT_BITS) - 1)) {
		struct xt_fde_rows *e = atomic_load_explicit(&s[i], memory_order_acquire);
		/* an empty slot, or one whose rows are of code unmapped since */
		if (e && e->epoch >= r->epoch) {
			if (e->fde == r->fde)
				return; /* another walk's rows of the same code came first */
			continue;
		}
		if (atomic_compare_exchange_strong_explicit(&s[i], &e, r, memory_order_release,
							    memory_order_relaxed))
			return;
	}
}

uint64_t xt_fde_rows_rule(const struct xt_fde_rows *r, uintptr_t off)
{
	const uint32_t *loc = xt_fde_rows_loc(r);
	uint32_t lo = 0, hi = r->n; /* the last row whose location is <= off */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (loc[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return r->rule[lo];
}
