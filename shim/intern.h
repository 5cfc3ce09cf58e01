/* intern.h: a lock-free intern table, key bytes -> dense ID, one per generation parity.
 * Used for stacks and AllocFree types. Lookups are plain loads; only a new key costs atomics. */
#ifndef XT_INTERN_H
#define XT_INTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shim.h"

struct xt_intern {
	_Atomic uint32_t *slots; /* 0 empty, else (entry offset / 8) + 1 */
	uint32_t mask;
	/* Per ID (from 1): its entry, as a slot names it, once written; 0 none. The walks go
	 * through it, so a generation's dump and reset cost its entries, not the table's size. */
	_Atomic uint32_t *by_id;
	size_t max_ids;
	uint8_t *arena;
	size_t arena_cap;
	_Atomic size_t arena_used;
	_Atomic size_t fail_off; /* offset of the first allocation that did not fit */
	_Atomic uint64_t next_id;
};

/* xt_intern returns key's ID (from 1), inserting it; 0 when the table is full. */
XT_HIDDEN uint64_t xt_intern(struct xt_intern *tab, uint64_t hash, const void *key, uint32_t len);
/* xt_intern_key returns ID id's key and its length in *len, or NULL when no entry by that ID
 * is published. */
XT_HIDDEN const void *xt_intern_key(struct xt_intern *tab, uint64_t id, uint32_t *len);
/* xt_intern_each calls fn for every key (the advancer, table idle but for threads it stopped
 * waiting for). */
XT_HIDDEN void xt_intern_each(struct xt_intern *tab,
			      void (*fn)(void *ctx, uint64_t id, const void *key, uint32_t len),
			      void *ctx);
/* xt_table_map gives bytes of zeroed memory for a table (NULL if it cannot), from the tables'
 * one reservation where they fit. In a fork child, xt_tables_forget_all first gives back every
 * page of that reservation (the tables are all emptied there), then xt_table_forget each array
 * gives back the pages of one mapped outside it. */
XT_HIDDEN void *xt_table_map(size_t bytes);
XT_HIDDEN void xt_tables_forget_all(void);
XT_HIDDEN void xt_table_forget(void *p, size_t bytes);
/* xt_intern_reset empties the table for its next generation (table idle). */
XT_HIDDEN void xt_intern_reset(struct xt_intern *tab);
/* xt_intern_init makes a table with room for nslots keys and arena_cap bytes of entries;
 * xt_intern_forget empties it in a fork child, whatever the parent's threads were writing at
 * the fork, and gives its pages back (after xt_tables_forget_all, which gives back those in the
 * reservation). */
XT_HIDDEN bool xt_intern_init(struct xt_intern *tab, uint32_t nslots, size_t arena_cap);
XT_HIDDEN void xt_intern_forget(struct xt_intern *tab);
/* Tables come in pairs, one per generation parity: init both (room for nslots keys and
 * arena_cap bytes of entries each), or, in a fork child, forget both (after
 * xt_tables_forget_all), whatever the parent's threads were writing at the fork, and give their
 * pages back. */
XT_HIDDEN bool xt_intern_init_pair(struct xt_intern tab[2], uint32_t nslots, size_t arena_cap);
XT_HIDDEN void xt_intern_forget_pair(struct xt_intern tab[2]);

#endif
