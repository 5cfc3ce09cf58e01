/* alloctypes.c: AllocFree's type table (API, element size, count, alignment -> type ID) and its
 * per-generation experimental batch. Interning shares the lock-free table of intern.c. */
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "allocfree.h"
#include "alloctypes.h"
#include "experiment.h"
#include "generation.h"
#include "intern.h"
#include "varint.h"

static struct xt_intern tab[2];

bool xt_alloctypes_init(void)
{
	return xt_intern_init_pair(tab, 1u << 16, 8u << 20, xt_gen_advance_soon);
}

/* A fork child's trace starts at generation 1 with an empty table. */
static void fork_child(void)
{
	xt_intern_forget_pair(tab);
}

/* intern_type is the miss path: the shared table, then the memo entry m (if any). Out of line,
 * so the hit path saves no registers for it. */
static __attribute__((noinline)) uint64_t intern_type(struct xt_type_memo *m, uint64_t g,
						       unsigned api, uint64_t elem_size,
						       uint64_t count, uint64_t align)
{
	uint64_t key[4] = {api, elem_size, count, align};
	uint64_t id = xt_intern(&tab[g & 1], XXH3_64bits(key, sizeof(key)) | 1, key, sizeof(key));
	if (id && m)
		*m = (struct xt_type_memo){elem_size, count, align, g << 8 | api, id};
	return id;
}

uint64_t xt_alloc_type(struct xt_thread *t, unsigned api, uint64_t elem_size, uint64_t count,
		       uint64_t align)
{
	uint64_t g = atomic_load_explicit(&t->gen, memory_order_relaxed);
	if (xt_tl.tabling) /* a signal handler interrupted this thread at its memos: go past them */
		return intern_type(NULL, g, api, elem_size, count, align);
	xt_tl.tabling++;
	atomic_signal_fence(memory_order_seq_cst);
	if (api == XT_API_MALLOC && count == 1 && align == 0 && elem_size < XT_TYPES_BY_SIZE &&
	    t->types == t->types_big) {
		struct xt_size_type *m = &t->malloc_types[elem_size];
		uint64_t id = m->gen == (uint32_t)g ? m->id : 0;
		if (!id) {
			id = intern_type(NULL, g, api, elem_size, count, align);
			if (id <= UINT32_MAX)
				*m = (struct xt_size_type){(uint32_t)g, (uint32_t)id};
		}
		atomic_signal_fence(memory_order_seq_cst);
		xt_tl.tabling--;
		return id;
	}
	/* The thread's memo answers repeated requests exactly; a miss goes to the shared table.
	 * Two ways a set, the latest first: a program's sizes are many (every size of a string
	 * or a buffer), and one way would lose a frequent size to a rare one hashing alike. */
	uint64_t mix = (elem_size * 0x9e3779b97f4a7c15ull) ^ (count * 0xc2b2ae3d27d4eb4full) ^
		       (align * 0x165667b19e3779f9ull) ^ api;
	struct xt_type_memo *set = &t->types[(mix ^ (mix >> 29)) & t->types_mask & ~1u];
	uint64_t id = 0;
	for (int w = 0; w < 2 && !id; w++) {
		const struct xt_type_memo *m = &set[w];
		if (m->gen_api == (g << 8 | api) && m->elem_size == elem_size &&
		    m->count == count && m->align == align)
			id = m->id;
	}
	if (!id) {
		set[1] = set[0];
		id = intern_type(&set[0], g, api, elem_size, count, align);
	}
	atomic_signal_fence(memory_order_seq_cst);
	xt_tl.tabling--;
	return id;
}

static void put_one(void *ctx, uint64_t id, const void *k, uint32_t len)
{
	struct xt_expw *w = ctx;
	const uint64_t *key = k;
	uint8_t e[1 + 5 * XT_MAX_VARINT], *p = e;
	p = xt_put_uvarint(p, id);
	*p++ = (uint8_t)key[0];
	p = xt_put_uvarint(p, key[1]);
	p = xt_put_uvarint(p, key[2]);
	p = xt_put_uvarint(p, key[3]);
	xt_expw_put(w, e, (size_t)(p - e));
}

static void batches(struct xt_expw *w)
{
	xt_expw_subtype(w, XT_ALLOCFREE_BATCH_TYPES);
	xt_intern_each(&tab[xt_expw_gen(w) & 1], put_one, w);
}

/* The table of generation gen serves gen + 2 next. */
static void reset(uint64_t gen)
{
	xt_intern_reset(&tab[gen & 1]);
}

const struct xt_experiment_hooks xt_hooks_AllocFree = {
	.fork_child = fork_child,
	.batches = batches,
	.reset = reset,
};
