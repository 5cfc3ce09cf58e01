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

/* xt_liveset_find returns the record of addr, or NULL (always for 0, which is never a key). */
struct xt_live *xt_liveset_find(const struct xt_liveset *s, uint64_t addr);

/* xt_liveset_put returns the record of addr (nonzero), adding a zeroed one if there was none;
 * *added says which. NULL when the table could not grow. The pointer is valid until the next
 * put or remove. */
struct xt_live *xt_liveset_put(struct xt_liveset *s, uint64_t addr, int *added);

/* xt_liveset_home is the slot where the probe for addr starts. */
size_t xt_liveset_home(const struct xt_liveset *s, uint64_t addr);

/* xt_liveset_remove deletes addr and copies its record to *out (if not NULL): 1 if it was
 * present, else 0 (always for 0). */
int xt_liveset_remove(struct xt_liveset *s, uint64_t addr, struct xt_live *out);

#endif
