/* liveset.c: the live set's open-addressing table (see liveset.h). Hot path: no allocation but
 * the doubling, no tombstones. */
#include "liveset.h"

#include <stdlib.h>
#include <sys/mman.h>

#include "keyhash.h"

static inline size_t home(const struct xt_liveset *s, uint64_t addr)
{
	return (size_t)xt_keyhash_u64(addr) & s->mask;
}

/* slot_home is the home of the key in slot e from the hash it keeps; a table of more than 2^32
 * slots needs more bits than the slot has room for. */
static inline size_t slot_home(const struct xt_liveset *s, const struct xt_live *e)
{
	return s->mask <= UINT32_MAX ? e->hash & s->mask : home(s, e->addr);
}

size_t xt_liveset_home(const struct xt_liveset *s, uint64_t addr)
{
	return home(s, addr);
}

/* note_probe keeps the longest distance a put has placed or found a key from its home. */
static inline void note_probe(struct xt_liveset *s, size_t home_slot, size_t slot)
{
	size_t d = (slot - home_slot) & s->mask;
	if (d > s->max_probe)
		s->max_probe = d;
}

/* A table of at least XT_LIVESET_MAPPED bytes is mapped on its own, asking for huge pages: a big
 * live set is touched at random, and in 4 KiB pages each page costs a fault as it is first
 * touched (about 10 us on a VM: half the time of `stats` on a trace whose live set reaches a
 * million objects) and most lookups a TLB miss. */
#define XT_LIVESET_MAPPED (UINT64_C(2) << 20)

static struct xt_live *table_alloc(size_t cap)
{
	size_t bytes = cap * sizeof(struct xt_live);
	if (bytes < XT_LIVESET_MAPPED)
		return calloc(cap, sizeof(struct xt_live));
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: without it the table still works */
	return p;
}

static void table_free(struct xt_live *slots, size_t cap)
{
	size_t bytes = cap * sizeof(struct xt_live);
	if (bytes < XT_LIVESET_MAPPED)
		free(slots);
	else if (slots)
		munmap(slots, bytes);
}

static int alloc_table(struct xt_liveset *s, size_t cap)
{
	struct xt_live *slots = table_alloc(cap);
	if (!slots)
		return -1;
	s->slots = slots;
	s->mask = cap - 1;
	s->max_probe = 0;
	return 0;
}

int xt_liveset_init(struct xt_liveset *s, size_t hint)
{
	size_t cap = 16;
	/* Keep the load at most 1/2 for hint keys: short probe runs keep remove cheap, and a big
	 * live set still costs at most four slots an object. */
	while (cap / 2 < hint)
		cap *= 2;
	s->count = 0;
	return alloc_table(s, cap);
}

void xt_liveset_destroy(struct xt_liveset *s)
{
	table_free(s->slots, s->mask + 1);
	s->slots = NULL;
	s->count = 0;
}

struct xt_live *xt_liveset_find(const struct xt_liveset *s, uint64_t addr)
{
	for (size_t i = home(s, addr);; i = (i + 1) & s->mask) {
		struct xt_live *e = &s->slots[i];
		/* Empty first: key 0 marks an empty slot, so a 0 from a corrupt trace finds nothing
		 * (found, its removal would drop the count below the occupied slots). */
		if (e->addr == 0)
			return NULL;
		if (e->addr == addr)
			return e;
	}
}

static int grow(struct xt_liveset *s)
{
	struct xt_live *old = s->slots;
	size_t oldcap = s->mask + 1;
	if (alloc_table(s, oldcap * 2) < 0)
		return -1;
	for (size_t j = 0; j < oldcap; j++) {
		if (old[j].addr == 0)
			continue;
		size_t h = slot_home(s, &old[j]), i = h;
		while (s->slots[i].addr != 0)
			i = (i + 1) & s->mask;
		note_probe(s, h, i);
		s->slots[i] = old[j];
	}
	table_free(old, oldcap);
	return 0;
}

struct xt_live *xt_liveset_put(struct xt_liveset *s, uint64_t addr, int *added)
{
	if ((s->count + 1) > (s->mask + 1) / 2 && grow(s) < 0)
		return NULL;
	uint64_t hash = xt_keyhash_u64(addr);
	size_t h = (size_t)hash & s->mask, i = h;
	for (;; i = (i + 1) & s->mask) {
		struct xt_live *e = &s->slots[i];
		if (e->addr == addr) {
			note_probe(s, h, i);
			*added = 0;
			return e;
		}
		if (e->addr == 0)
			break;
	}
	note_probe(s, h, i);
	struct xt_live *e = &s->slots[i];
	*e = (struct xt_live){.addr = addr, .hash = (uint32_t)hash};
	s->count++;
	*added = 1;
	return e;
}

int xt_liveset_remove(struct xt_liveset *s, uint64_t addr, struct xt_live *out)
{
	struct xt_live *e = xt_liveset_find(s, addr);
	if (!e)
		return 0;
	if (out)
		*out = *e;
	/* Backward shift: pull later entries of the probe run into the hole when the hole lies
	 * between their home slot and where they sit, so every run stays unbroken. */
	size_t hole = (size_t)(e - s->slots);
	for (size_t j = (hole + 1) & s->mask; s->slots[j].addr != 0; j = (j + 1) & s->mask) {
		size_t h = slot_home(s, &s->slots[j]);
		if (((j - h) & s->mask) >= ((j - hole) & s->mask)) {
			s->slots[hole] = s->slots[j];
			hole = j;
		}
	}
	s->slots[hole].addr = 0;
	s->count--;
	return 1;
}
