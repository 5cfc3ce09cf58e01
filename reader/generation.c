/* generation.c: reading one generation: its batches up to End, its tables (strings, stacks,
 * modules, AllocFree types, experimental batches, sync) and a check of every event in it.
 * Nothing is allocated on a count the file merely claims: arrays grow with entries parsed. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "allocfree.h"
#include "internal.h"

static void *xt_vec_push(struct xt_vec *v, size_t elsz)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *p = realloc(v->p, cap * elsz);
		if (!p)
			return NULL;
		v->p = p;
		v->cap = cap;
	}
	return (char *)v->p + elsz * v->n++;
}

/* xt_vec_grow makes room for n more elements and returns where they go; n is bounded by bytes
 * present in the file. */
static void *xt_vec_grow(struct xt_vec *v, size_t elsz, size_t n)
{
	/* An empty vector gets its first block even for n == 0: the caller gets a pointer, not the
	 * NULL that means out of memory. */
	if (v->n + n > v->cap || !v->p) {
		size_t cap = v->cap ? v->cap : 64;
		while (cap < v->n + n)
			cap *= 2;
		void *p = realloc(v->p, cap * elsz);
		if (!p)
			return NULL;
		v->p = p;
		v->cap = cap;
	}
	void *at = (char *)v->p + elsz * v->n;
	v->n += n;
	return at;
}

static void xt_vec_free(struct xt_vec *v)
{
	free(v->p);
	v->p = NULL;
	v->n = v->cap = 0;
}

static int xt_pair_cmp(const void *a, const void *b)
{
	const struct xt_idpair *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* xt_idx_build indexes n entries of size stride whose uint64_t id is their first field.
 * It returns 0, -1 when out of memory, or 1 with *dup set to the index of an entry whose ID an
 * earlier entry already has. */
static int xt_idx_build(struct xt_idx *x, const void *entries, size_t n, size_t stride,
			size_t *dup)
{
	uint64_t max = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t id = *(const uint64_t *)((const char *)entries + i * stride);
		if (id > max)
			max = id;
	}
	x->sparse.n = 0;
	/* Dense when that costs at most a few slots per entry: memory follows the entries. */
	if (max <= 2 * (uint64_t)n + 64) {
		size_t need = (size_t)max + 1;
		if (need > x->capdense) {
			uint32_t *d = realloc(x->dense, need * sizeof *d);
			if (!d)
				return -1;
			x->dense = d;
			x->capdense = need;
		}
		x->ndense = need;
		memset(x->dense, 0, need * sizeof *x->dense);
		for (size_t i = 0; i < n; i++) {
			uint64_t id = *(const uint64_t *)((const char *)entries + i * stride);
			if (x->dense[id]) {
				*dup = i;
				return 1;
			}
			x->dense[id] = (uint32_t)i + 1;
		}
		return 0;
	}
	free(x->dense);
	x->dense = NULL;
	x->ndense = x->capdense = 0;
	struct xt_idpair *a = xt_vec_grow(&x->sparse, sizeof *a, n);
	if (!a)
		return -1;
	for (size_t i = 0; i < n; i++) {
		a[i].id = *(const uint64_t *)((const char *)entries + i * stride);
		a[i].idx = (uint32_t)i;
	}
	qsort(a, n, sizeof *a, xt_pair_cmp);
	int found = 0;
	for (size_t i = 1; i < n; i++)
		if (a[i].id == a[i - 1].id && (!found || a[i].idx < *dup)) {
			*dup = a[i].idx;
			found = 1;
		}
	return found;
}

static void xt_idx_free(struct xt_idx *x)
{
	free(x->dense);
	xt_vec_free(&x->sparse);
	memset(x, 0, sizeof *x);
}

void xt_rd_gen_free(struct xt_gen *g)
{
	struct xt_vec *v[] = {&g->batches, &g->strs, &g->arena, &g->stks, &g->pcs,
			      &g->mods, &g->modx, &g->modmap, &g->atypes, &g->expb};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		xt_vec_free(v[i]);
	xt_idx_free(&g->stri);
	xt_idx_free(&g->stki);
	xt_idx_free(&g->modi);
	xt_idx_free(&g->atypei);
}

static void xt_gen_reset(struct xt_gen *g)
{
	g->batches.n = g->strs.n = g->arena.n = g->stks.n = g->pcs.n = 0;
	g->mods.n = g->modx.n = g->modmap.n = g->atypes.n = g->expb.n = 0;
	memset(&g->sync, 0, sizeof g->sync);
	g->sync_off = UINT64_MAX;
}

#define XT_NOMEM(r) xt_rd_fail(r, XTRACE_ERR_NOMEM, 0, "out of memory")

/* XT_BAD reports malformed bytes in a batch: what, the batch, and the offset of the entry or
 * event at fault. The error offset is the batch's. */
#define XT_BAD(r, b, p, what, ...)                                                         \
	xt_rd_fail(r, XTRACE_ERR_CORRUPT, (b)->off,                                           \
		"%s batch at offset %" PRIu64 ": " what " at offset %" PRIu64, xt_kind_name(b), \
		(b)->off, ##__VA_ARGS__, (uint64_t)((p) - (r)->data))

static const char *xt_kind_name(const struct xt_batch *b)
{
	static const char *const names[] = {"?", "events", "strings", "stacks", "modules",
					    "experimental", "sync", "end"};
	return names[b->kind];
}

static int xt_parse_strings(xtrace_reader *r, struct xt_gen *g, const struct xt_batch *b)
{
	const uint8_t *p = b->data, *end = p + b->len;
	while (p < end) {
		const uint8_t *at = p;
		uint64_t id, len;
		if (xt_uvarint(&p, end, &id) || xt_uvarint(&p, end, &len))
			return XT_BAD(r, b, at, "bad string entry");
		if (id == XT_NO_ID)
			return XT_BAD(r, b, at, "string id 0");
		if (len > XT_MAX_STRING)
			return XT_BAD(r, b, at, "string %" PRIu64 " length %" PRIu64 " exceeds limit %d",
				      id, len, XT_MAX_STRING);
		if ((uint64_t)(end - p) < len)
			return XT_BAD(r, b, at, "string %" PRIu64 " length %" PRIu64
				      " runs past the batch", id, len);
		struct xt_str *s = xt_vec_push(&g->strs, sizeof *s);
		char *dst = xt_vec_grow(&g->arena, 1, len + 1);
		if (!s || !dst)
			return XT_NOMEM(r);
		memcpy(dst, p, len);
		dst[len] = 0;
		s->id = id;
		s->off = g->arena.n - len - 1;
		s->len = len;
		s->boff = b->off;
		p += len;
	}
	return 0;
}

static int xt_parse_stacks(xtrace_reader *r, struct xt_gen *g, const struct xt_batch *b)
{
	const uint8_t *p = b->data, *end = p + b->len;
	while (p < end) {
		const uint8_t *at = p;
		uint64_t id, n, pc;
		if (xt_uvarint(&p, end, &id) || xt_uvarint(&p, end, &n))
			return XT_BAD(r, b, at, "bad stack entry");
		if (id == XT_NO_ID)
			return XT_BAD(r, b, at, "stack id 0");
		if (n == 0 || n > XT_MAX_FRAMES)
			return XT_BAD(r, b, at, "stack %" PRIu64 " has %" PRIu64 " frames (1..%d)", id,
				      n, XT_MAX_FRAMES);
		/* Each frame takes at least one byte: n is checked before it sizes anything. */
		if ((uint64_t)(end - p) < n)
			return XT_BAD(r, b, at, "stack %" PRIu64 " with %" PRIu64
				      " frames runs past the batch", id, n);
		struct xt_stk *s = xt_vec_push(&g->stks, sizeof *s);
		uint64_t *pcs = xt_vec_grow(&g->pcs, sizeof *pcs, n);
		if (!s || !pcs)
			return XT_NOMEM(r);
		s->id = id;
		s->n = n;
		s->off = g->pcs.n - n;
		s->boff = b->off;
		if (xt_uvarint(&p, end, &pc))
			return XT_BAD(r, b, at, "stack %" PRIu64 ": bad pc", id);
		pcs[0] = pc;
		for (uint64_t i = 1; i < n; i++) {
			uint64_t z;
			if (xt_uvarint(&p, end, &z))
				return XT_BAD(r, b, at, "stack %" PRIu64 ": bad pc delta %" PRIu64, id, i);
			pc += (uint64_t)xt_unzigzag(z);
			pcs[i] = pc;
		}
	}
	return 0;
}

static int xt_parse_modules(xtrace_reader *r, struct xt_gen *g, const struct xt_batch *b)
{
	const uint8_t *p = b->data, *end = p + b->len;
	while (p < end) {
		const uint8_t *at = p;
		uint64_t v[6];
		for (int i = 0; i < 6; i++)
			if (xt_uvarint(&p, end, &v[i]))
				return XT_BAD(r, b, at, "bad module entry");
		if (v[0] == XT_NO_ID)
			return XT_BAD(r, b, at, "module id 0");
		if (v[5] > XT_MAX_BUILDID || (uint64_t)(end - p) < v[5])
			return XT_BAD(r, b, at, "module %" PRIu64 ": build id length %" PRIu64, v[0],
				      v[5]);
		struct xtrace_module *m = xt_vec_push(&g->mods, sizeof *m);
		struct xt_modx *x = xt_vec_push(&g->modx, sizeof *x);
		if (!m || !x)
			return XT_NOMEM(r);
		*m = (struct xtrace_module){.id = v[0], .base = v[2], .lo = v[3], .hi = v[4],
					    .build_id = v[5] ? p : NULL, .build_id_len = v[5]};
		x->path_id = v[1];
		x->boff = b->off;
		p += v[5];
	}
	return 0;
}

/* AllocFree's type table: subtype byte, then {id, u8 api, elem_size, count, align}*. */
static int xt_parse_alloc_types(xtrace_reader *r, struct xt_gen *g, const struct xt_batch *b)
{
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
		struct xt_atype *t = xt_vec_push(&g->atypes, sizeof *t);
		if (!t)
			return XT_NOMEM(r);
		t->t = (struct xtrace_alloc_type){.id = id, .api = api, .elem_size = v[0],
						  .count = v[1], .align = v[2]};
		t->boff = b->off;
	}
	return 0;
}

static int xt_parse_sync(xtrace_reader *r, struct xt_gen *g, const struct xt_batch *b)
{
	if (g->sync_off != UINT64_MAX)
		return xt_rd_fail(r, XTRACE_ERR_CORRUPT, b->off,
			       "sync batch at offset %" PRIu64 ": second sync of generation %" PRIu64
			       " (first at offset %" PRIu64 ")",
			       b->off, g->gen, g->sync_off);
	const uint8_t *p = b->data, *end = p + b->len;
	uint64_t v[4];
	for (int i = 0; i < 3; i++)
		if (xt_uvarint(&p, end, &v[i]))
			return XT_BAD(r, b, p, "bad sync payload");
	/* Events in nanoseconds map onto themselves; ticks by the Sync's anchor and rate. */
	g->clock = (struct xt_clockmap){.mult = 1ull << XT_CLOCK_FRAC};
	v[3] = b->time;
	if (r->clock_per_gen) {
		if (xt_uvarint(&p, end, &v[3]))
			return XT_BAD(r, b, p, "bad sync payload: no monotonic time");
		if (v[0] < XT_MIN_TICKS_PER_SEC || v[0] > XT_MAX_TICKS_PER_SEC)
			return xt_rd_fail(r, XTRACE_ERR_CORRUPT, b->off,
				       "sync batch at offset %" PRIu64 ": ticks_per_sec %" PRIu64
				       " outside %llu..%llu",
				       b->off, v[0], XT_MIN_TICKS_PER_SEC, XT_MAX_TICKS_PER_SEC);
		g->clock = (struct xt_clockmap){
			.ticks0 = b->time,
			.ns0 = v[3],
			.mult = (uint64_t)(((unsigned __int128)1000000000u << XT_CLOCK_FRAC) / v[0]),
		};
	}
	/* Bytes after the known fields are left to newer readers, as in the header. */
	g->sync_off = b->off;
	g->sync.ts = v[3];
	g->sync.ticks_per_sec = v[0];
	g->sync.wall_sec = v[1];
	g->sync.wall_nsec = v[2];
	return 0;
}

/* xt_index reports a duplicate ID with the offset of the batch that repeats it. */
static int xt_index(xtrace_reader *r, struct xt_idx *x, const struct xt_vec *v, size_t stride,
		    const char *what, uint64_t (*boff)(const struct xt_gen *, size_t))
{
	size_t dup = 0;
	int rc = xt_idx_build(x, v->p, v->n, stride, &dup);
	if (rc < 0)
		return XT_NOMEM(r);
	if (rc > 0) {
		uint64_t off = boff(&r->g, dup);
		return xt_rd_fail(r, XTRACE_ERR_CORRUPT, off,
			       "batch at offset %" PRIu64 ": duplicate %s id %" PRIu64
			       " in generation %" PRIu64,
			       off, what, *(const uint64_t *)((const char *)v->p + dup * stride),
			       r->g.gen);
	}
	return 0;
}

static uint64_t xt_str_boff(const struct xt_gen *g, size_t i)
{
	return ((const struct xt_str *)g->strs.p)[i].boff;
}
static uint64_t xt_stk_boff(const struct xt_gen *g, size_t i)
{
	return ((const struct xt_stk *)g->stks.p)[i].boff;
}
static uint64_t xt_mod_boff(const struct xt_gen *g, size_t i)
{
	return ((const struct xt_modx *)g->modx.p)[i].boff;
}
static uint64_t xt_atype_boff(const struct xt_gen *g, size_t i)
{
	return ((const struct xt_atype *)g->atypes.p)[i].boff;
}

/* What the check of an Events batch knows of its references, per list (allocfree.h). */
struct xt_refs {
	uint32_t n[XT_REFS_LISTS];     /* events of the list so far */
	uint32_t reach[XT_REFS_LISTS]; /* largest back_value into the list so far + 1 */
};

/* What each list holds, for messages. */
static const char *const xt_refs_list_names[XT_REFS_LISTS] = {
	[XT_REFS_ALLOCS] = "ObjectAlloc",
	[XT_REFS_FREES] = "ObjectFree or ObjectReallocFree",
};

/* xt_refs_see takes in an event of type whose first argument is v (a reference form's
 * back_value): a reference must name one of the last XT_ALLOCREF_WINDOW events of its list
 * before it; an AllocFree event is one more of its list a later reference may name. 0 when
 * good. */
static inline int xt_refs_see(struct xt_refs *rs, uint8_t type, uint64_t v)
{
	int named = xt_allocref_names(type), list = xt_allocref_list(type);
	if (named >= 0) {
		if (v >= rs->n[named] || v >= XT_ALLOCREF_WINDOW)
			return -1;
		if (v >= rs->reach[named])
			rs->reach[named] = (uint32_t)v + 1;
	}
	if (list >= 0)
		rs->n[list]++;
	return 0;
}

/* xt_fast_check_arg reads one argument of a kind known at compile time into *v and checks an ID
 * against its table; allocfree says a type argument is AllocFree's. 0 when good. */
static XT_ALWAYS_INLINE int xt_fast_check_arg(const struct xt_gen *g, const uint8_t **pp,
				    enum xt_arg_kind kind, int allocfree, uint64_t *v_out)
{
	uint64_t v;
	if (xt_word_uvarint(pp, &v))
		return -1;
	*v_out = v;
	const struct xt_idx *x = kind == XT_KIND_string ? &g->stri
				 : kind == XT_KIND_stack ? &g->stki
				 : kind == XT_KIND_type && allocfree ? &g->atypei
								      : NULL;
	return x && v != XT_NO_ID && xt_idx_get(x, v) < 0 ? -1 : 0;
}

/* xt_fast_check_event checks the event at *pp, which has XT_FAST_ROOM bytes at hand, with code
 * generated per event type from events.def, and takes it into rs. It only tells good from not
 * known to be good: on -1 the caller runs the generic check over the same bytes (rs untouched),
 * which says what is wrong. */
static int xt_fast_check_event(const struct xt_gen *g, const uint8_t **pp, struct xt_refs *rs)
{
	const uint8_t *p = *pp;
	uint64_t dt, v0 = 0, v, *a = &v0;
	uint8_t type = *p++;
	if (xt_word_uvarint(&p, &dt))
		return -1;
	switch (type) {
#define XT_EXPERIMENT(ident, id, name, version)
#define XT_CHECK_ARG(name, kind)                                              \
	if (xt_fast_check_arg(g, &p, XT_KIND_##kind, allocfree, a))           \
		return -1;                                                    \
	a = &v;
#define XT_EVENT(name, id, exp, start, form, nargs, ...)                                   \
	case id: {                                                            \
		const int allocfree = XT_EXP_##exp == XT_EXP_ALLOCFREE;        \
		(void)allocfree;                                              \
		XT_PAIRS(nargs, XT_CHECK_ARG, ##__VA_ARGS__)                   \
		if (xt_refs_see(rs, id, v0))                                  \
			return -1;                                            \
		break;                                                        \
	}
#include "events.def"
#undef XT_EVENT
#undef XT_CHECK_ARG
#undef XT_EXPERIMENT
	default:
		return -1;
	}
	*pp = p;
	return 0;
}

/* xt_check_events decodes every event of an Events batch once: known type, varints that end
 * inside the batch, the payload ending on an event boundary, string, stack and AllocFree type
 * IDs present in the generation's tables, references naming an event of their list before them.
 * The ordering pass then decodes without checks. The ndone events before from were checked
 * already, into rs. */
static int xt_check_events(xtrace_reader *r, struct xt_gen *g, struct xt_batch *b,
			   const uint8_t *from, uint32_t ndone, struct xt_refs rs)
{
	const uint8_t *p = from, *end = b->data + b->len;
	uint32_t n = ndone;
	while (p < end) {
		const uint8_t *at = p;
		/* Away from the batch's end no varint can run past it: the fast path needs no bounds
		 * checks. The generic check below takes the tail and anything the fast one rejects. */
		if (end - p >= XT_FAST_ROOM && xt_fast_check_event(g, &p, &rs) == 0) {
			n++;
			continue;
		}
		uint8_t type = *p++;
		const struct xt_event_spec *s = &xt_specs[type];
		if (!s->name)
			return XT_BAD(r, b, at, "unknown event type %u", type);
		uint64_t v, v0 = 0;
		if (xt_uvarint(&p, end, &v))
			return XT_BAD(r, b, at, "event %s: bad dt", s->name);
		for (unsigned i = 0; i < s->nargs; i++) {
			if (xt_uvarint(&p, end, &v))
				return XT_BAD(r, b, at, "event %s: bad argument %s", s->name,
					      s->arg_names[i]);
			if (i == 0)
				v0 = v;
			if (v == XT_NO_ID)
				continue;
			const struct xt_idx *x = NULL;
			switch (s->arg_kinds[i]) {
			case XT_KIND_string:
				x = &g->stri;
				break;
			case XT_KIND_stack:
				x = &g->stki;
				break;
			case XT_KIND_type:
				/* The reader knows AllocFree's type table; other experiments' tables are
				 * theirs to check. */
				if (s->experiment == XT_EXP_ALLOCFREE)
					x = &g->atypei;
				break;
			}
			if (x && xt_idx_get(x, v) < 0)
				return XT_BAD(r, b, at, "event %s: %s %" PRIu64 " not in the generation",
					      s->name, s->arg_names[i], v);
		}
		if (xt_refs_see(&rs, type, v0)) {
			int named = xt_allocref_names(type);
			return XT_BAD(r, b, at, "event %s: %s %" PRIu64 " names no %s of the batch (%"
				      PRIu32 " before it, at most %d back)", s->name, s->arg_names[0], v0,
				      xt_refs_list_names[named], rs.n[named], XT_ALLOCREF_WINDOW);
		}
		n++;
	}
	b->nevents = n;
	memcpy(b->reach, rs.reach, sizeof b->reach);
	g->sync.nevents += n;
	return 0;
}

/* Batches the check pass walks side by side. */
#define XT_LANES 4

/* xt_check_all checks every Events batch of g. Where an event ends is known only once it is
 * decoded, so the events of one batch form a chain of dependent loads; walking XT_LANES batches
 * side by side gives the processor that many independent chains to overlap. The lanes run the
 * fast check; a batch's tail, and any event the fast check does not pass, go through
 * xt_check_events. A batch is finished only while no earlier batch has failed, so the error
 * reported is that of the first bad batch in file order, as when checking one after another. */
static int xt_check_all(xtrace_reader *r, struct xt_gen *g)
{
	struct xt_lane {
		struct xt_batch *b; /* NULL: idle */
		const uint8_t *p;
		uint32_t n;
		struct xt_refs rs;
	} lane[XT_LANES];
	struct xt_batch *bs = g->batches.p;
	size_t nb = g->batches.n, next = 0, failed = SIZE_MAX;
	int busy = 0;
	for (int k = 0; k < XT_LANES; k++) {
		lane[k] = (struct xt_lane){0};
		if (next < nb) {
			lane[k].b = &bs[next++];
			lane[k].p = lane[k].b->data;
			busy++;
		}
	}
	while (busy) {
		for (int k = 0; k < XT_LANES; k++) {
			struct xt_lane *l = &lane[k];
			if (!l->b)
				continue;
			const uint8_t *at = l->p;
			if (l->b->data + l->b->len - at >= XT_FAST_ROOM &&
			    xt_fast_check_event(g, &l->p, &l->rs) == 0) {
				l->n++;
				continue;
			}
			size_t i = (size_t)(l->b - bs);
			if (i < failed && xt_check_events(r, g, l->b, at, l->n, l->rs))
				failed = i;
			l->n = 0;
			l->rs = (struct xt_refs){0};
			l->b = NULL;
			if (next < nb && next < failed) {
				l->b = &bs[next++];
				l->p = l->b->data;
			} else {
				busy--;
			}
		}
	}
	return failed == SIZE_MAX ? 0 : -1;
}

static int xt_batch_cmp(const void *a, const void *b)
{
	const struct xt_batch *x = a, *y = b;
	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* xt_gather reads the batches of the next generation up to its End. Events batches go to
 * g->batches; every other kind is parsed on the spot, so only Events batches are kept. */
static int xt_gather(xtrace_reader *r, struct xt_gen *g)
{
	uint64_t first = r->next_off, off = first, want = r->last_gen + 1, nb = 0;
	char msg[XT_ERRLEN];
	struct xt_batch b;
	for (;;) {
		uint64_t next = 0;
		enum xt_read rc = xt_rd_batch(r, off, &b, &next, msg, sizeof msg);
		/* A writer always completes at least one generation, so a file that ends right after
		 * its header belongs to a process that died before it could: that is a cut too. */
		if (rc == XT_READ_EOF && off == first && r->last_gen)
			return 0;
		if (rc == XT_READ_EOF || rc == XT_READ_TRUNC)
			return xt_rd_fail(r, XTRACE_ERR_TRUNCATED, first,
				       "trace truncated at offset %" PRIu64 ": generation %" PRIu64
				       " has no end (file ends at %zu)",
				       first, off == first ? want : g->gen, r->size);
		if (rc == XT_READ_CORRUPT)
			return xt_rd_fail(r, XTRACE_ERR_CORRUPT, off, "%s", msg);
		if (off == first) {
			if (b.gen == 0)
				return xt_rd_fail(r, XTRACE_ERR_CORRUPT, off,
					       "batch at offset %" PRIu64 ": generation 0", off);
			/* The first generation may have any number; later ones count up by one. */
			if (r->last_gen && b.gen != want)
				return xt_rd_fail(r, XTRACE_ERR_CORRUPT, off,
					       "batch at offset %" PRIu64 ": generation %" PRIu64
					       " follows generation %" PRIu64,
					       off, b.gen, r->last_gen);
			g->gen = b.gen;
			g->off = first;
		} else if (b.gen != g->gen) {
			return xt_rd_fail(r, XTRACE_ERR_CORRUPT, off,
				       "batch at offset %" PRIu64 ": generation %" PRIu64
				       " before the end of generation %" PRIu64,
				       off, b.gen, g->gen);
		}
		if (b.kind == XT_BATCH_END) {
			const uint8_t *p = b.data, *end = p + b.len;
			uint64_t n, lost;
			if (xt_uvarint(&p, end, &n) || xt_uvarint(&p, end, &lost))
				return xt_rd_fail(r, XTRACE_ERR_CORRUPT, off,
					       "end batch at offset %" PRIu64 ": bad payload", off);
			if (n != nb)
				return xt_rd_fail(r, XTRACE_ERR_CORRUPT, off,
					       "end batch at offset %" PRIu64 ": generation %" PRIu64
					       " claims %" PRIu64 " batches, %" PRIu64 " came before it",
					       off, g->gen, n, nb);
			g->sync.lost = lost;
			r->next_off = next;
			return 1;
		}
		nb++;
		off = next;
		int err = 0;
		switch (b.kind) {
		case XT_BATCH_EVENTS: {
			struct xt_batch *k = xt_vec_push(&g->batches, sizeof *k);
			if (!k)
				return XT_NOMEM(r);
			*k = b;
			break;
		}
		case XT_BATCH_STRINGS:
			err = xt_parse_strings(r, g, &b);
			break;
		case XT_BATCH_STACKS:
			err = xt_parse_stacks(r, g, &b);
			break;
		case XT_BATCH_MODULES:
			err = xt_parse_modules(r, g, &b);
			break;
		case XT_BATCH_EXPERIMENTAL: {
			struct xtrace_exp_batch *e = xt_vec_push(&g->expb, sizeof *e);
			if (!e)
				return XT_NOMEM(r);
			*e = (struct xtrace_exp_batch){.experiment = b.experiment, .thread = b.thread,
						       .data = b.data, .len = b.len};
			if (b.experiment == XT_EXP_ALLOCFREE && b.len > 0 &&
			    b.data[0] == XT_ALLOCFREE_BATCH_TYPES)
				err = xt_parse_alloc_types(r, g, &b);
			break;
		}
		case XT_BATCH_SYNC:
			err = xt_parse_sync(r, g, &b);
			break;
		}
		if (err)
			return -1;
	}
}

/* A module's range starting (start 1) or ending at pos, for the sweep of xt_build_modmap. */
struct xt_modedge {
	uint64_t pos;
	size_t mod;
	int start;
};

static int xt_modedge_cmp(const void *a, const void *b)
{
	const struct xt_modedge *x = a, *y = b;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* max_heap_push and max_heap_pop keep h[0..*n) a binary max-heap of module indices. */
static void max_heap_push(size_t *h, size_t *n, size_t v)
{
	size_t i = (*n)++;
	for (; i && h[(i - 1) / 2] < v; i = (i - 1) / 2)
		h[i] = h[(i - 1) / 2];
	h[i] = v;
}

static void max_heap_pop(size_t *h, size_t *n)
{
	size_t v = h[--*n], i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] > h[c])
			c++;
		if (h[c] <= v)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = v;
}

/* xt_build_modmap cuts the generation's module ranges into disjoint stretches, each held by
 * the latest module covering it (as a later object mapped over an unloaded one's range), so a
 * lookup is a binary search however many modules a trace names: one sweep over the sorted
 * range ends, with the covering modules in a max-heap. */
static int xt_build_modmap(struct xt_gen *g)
{
	const struct xtrace_module *m = g->mods.p;
	size_t n = g->mods.n, ne = 0, nh = 0;
	if (!n)
		return 0;
	struct xt_modedge *e = malloc(2 * n * sizeof *e);
	size_t *heap = malloc(n * sizeof *heap);
	unsigned char *ended = calloc(n, 1);
	int rc = -1;
	if (!e || !heap || !ended)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (m[i].lo >= m[i].hi)
			continue;
		e[ne++] = (struct xt_modedge){m[i].lo, i, 1};
		e[ne++] = (struct xt_modedge){m[i].hi, i, 0};
	}
	qsort(e, ne, sizeof *e, xt_modedge_cmp);
	for (size_t i = 0; i < ne;) {
		uint64_t pos = e[i].pos;
		for (; i < ne && e[i].pos == pos; i++) {
			if (e[i].start)
				max_heap_push(heap, &nh, e[i].mod);
			else
				ended[e[i].mod] = 1;
		}
		while (nh && ended[heap[0]])
			max_heap_pop(heap, &nh);
		if (!nh || i == ne)
			continue;
		struct xt_modseg *last = g->modmap.n ? (struct xt_modseg *)g->modmap.p + g->modmap.n - 1
						     : NULL;
		if (last && last->mod == heap[0] && last->hi == pos) {
			last->hi = e[i].pos;
			continue;
		}
		struct xt_modseg *sg = xt_vec_push(&g->modmap, sizeof *sg);
		if (!sg)
			goto out;
		*sg = (struct xt_modseg){pos, e[i].pos, heap[0]};
	}
	rc = 0;
out:
	free(e);
	free(heap);
	free(ended);
	return rc;
}

int xt_rd_gen_load(xtrace_reader *r)
{
	struct xt_gen *g = &r->g;
	r->have_gen = 0;
	xt_gen_reset(g);
	int rc = xt_gather(r, g);
	if (rc <= 0)
		return rc;
	if (g->sync_off == UINT64_MAX)
		return xt_rd_fail(r, XTRACE_ERR_CORRUPT, g->off,
			       "generation %" PRIu64 " at offset %" PRIu64 " has no sync batch",
			       g->gen, g->off);
	if (xt_index(r, &g->stri, &g->strs, sizeof(struct xt_str), "string", xt_str_boff) ||
	    xt_index(r, &g->stki, &g->stks, sizeof(struct xt_stk), "stack", xt_stk_boff) ||
	    xt_index(r, &g->modi, &g->mods, sizeof(struct xtrace_module), "module", xt_mod_boff) ||
	    xt_index(r, &g->atypei, &g->atypes, sizeof(struct xt_atype), "alloc type",
		     xt_atype_boff))
		return -1;
	struct xtrace_module *m = g->mods.p;
	const struct xt_modx *mx = g->modx.p;
	const struct xt_str *strs = g->strs.p;
	for (size_t i = 0; i < g->mods.n; i++) {
		/* Path ID 0 is "none": an object without a name keeps an empty path. */
		if (mx[i].path_id == XT_NO_ID) {
			m[i].path = "";
			continue;
		}
		int64_t s = xt_idx_get(&g->stri, mx[i].path_id);
		if (s < 0)
			return xt_rd_fail(r, XTRACE_ERR_CORRUPT, mx[i].boff,
				       "modules batch at offset %" PRIu64 ": module %" PRIu64
				       " path string %" PRIu64 " not in the generation",
				       mx[i].boff, m[i].id, mx[i].path_id);
		m[i].path = (const char *)g->arena.p + strs[s].off;
	}
	if (xt_build_modmap(g))
		return xt_rd_fail(r, XTRACE_ERR_NOMEM, g->off, "out of memory for the module map");
	struct xt_batch *bs = g->batches.p;
	if (xt_check_all(r, g))
		return -1;
	/* A thread's batches stay in file order: that is its time order. */
	if (g->batches.n > 1)
		qsort(bs, g->batches.n, sizeof *bs, xt_batch_cmp);
	/* Threads with at least one event, over runs of the same thread. */
	for (size_t i = 0, j; i < g->batches.n; i = j) {
		int any = 0;
		for (j = i; j < g->batches.n && bs[j].thread == bs[i].thread; j++)
			any |= bs[j].nevents != 0;
		g->sync.nthreads += any;
	}
	g->sync.gen = g->gen;
	g->sync.batches = g->expb.p;
	g->sync.nbatches = g->expb.n;
	return 1;
}
