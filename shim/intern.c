/* intern.c: the lock-free intern table behind the stack and type tables.
 *
 * Open addressing over a slot array; entries live in an append-only arena. A new key is copied
 * into the arena with its ID first, then published by a CAS on an empty slot, so an entry is
 * whole when anyone can see it and nobody ever waits: a signal handler may intern in the middle
 * of its own thread's insert. Two threads racing to insert the same key leave a gap in the IDs
 * (the loser's ID is never used), which the format allows. */
#include <string.h>
#include <sys/mman.h>

#include "intern.h"
#include "real.h"

struct entry {
	uint64_t hash;
	_Atomic uint64_t id;
	/* UINT32_MAX until published; atomic: the walks read it while its thread publishes */
	_Atomic uint32_t slot;
	uint32_t len;
	uint8_t key[];
};

static size_t entry_size(uint32_t len)
{
	return (sizeof(struct entry) + len + 7) & ~(size_t)7;
}

/* used_end is where the arena's written entries end. */
static size_t used_end(struct xt_intern *tab)
{
	size_t used = atomic_load(&tab->arena_used), f = atomic_load(&tab->fail_off);
	return used < f ? used : f;
}

/* The tables' memory is carved from one reservation, taken at the first table's init, so that
 * start maps once instead of once an array (18 of them), and a fork child empties every table
 * with one madvise: each madvise over populated pages flushes the TLB, 30 to 80 us on a VM.
 * Arrays that do not fit (the reservation is sized for today's tables with room to spare) are
 * mapped alone, and forgotten alone. */
#define TABLES_RESERVE (128ul << 20)
static uint8_t *tables;
static _Atomic size_t tables_used;

void *xt_table_map(size_t bytes)
{
	bytes = (bytes + 4095) & ~(size_t)4095;
	if (!tables) {
		void *r = xt_real.mmap(NULL, TABLES_RESERVE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		tables = r == MAP_FAILED ? NULL : r;
	}
	size_t at = tables ? atomic_fetch_add(&tables_used, bytes) : TABLES_RESERVE;
	if (at <= TABLES_RESERVE && bytes <= TABLES_RESERVE - at)
		return tables + at;
	void *m = xt_real.mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

void xt_table_forget(void *p, size_t bytes)
{
	uint8_t *b = p;
	if (!tables || b < tables || b >= tables + TABLES_RESERVE)
		madvise(p, bytes, MADV_DONTNEED);
}

void xt_tables_forget_all(void)
{
	size_t used = atomic_load(&tables_used);
	if (tables && used)
		madvise(tables, used < TABLES_RESERVE ? used : TABLES_RESERVE, MADV_DONTNEED);
}

bool xt_intern_init(struct xt_intern *tab, uint32_t nslots, size_t arena_cap)
{
	size_t max_ids = arena_cap / entry_size(0); /* every ID has an entry in the arena */
	void *s = xt_table_map((size_t)nslots * sizeof(uint32_t));
	void *a = xt_table_map(arena_cap);
	void *b = xt_table_map(max_ids * sizeof(uint32_t));
	if (!s || !a || !b)
		return false;
	tab->slots = s;
	tab->mask = nslots - 1;
	tab->by_id = b;
	tab->max_ids = max_ids;
	tab->arena = a;
	tab->arena_cap = arena_cap;
	atomic_store(&tab->arena_used, 0);
	atomic_store(&tab->fail_off, SIZE_MAX);
	atomic_store(&tab->next_id, 0);
	return true;
}

static struct entry *arena_alloc(struct xt_intern *tab, uint64_t hash, const void *key, uint32_t len)
{
	size_t size = entry_size(len);
	size_t off = atomic_fetch_add_explicit(&tab->arena_used, size, memory_order_acquire);
	if (off + size > tab->arena_cap || off / 8 + 1 > UINT32_MAX) {
		/* Every later allocation fails too: entries end where the first failure began. */
		size_t f = atomic_load(&tab->fail_off);
		while (off < f && !atomic_compare_exchange_weak(&tab->fail_off, &f, off))
			;
		return NULL;
	}
	struct entry *e = (struct entry *)(tab->arena + off);
	uint64_t id = atomic_fetch_add(&tab->next_id, 1) + 1;
	e->hash = hash;
	atomic_store_explicit(&e->id, id, memory_order_relaxed);
	atomic_store_explicit(&e->slot, UINT32_MAX, memory_order_relaxed);
	e->len = len;
	memcpy(e->key, key, len);
	/* Before any slot can name it: a published entry is always found by its ID. */
	atomic_store_explicit(&tab->by_id[id - 1], (uint32_t)(off / 8 + 1), memory_order_release);
	return e;
}

uint64_t xt_intern(struct xt_intern *tab, uint64_t hash, const void *key, uint32_t len)
{
	struct entry *mine = NULL;
	uint32_t i = (uint32_t)hash & tab->mask;
	for (uint32_t probes = 0; probes <= tab->mask; probes++, i = (i + 1) & tab->mask) {
		uint32_t v = atomic_load_explicit(&tab->slots[i], memory_order_acquire);
		if (v == 0) {
			if (!mine && !(mine = arena_alloc(tab, hash, key, len)))
				return 0;
			atomic_store_explicit(&mine->slot, i, memory_order_relaxed);
			uint32_t off = (uint32_t)(((uint8_t *)mine - tab->arena) / 8 + 1);
			if (atomic_compare_exchange_strong_explicit(&tab->slots[i], &v, off,
								    memory_order_acq_rel,
								    memory_order_acquire))
				return atomic_load_explicit(&mine->id, memory_order_relaxed);
			atomic_store_explicit(&mine->slot, UINT32_MAX, memory_order_relaxed);
		}
		struct entry *e = (struct entry *)(tab->arena + (size_t)(v - 1) * 8);
		if (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0)
			return atomic_load_explicit(&e->id, memory_order_relaxed);
	}
	return 0;
}

/* The walks go through the IDs to the slots, not along the arena: a slot names only a whole
 * entry (its CAS came after the entry was written), while the arena may hold one a thread was
 * writing when it was interrupted for good (a signal handler's siglongjmp, a stopped thread
 * the advancer stopped waiting for), whose length cannot be trusted to step over it. An entry
 * counts when the slot it was published in still names it. */
static const struct entry *entry_at(const struct xt_intern *tab, uint32_t v)
{
	return (const struct entry *)(tab->arena + (size_t)(v - 1) * 8);
}

/* published returns the slot that names ID id's entry, or NULL. */
static _Atomic uint32_t *published(struct xt_intern *tab, size_t id)
{
	uint32_t v = atomic_load_explicit(&tab->by_id[id - 1], memory_order_acquire);
	if (!v)
		return NULL;
	uint32_t slot = atomic_load_explicit(&entry_at(tab, v)->slot, memory_order_relaxed);
	if (slot > tab->mask || atomic_load_explicit(&tab->slots[slot], memory_order_acquire) != v)
		return NULL;
	return &tab->slots[slot];
}

const void *xt_intern_key(struct xt_intern *tab, uint64_t id, uint32_t *len)
{
	if (!id || id > tab->max_ids)
		return NULL;
	_Atomic uint32_t *s = published(tab, (size_t)id);
	if (!s)
		return NULL;
	const struct entry *e = entry_at(tab, atomic_load_explicit(s, memory_order_acquire));
	*len = e->len;
	return e->key;
}

static size_t ids_used(struct xt_intern *tab)
{
	uint64_t n = atomic_load(&tab->next_id);
	return n < tab->max_ids ? (size_t)n : tab->max_ids;
}

void xt_intern_each(struct xt_intern *tab,
		    void (*fn)(void *ctx, uint64_t id, const void *key, uint32_t len), void *ctx)
{
	for (size_t id = 1, n = ids_used(tab); id <= n; id++) {
		_Atomic uint32_t *s = published(tab, id);
		if (s) {
			const struct entry *e = entry_at(tab, atomic_load(s));
			fn(ctx, atomic_load_explicit(&e->id, memory_order_relaxed), e->key, e->len);
		}
	}
}

static void reset_counts(struct xt_intern *tab)
{
	atomic_store(&tab->arena_used, 0);
	atomic_store(&tab->fail_off, SIZE_MAX);
	atomic_store(&tab->next_id, 0);
}

void xt_intern_reset(struct xt_intern *tab)
{
	for (size_t id = 1, n = ids_used(tab); id <= n; id++) {
		_Atomic uint32_t *s = published(tab, id);
		if (s)
			atomic_store_explicit(s, 0, memory_order_relaxed);
		atomic_store_explicit(&tab->by_id[id - 1], 0, memory_order_relaxed);
	}
	/* Give the arena's pages back when a generation used a lot of it. */
	size_t used = used_end(tab);
	if (used > (4u << 20))
		madvise(tab->arena, used, MADV_DONTNEED);
	reset_counts(tab);
}

bool xt_intern_init_pair(struct xt_intern tab[2], uint32_t nslots, size_t arena_cap)
{
	return xt_intern_init(&tab[0], nslots, arena_cap) &&
	       xt_intern_init(&tab[1], nslots, arena_cap);
}

void xt_intern_forget(struct xt_intern *tab)
{
	xt_table_forget(tab->slots, ((size_t)tab->mask + 1) * sizeof(uint32_t));
	xt_table_forget(tab->arena, tab->arena_cap);
	xt_table_forget(tab->by_id, tab->max_ids * sizeof(uint32_t));
	reset_counts(tab);
}

void xt_intern_forget_pair(struct xt_intern tab[2])
{
	xt_intern_forget(&tab[0]);
	xt_intern_forget(&tab[1]);
}
