/* intern.h: a lock-free intern table, key bytes -> dense ID, one per generation parity.
 * Used for stacks, AllocFree types and user strings. Lookups are plain loads; only a new key
 * costs atomics. */
#ifndef XT_INTERN_H
#define XT_INTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shim.h"

/* The slots come in levels, each twice the size of the one before and placed after it: level
 * k holds the keys whose IDs come after those of the levels below, at most half its size, so a
 * table grows as its generation adds keys without moving one, and its pages are about as many
 * as its keys need. Level 0's size is chosen when the table is idle, from its last
 * generation's count: a generation like the last fills level 0 alone. */
struct xt_intern {
	/* read by every lookup, written only while the table is idle, or (levels) when a level
	 * opens */
	/* 0 empty, else the entry's reference, (its offset / 8) + 1, in the bits below
	 * ~tag_mask, and in tag_mask bits of its key's hash: a probe passes most other keys
	 * without reading their entries */
	_Atomic uint32_t *slots;
	uint32_t tag_mask, tag_shift; /* the tag is the hash's bits from 1, shifted by tag_shift */
	size_t nslots; /* reserved: room for every level the IDs can fill */
	_Atomic uint32_t bits;   /* level 0 has 1 << bits slots */
	uint32_t max_bits;       /* level 0's largest size */
	_Atomic uint32_t levels; /* levels that may hold keys */
	/* Per ID (from 1): its entry's reference, once written; 0 none. The walks go through it,
	 * so a generation's dump and reset cost its entries, not the table's size. */
	_Atomic uint32_t *by_id;
	size_t max_ids;
	uint8_t *arena;
	size_t arena_cap;
	/* called once a generation when the arena is three quarters full: the owner ends the
	 * generation early rather than lose keys (NULL: nobody to ask) */
	void (*nearly_full)(void);
	/* written by every insert: apart from what lookups read */
	_Alignas(64) _Atomic size_t arena_used;
	_Atomic size_t fail_off; /* offset of the first allocation that did not fit */
	_Atomic uint64_t next_id;
	_Atomic bool asked; /* nearly_full was called this generation */
};

/* xt_intern returns key's ID (from 1), inserting it; 0 when the table is full. */
XT_HIDDEN uint64_t xt_intern(struct xt_intern *tab, uint64_t hash, const void *key, uint32_t len);
/* xt_intern_key returns ID id's key and its length in *len, or NULL when no entry by that ID
 * is published. */
XT_HIDDEN const void *xt_intern_key(struct xt_intern *tab, uint64_t id, uint32_t *len);
/* xt_intern_key_of is xt_intern_key for an ID that xt_intern returned from the table since its
 * last reset, an entry published whole: it skips the check that a slot names the entry, a
 * random load (the stack table's dump reads every frame of every stack). NULL if no entry has
 * that ID. */
XT_HIDDEN const void *xt_intern_key_of(struct xt_intern *tab, uint64_t id, uint32_t *len);
/* xt_intern_each calls fn for every key (the advancer, table idle but for threads it stopped
 * waiting for). */
XT_HIDDEN void xt_intern_each(struct xt_intern *tab,
			      void (*fn)(void *ctx, uint64_t id, const void *key, uint32_t len),
			      void *ctx);
/* xt_table_map gives bytes of zeroed memory for a table (NULL if it cannot), from the tables'
 * one reservation where they fit. A fork child gets that reservation empty (MADV_WIPEONFORK),
 * or, where the kernel cannot, xt_tables_forget_all gives back its every page; then
 * xt_table_forget each array gives back the pages of one mapped outside it. */
XT_HIDDEN void *xt_table_map(size_t bytes);
XT_HIDDEN void xt_tables_forget_all(void);
XT_HIDDEN void xt_table_forget(void *p, size_t bytes);
/* xt_intern_reset empties the table for its next generation, sizing its level 0 for as many
 * keys as this one had (table idle). */
XT_HIDDEN void xt_intern_reset(struct xt_intern *tab);
/* xt_intern_init makes a table whose level 0 is at most nslots slots (a power of two), with
 * arena_cap bytes of entries; it starts small. nearly_full may be NULL (see struct xt_intern);
 * xt_intern_forget empties it in a fork child, whatever the parent's threads were writing at
 * the fork, and gives its pages back (after xt_tables_forget_all, which gives back those in the
 * reservation); it starts small again. */
XT_HIDDEN bool xt_intern_init(struct xt_intern *tab, uint32_t nslots, size_t arena_cap,
			       void (*nearly_full)(void));
XT_HIDDEN void xt_intern_forget(struct xt_intern *tab);
/* Tables come in pairs, one per generation parity: init both (as xt_intern_init), or, in a
 * fork child, forget both (after xt_tables_forget_all), whatever the parent's threads were
 * writing at the fork, and give their pages back; the child's start small again. */
XT_HIDDEN bool xt_intern_init_pair(struct xt_intern tab[2], uint32_t nslots, size_t arena_cap,
				    void (*nearly_full)(void));
XT_HIDDEN void xt_intern_forget_pair(struct xt_intern tab[2]);

#endif
