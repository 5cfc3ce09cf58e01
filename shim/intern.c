/* intern.c: the lock-free intern table behind the stack, type and string tables.
 *
 * Open addressing over levels of slots (intern.h); entries live in an append-only arena. A new
 * key is copied into the arena with its ID first, then published by a CAS on an empty slot of
 * its ID's level, so an entry is whole when anyone can see it and nobody ever waits: a signal
 * handler may intern in the middle of its own thread's insert. Two threads racing to insert the
 * same key leave a gap in the IDs (the loser's ID is never used), which the format allows; when
 * their IDs fall in two levels, as a level opens, both entries stay, two IDs of one key, each
 * naming it whole. */
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
#define TABLES_RESERVE (256ul << 20)
static uint8_t *tables;
static _Atomic size_t tables_used;
/* The reservation comes empty to a fork child (MADV_WIPEONFORK): the fork copies none of its
 * pages' entries, the parent's next writes to them are no copies, and the child has nothing to
 * give back. */
static bool tables_wiped;

void *xt_table_map(size_t bytes)
{
	bytes = (bytes + 4095) & ~(size_t)4095;
	if (!tables) {
		void *r = xt_real.mmap(NULL, TABLES_RESERVE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		tables = r == MAP_FAILED ? NULL : r;
		tables_wiped = tables && madvise(tables, TABLES_RESERVE, MADV_WIPEONFORK) == 0;
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
	if (tables && used && !tables_wiped)
		madvise(tables, used < TABLES_RESERVE ? used : TABLES_RESERVE, MADV_DONTNEED);
}

static void reset_counts(struct xt_intern *tab)
{
	atomic_store(&tab->arena_used, 0);
	atomic_store(&tab->fail_off, SIZE_MAX);
	atomic_store(&tab->next_id, 0);
	atomic_store(&tab->asked, false);
}

/* Level 0 is at least four pages of slots, all that a table of a few keys touches: fewer
 * levels to probe in a process that has more. */
#define MIN_BITS 12

static unsigned min_bits(const struct xt_intern *tab)
{
	return tab->max_bits < MIN_BITS ? tab->max_bits : MIN_BITS;
}

/* level_of is the level of the entry of ID index x (its ID - 1): level k takes the next
 * 2^(bits - 1) << k IDs, a half of its slots. */
static unsigned level_of(unsigned bits, uint64_t x)
{
	return 63u - (unsigned)__builtin_clzll((x >> (bits - 1)) + 1);
}

/* level_base is where level k's slots begin, after those of levels 0 to k - 1. */
static size_t level_base(unsigned bits, unsigned k)
{
	return ((size_t)1 << bits) * (((size_t)1 << k) - 1);
}

/* size_level0 makes level 0 hold keys keys (within its bounds), the table empty and idle. A
 * lookup that reads the new size finds one level. */
static void size_level0(struct xt_intern *tab, size_t keys)
{
	unsigned bits = min_bits(tab);
	while (bits < tab->max_bits && ((size_t)1 << (bits - 1)) < keys)
		bits++;
	atomic_store_explicit(&tab->levels, 1, memory_order_relaxed);
	atomic_store_explicit(&tab->bits, bits, memory_order_release);
}

bool xt_intern_init(struct xt_intern *tab, uint32_t nslots, size_t arena_cap,
		    void (*nearly_full)(void))
{
	if (nslots < 2 || (nslots & (nslots - 1)))
		return false;
	size_t max_ids = arena_cap / entry_size(0); /* every ID has an entry in the arena */
	tab->max_bits = (uint32_t)__builtin_ctz(nslots);
	/* the bits a reference needs, up to the last entry's; the others carry the tag */
	unsigned ref_bits = 64u - (unsigned)__builtin_clzll(arena_cap / 8 + 1);
	tab->tag_mask = ref_bits >= 32 ? 0 : ~(uint32_t)0 << ref_bits;
	tab->tag_shift = ref_bits - 1;
	/* room for the levels of every ID, whatever size level 0 takes */
	size_t reserve = 0;
	for (unsigned b = min_bits(tab); b <= tab->max_bits; b++) {
		size_t need = level_base(b, (max_ids ? level_of(b, max_ids - 1) : 0) + 1);
		if (need > reserve)
			reserve = need;
	}
	if (reserve > UINT32_MAX)
		return false; /* an entry's slot is 32 bits */
	void *s = xt_table_map(reserve * sizeof(uint32_t));
	void *a = xt_table_map(arena_cap);
	void *b = xt_table_map(max_ids * sizeof(uint32_t));
	if (!s || !a || !b)
		return false;
	tab->slots = s;
	tab->nslots = reserve;
	tab->by_id = b;
	tab->max_ids = max_ids;
	tab->arena = a;
	tab->arena_cap = arena_cap;
	tab->nearly_full = nearly_full;
	reset_counts(tab);
	size_level0(tab, 0);
	return true;
}

static struct entry *arena_alloc(struct xt_intern *tab, uint64_t hash, const void *key, uint32_t len)
{
	size_t size = entry_size(len);
	size_t off = atomic_fetch_add_explicit(&tab->arena_used, size, memory_order_acquire);
	if (off + size > tab->arena_cap || off / 8 + 1 > ~tab->tag_mask) {
		/* Every later allocation fails too: entries end where the first failure began. */
		size_t f = atomic_load(&tab->fail_off);
		while (off < f && !atomic_compare_exchange_weak(&tab->fail_off, &f, off))
			;
		return NULL;
	}
	if (off + size > tab->arena_cap / 4 * 3 && tab->nearly_full &&
	    !atomic_load_explicit(&tab->asked, memory_order_relaxed) &&
	    !atomic_exchange(&tab->asked, true))
		tab->nearly_full();
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

/* entry_at is the entry a slot's value v names. */
static const struct entry *entry_at(const struct xt_intern *tab, uint32_t v)
{
	return (const struct entry *)(tab->arena + (size_t)((v & ~tab->tag_mask) - 1) * 8);
}

/* tag is the bits of hash a slot holds above the entry's reference: low bits but the lowest
 * (the table's hashes may fix it), apart from the top ones that pick the slot. */
static uint32_t tag(const struct xt_intern *tab, uint64_t hash)
{
	return ((uint32_t)hash << tab->tag_shift) & tab->tag_mask;
}

static bool same_key(const struct entry *e, uint64_t hash, const void *key, uint32_t len)
{
	return e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0;
}

/* A key's place in a level of 2^lbits slots is its hash's top bits: the table's hashes may
 * leave low bits fixed. */
static uint32_t home(uint64_t hash, unsigned lbits)
{
	return (uint32_t)(hash >> (64 - lbits));
}

/* insert adds key to the level of its new ID (level 0 of 2^bits slots), or returns the ID of
 * the same key that another thread published there first. */
static uint64_t insert(struct xt_intern *tab, unsigned bits, uint64_t hash, const void *key,
		       uint32_t len)
{
	struct entry *mine = arena_alloc(tab, hash, key, len);
	if (!mine)
		return 0;
	uint64_t id = atomic_load_explicit(&mine->id, memory_order_relaxed);
	unsigned k = level_of(bits, id - 1);
	size_t base = level_base(bits, k);
	uint32_t mask = (uint32_t)(((size_t)1 << (bits + k)) - 1);
	if (base + mask >= tab->nslots)
		return 0;
	/* The level is open before it holds a key: a lookup that reads the levels after the key
	 * is published looks there. */
	uint32_t open = atomic_load_explicit(&tab->levels, memory_order_relaxed);
	while (open < k + 1 && !atomic_compare_exchange_weak(&tab->levels, &open, k + 1))
		;
	_Atomic uint32_t *slots = tab->slots + base;
	uint32_t t = tag(tab, hash), named = t | (uint32_t)(((uint8_t *)mine - tab->arena) / 8 + 1);
	uint32_t i = home(hash, bits + k);
	for (uint32_t probes = 0; probes <= mask; probes++, i = (i + 1) & mask) {
		uint32_t v = atomic_load_explicit(&slots[i], memory_order_acquire);
		if (v == 0) {
			atomic_store_explicit(&mine->slot, (uint32_t)(base + i), memory_order_relaxed);
			if (atomic_compare_exchange_strong_explicit(&slots[i], &v, named,
								    memory_order_acq_rel,
								    memory_order_acquire))
				return id;
			atomic_store_explicit(&mine->slot, UINT32_MAX, memory_order_relaxed);
		}
		const struct entry *e = entry_at(tab, v);
		if ((v & tab->tag_mask) == t && same_key(e, hash, key, len))
			return atomic_load_explicit(&e->id, memory_order_relaxed);
	}
	return 0;
}

uint64_t xt_intern(struct xt_intern *tab, uint64_t hash, const void *key, uint32_t len)
{
	unsigned bits = atomic_load_explicit(&tab->bits, memory_order_acquire);
	unsigned levels = atomic_load_explicit(&tab->levels, memory_order_acquire);
	uint32_t t = tag(tab, hash);
	/* the newest level first: it holds the most keys */
	for (unsigned k = levels; k-- > 0;) {
		size_t base = level_base(bits, k);
		uint32_t mask = (uint32_t)(((size_t)1 << (bits + k)) - 1);
		if (base + mask >= tab->nslots)
			continue; /* a size read as an idle table changed: not a level of it */
		const _Atomic uint32_t *slots = tab->slots + base;
		uint32_t i = home(hash, bits + k);
		for (uint32_t probes = 0; probes <= mask; probes++, i = (i + 1) & mask) {
			uint32_t v = atomic_load_explicit(&slots[i], memory_order_acquire);
			if (v == 0)
				break;
			const struct entry *e = entry_at(tab, v);
			if ((v & tab->tag_mask) == t && same_key(e, hash, key, len))
				return atomic_load_explicit(&e->id, memory_order_relaxed);
		}
	}
	return insert(tab, bits, hash, key, len);
}

/* The walks go through the IDs to the slots, not along the arena: a slot names only a whole
 * entry (its CAS came after the entry was written), while the arena may hold one a thread was
 * writing when it was interrupted for good (a signal handler's siglongjmp, a stopped thread
 * the advancer stopped waiting for), whose length cannot be trusted to step over it. An entry
 * counts when the slot it was published in still names it.
 *
 * published returns the slot that names ID id's entry, or NULL. */
static _Atomic uint32_t *published(struct xt_intern *tab, size_t id)
{
	uint32_t v = atomic_load_explicit(&tab->by_id[id - 1], memory_order_acquire);
	if (!v)
		return NULL;
	uint32_t slot = atomic_load_explicit(&entry_at(tab, v)->slot, memory_order_relaxed);
	if (slot >= tab->nslots ||
	    (atomic_load_explicit(&tab->slots[slot], memory_order_acquire) & ~tab->tag_mask) != v)
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

const void *xt_intern_key_of(struct xt_intern *tab, uint64_t id, uint32_t *len)
{
	if (!id || id > tab->max_ids)
		return NULL;
	uint32_t v = atomic_load_explicit(&tab->by_id[id - 1], memory_order_acquire);
	if (!v)
		return NULL;
	const struct entry *e = entry_at(tab, v);
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
	size_t keys = ids_used(tab);
	reset_counts(tab);
	size_level0(tab, keys);
}

bool xt_intern_init_pair(struct xt_intern tab[2], uint32_t nslots, size_t arena_cap,
			 void (*nearly_full)(void))
{
	return xt_intern_init(&tab[0], nslots, arena_cap, nearly_full) &&
	       xt_intern_init(&tab[1], nslots, arena_cap, nearly_full);
}

void xt_intern_forget(struct xt_intern *tab)
{
	xt_table_forget(tab->slots, tab->nslots * sizeof(uint32_t));
	xt_table_forget(tab->arena, tab->arena_cap);
	xt_table_forget(tab->by_id, tab->max_ids * sizeof(uint32_t));
	reset_counts(tab);
	size_level0(tab, 0);
}

void xt_intern_forget_pair(struct xt_intern tab[2])
{
	xt_intern_forget(&tab[0]);
	xt_intern_forget(&tab[1]);
}
