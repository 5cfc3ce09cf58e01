/* liveset.h: the live set, an open-addressing hash map from a nonzero address to a small record
 * (requested bytes, allocation API and the analysis's site index). Linear probing, deletion by backward shift (no
 * tombstones, so lookups never slow down with churn), growth by doubling; memory is one array,
 * so inserts never allocate except when the table doubles. Also used as a plain set of
 * nonzero 64-bit keys (thread IDs, addresses seen). Keys come from the trace, so they are
 * hashed with the seeded keyhash.h: no choice of addresses piles them into one probe run. */
#ifndef XT_LIVESET_H
#define XT_LIVESET_H

#include <stddef.h>
#include <stdint.h>

#include "keyhash.h"

/* XT_LIVE_MAX_BYTES is the largest size a record holds; larger sizes are stored saturated. */
#define XT_LIVE_MAX_BYTES ((UINT64_C(1) << 56) - 1)

/* xt_live is one slot: addr 0 marks an empty slot. 32 bytes. site is whatever index an analysis
 * keeps per object (sites.h: the allocation site, so a free credits the site that allocated).
 * hash is the set's own (the low bits of addr's hash, in what would be padding), kept so that a
 * removal's backward shift finds the home of every key it moves without hashing it again: the
 * callers set the other fields only. */
struct xt_live {
	uint64_t addr;
	uint64_t bytes : 56;
	uint64_t api : 8;
	uint32_t site;
	uint32_t hash;
	uint32_t objects; /* how many objects it stands for: 1, or a sampled trace's estimate */
};

struct xt_liveset {
	struct xt_live *slots;
	size_t mask;   /* capacity - 1; capacity is a power of two */
	size_t count;  /* occupied slots */
	size_t max_probe; /* the farthest a put has placed or found a key from its home slot
			   * since the table was last sized: what a crafted trace would drive up */
};

/* xt_liveset_init sets up an empty set with room for about hint keys: 0, or -1 without memory. */
int xt_liveset_init(struct xt_liveset *s, size_t hint);
void xt_liveset_destroy(struct xt_liveset *s);

/* The lookups are inline: a trace's every allocation and free goes through them, and a call
 * each costs about as much as the lookup in a small set. */

static inline size_t xt_liveset_home(const struct xt_liveset *s, uint64_t addr)
{
	return (size_t)xt_keyhash_u64(addr) & s->mask;
}

/* xt_liveset_slot_home is the home of the key in slot e from the hash it keeps; a table of more
 * than 2^32 slots needs more bits than the slot has room for. */
static inline size_t xt_liveset_slot_home(const struct xt_liveset *s, const struct xt_live *e)
{
	return s->mask <= UINT32_MAX ? e->hash & s->mask : xt_liveset_home(s, e->addr);
}

/* xt_liveset_note_probe keeps the longest distance a put has placed or found a key from its
 * home. */
static inline void xt_liveset_note_probe(struct xt_liveset *s, size_t home_slot, size_t slot)
{
	size_t d = (slot - home_slot) & s->mask;
	if (d > s->max_probe)
		s->max_probe = d;
}

/* xt_liveset_grow doubles the table: 0, or -1 without memory (the set is unchanged). */
int xt_liveset_grow(struct xt_liveset *s);

/* xt_liveset_find returns the record of addr, or NULL (always for 0, which is never a key). */
static inline struct xt_live *xt_liveset_find(const struct xt_liveset *s, uint64_t addr)
{
	for (size_t i = xt_liveset_home(s, addr);; i = (i + 1) & s->mask) {
		struct xt_live *e = &s->slots[i];
		/* Empty first: key 0 marks an empty slot, so a 0 from a corrupt trace finds nothing
		 * (found, its removal would drop the count below the occupied slots). */
		if (e->addr == 0)
			return NULL;
		if (e->addr == addr)
			return e;
	}
}

/* xt_liveset_put returns the record of addr (nonzero), adding a zeroed one if there was none;
 * *added says which. NULL when the table could not grow. The pointer is valid until the next
 * put or remove. */
static inline struct xt_live *xt_liveset_put(struct xt_liveset *s, uint64_t addr, int *added)
{
	if ((s->count + 1) > (s->mask + 1) / 2 && xt_liveset_grow(s) < 0)
		return NULL;
	uint64_t hash = xt_keyhash_u64(addr);
	size_t h = (size_t)hash & s->mask, i = h;
	for (;; i = (i + 1) & s->mask) {
		struct xt_live *e = &s->slots[i];
		if (e->addr == addr) {
			xt_liveset_note_probe(s, h, i);
			*added = 0;
			return e;
		}
		if (e->addr == 0)
			break;
	}
	xt_liveset_note_probe(s, h, i);
	struct xt_live *e = &s->slots[i];
	*e = (struct xt_live){.addr = addr, .hash = (uint32_t)hash};
	s->count++;
	*added = 1;
	return e;
}

/* xt_liveset_delete removes the record e (found in s, not NULL). */
static inline void xt_liveset_delete(struct xt_liveset *s, struct xt_live *e)
{
	/* Backward shift: pull later entries of the probe run into the hole when the hole lies
	 * between their home slot and where they sit, so every run stays unbroken. */
	size_t hole = (size_t)(e - s->slots);
	for (size_t j = (hole + 1) & s->mask; s->slots[j].addr != 0; j = (j + 1) & s->mask) {
		size_t h = xt_liveset_slot_home(s, &s->slots[j]);
		if (((j - h) & s->mask) >= ((j - hole) & s->mask)) {
			s->slots[hole] = s->slots[j];
			hole = j;
		}
	}
	s->slots[hole].addr = 0;
	s->count--;
}

/* xt_liveset_remove deletes addr and copies its record to *out (if not NULL): 1 if it was
 * present, else 0 (always for 0). */
static inline int xt_liveset_remove(struct xt_liveset *s, uint64_t addr, struct xt_live *out)
{
	struct xt_live *e = xt_liveset_find(s, addr);
	if (!e)
		return 0;
	if (out)
		*out = *e;
	xt_liveset_delete(s, e);
	return 1;
}

#endif
