/* alloctypes.c: AllocFree's type table (API, element size, count, alignment -> type ID) and its
 * per-generation experimental batch. Interning shares the lock-free table of intern.c. */
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "allocfree.h"
#include "alloctypes.h"
#include "intern.h"

static struct xt_intern tab[2];

bool xt_alloctypes_init(void)
{
	return xt_intern_init(&tab[0], 1u << 16, 8u << 20) &&
	       xt_intern_init(&tab[1], 1u << 16, 8u << 20);
}

void xt_alloctypes_reset_all(void)
{
	xt_intern_reset(&tab[0]);
	xt_intern_reset(&tab[1]);
}

uint64_t xt_alloc_type(struct xt_thread *t, unsigned api, uint64_t elem_size, uint64_t count,
		       uint64_t align)
{
	if (xt_tl.busy)
		return 0;
	xt_tl.busy++;
	uint64_t key[4] = {api, elem_size, count, align};
	uint64_t g = atomic_load_explicit(&t->gen, memory_order_relaxed);
	uint64_t h = XXH3_64bits(key, sizeof(key)) | 1;
	unsigned slot = (unsigned)h & 63;
	uint64_t id;
	/* The stack capture before this call already reset the caches for a new generation. */
	if (t->cache_gen == g && t->type_cache_key[slot] == h) {
		id = t->type_cache_id[slot];
	} else {
		id = xt_intern(&tab[g & 1], h, key, sizeof(key));
		if (id && t->cache_gen == g) {
			t->type_cache_key[slot] = h;
			t->type_cache_id[slot] = id;
		}
	}
	xt_tl.busy--;
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

void xt_exp_batches_AllocFree(struct xt_expw *w)
{
	uint64_t gen = xt_expw_gen(w);
	xt_expw_subtype(w, XT_ALLOCFREE_BATCH_TYPES);
	xt_intern_each(&tab[gen & 1], put_one, w);
	xt_intern_reset(&tab[gen & 1]);
}
