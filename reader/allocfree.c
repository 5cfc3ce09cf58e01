/* allocfree.c: the reader's code for the AllocFree experiment: its type table (experimental
 * batch, subtype XT_ALLOCFREE_BATCH_TYPES), parsed and indexed per generation so that the check
 * pass finds every ObjectAlloc's type, and looked up by xtrace_alloc_type. */
#include <inttypes.h>

#include "allocfree.h"
#include "internal.h"

struct xt_atype {
	struct xtrace_alloc_type t;
	uint64_t boff;
};

/* AllocFree's type table: subtype byte, then {id, u8 api, elem_size, count, align}*. */
static int xt_parse_alloc_types(xtrace_reader *r, struct xt_gen *g, const struct xt_batch *b)
{
	if (b->len == 0 || b->data[0] != XT_ALLOCFREE_BATCH_TYPES)
		return 0;
	const uint8_t *p = b->data + 1, *end = b->data + b->len;
	while (p < end) {
		const uint8_t *at = p;
		uint64_t id, v[3];
		if (xt_uvarint(&p, end, &id) || p >= end)
			return XT_BAD(r, b, at, "bad alloc type entry");
		uint8_t api = *p++;
		for (int i = 0; i < 3; i++)
			if (xt_uvarint(&p, end, &v[i]))
				return XT_BAD(r, b, at, "bad alloc type entry");
		if (id == XT_NO_ID)
			return XT_BAD(r, b, at, "alloc type id 0");
		struct xt_atype *t = xt_vec_push(&g->exptab[XT_EXP_ALLOCFREE], sizeof *t);
		if (!t)
			return XT_NOMEM(r);
		t->t = (struct xtrace_alloc_type){.id = id, .api = api, .elem_size = v[0],
						  .count = v[1], .align = v[2]};
		t->boff = b->off;
	}
	return 0;
}

static uint64_t xt_atype_boff(const struct xt_gen *g, size_t i)
{
	return ((const struct xt_atype *)g->exptab[XT_EXP_ALLOCFREE].p)[i].boff;
}

static int xt_index_alloc_types(xtrace_reader *r, struct xt_gen *g, uint8_t exp)
{
	if (xt_rd_index(r, &g->typei[exp], &g->exptab[exp], sizeof(struct xt_atype), "alloc type",
			xt_atype_boff))
		return -1;
	g->typed[exp] = 1;
	return 0;
}

const struct xt_rd_experiment xt_rd_exp_AllocFree = {
	.batch = xt_parse_alloc_types,
	.index = xt_index_alloc_types,
};

const struct xtrace_alloc_type *xtrace_alloc_type(const xtrace_reader *r, uint64_t id)
{
	if (!r->have_gen || id == XT_NO_ID)
		return NULL;
	int64_t i = xt_idx_get(&r->g.typei[XT_EXP_ALLOCFREE], id);
	return i < 0 ? NULL : &((const struct xt_atype *)r->g.exptab[XT_EXP_ALLOCFREE].p)[i].t;
}

const char *xtrace_alloc_api_name(uint8_t api)
{
	static const char *const names[] = {
#define XT_API_NAME(ident, name) name,
		XT_ALLOC_APIS(XT_API_NAME)
#undef XT_API_NAME
	};
	return api < XT_API_COUNT ? names[api] : NULL;
}
