/* order.c: the merged event stream of a generation. One cursor per thread walks that thread's
 * Events batches in file order; a min-heap keyed by (timestamp, thread) picks the next event.
 * Events were checked when the generation was read: decoding here does no checks, and a
 * thread's next event starts where the arguments of the one handed out end. */
#include <stdlib.h>
#include <string.h>

#include "allocfree.h"
#include "internal.h"

/* xt_byte_uvarint decodes a uvarint already known to be well formed and inside its batch. */
static inline uint64_t xt_byte_uvarint(const uint8_t **pp)
{
	const uint8_t *p = *pp;
	uint64_t v = *p++;
	if (v >= 0x80) {
		v &= 0x7f;
		for (unsigned shift = 7;; shift += 7) {
			uint8_t b = *p++;
			v |= (uint64_t)(b & 0x7f) << shift;
			if (!(b & 0x80))
				break;
		}
	}
	*pp = p;
	return v;
}

/* xt_get decodes a checked uvarint of an event that has XT_FAST_ROOM bytes at hand when wide. */
static XT_ALWAYS_INLINE uint64_t xt_get(const uint8_t **pp, int wide)
{
	uint64_t v;
	if (wide && xt_word_uvarint(pp, &v) == 0)
		return v;
	return xt_byte_uvarint(pp);
}

/* xt_arg decodes one argument of a kind known at compile time; addr arguments are deltas from
 * the batch's previous one. */
static XT_ALWAYS_INLINE uint64_t xt_arg(const uint8_t **pp, int wide, enum xt_arg_kind kind,
			      uint64_t *prev_addr)
{
	uint64_t v = xt_get(pp, wide);
	if (kind == XT_KIND_addr) {
		*prev_addr += (uint64_t)xt_unzigzag(v);
		v = *prev_addr;
	}
	return v;
}

/* xt_cursor_refs follows an event of type (as written) just decoded into args: a reference form
 * gets the address it names, which is also the next addr delta's base; then an AllocFree event's
 * address goes into its list's ring. The check pass made sure a reference names one the ring
 * holds. */
static inline void xt_cursor_refs(struct xt_cursor *c, uint8_t type, uint64_t *args)
{
	int named = xt_allocref_names(type), list = xt_allocref_list(type);
	if (named >= 0) {
		const struct xt_ring *g = &c->ring[named];
		c->prev_addr = args[0] = g->addr[(g->n - 1 - args[0]) & g->mask];
	}
	if (list >= 0) {
		struct xt_ring *g = &c->ring[list];
		g->addr[g->n++ & g->mask] = args[0];
	}
}

/* xt_cursor_args decodes the arguments of c's next event into args, with code generated per
 * event type from events.def, and leaves c->args where the event ends. */
static XT_ALWAYS_INLINE void xt_cursor_args(struct xt_cursor *c, uint64_t *args)
{
	const uint8_t *p = c->args;
	int wide = c->b->data + c->b->len - c->ev >= XT_FAST_ROOM;
	uint64_t *a = args;
	switch (*c->ev) {
#define XT_EXPERIMENT(ident, id, name, version)
#define XT_DECODE_ARG(name, kind) *a++ = xt_arg(&p, wide, XT_KIND_##kind, &c->prev_addr);
#define XT_EVENT(name, id, exp, start, form, nargs, ...)                                   \
	case id:                                                              \
		XT_PAIRS(nargs, XT_DECODE_ARG, ##__VA_ARGS__)                  \
		xt_cursor_refs(c, id, args);                                   \
		break;
#include "events.def"
#undef XT_EVENT
#undef XT_DECODE_ARG
#undef XT_EXPERIMENT
	}
	c->args = p;
}

/* xt_cursor_batch points c at the start of batch b. */
static inline void xt_cursor_batch(struct xt_cursor *c, const struct xt_batch *b)
{
	c->b = b;
	c->args = b->data;
	c->ts = b->time;
	c->prev_addr = 0;
}

/* xt_cursor_next moves c to the thread's next event and decodes its timestamp; 0 when the
 * thread has no more. */
static inline int xt_cursor_next(struct xt_cursor *c)
{
	while (c->args == c->b->data + c->b->len) {
		if (c->b + 1 == c->bend)
			return 0;
		xt_cursor_batch(c, c->b + 1);
	}
	const uint8_t *p = c->args;
	c->ev = p++;
	c->ts += xt_get(&p, c->b->data + c->b->len - c->ev >= XT_FAST_ROOM);
	c->args = p;
	return 1;
}

static inline int xt_before(const struct xt_cursor *a, const struct xt_cursor *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->thread < b->thread);
}

static void xt_sift_down(struct xt_cursor **h, size_t n, size_t i)
{
	struct xt_cursor *c = h[i];
	for (;;) {
		size_t l = 2 * i + 1;
		if (l >= n)
			break;
		if (l + 1 < n && xt_before(h[l + 1], h[l]))
			l++;
		if (!xt_before(h[l], c))
			break;
		h[i] = h[l];
		i = l;
	}
	h[i] = c;
}

/* xt_ring_size is the ring of list a thread with batches [b, end) needs: a power of two at least
 * the reach of each batch's references into it, and one entry without any. */
static uint32_t xt_ring_size(const struct xt_batch *b, const struct xt_batch *end, int list)
{
	uint32_t need = 1, size = 1;
	for (; b < end; b++)
		if (b->reach[list] > need)
			need = b->reach[list];
	while (size < need)
		size <<= 1;
	return size;
}

/* xt_rd_order_start sets up the cursors of the generation just read. */
int xt_rd_order_start(xtrace_reader *r)
{
	const struct xt_batch *bs = r->g.batches.p;
	size_t nb = r->g.batches.n, nring = 0;
	r->ncur = r->nheap = 0;
	/* One cursor per thread at most: size both arrays for the batch count. */
	if (nb > r->capcur) {
		struct xt_cursor *c = realloc(r->cur, nb * sizeof *c);
		if (!c)
			return xt_rd_fail(r, XTRACE_ERR_NOMEM, 0, "out of memory");
		r->cur = c;
		struct xt_cursor **h = realloc(r->heap, nb * sizeof *h);
		if (!h)
			return xt_rd_fail(r, XTRACE_ERR_NOMEM, 0, "out of memory");
		r->heap = h;
		r->capcur = nb;
	}
	/* A cursor per thread, its rings sized by what the check pass saw the thread's references
	 * reach: at most XT_ALLOCREF_WINDOW addresses each, one for a list no reference names. */
	for (size_t i = 0, j; i < nb; i = j) {
		for (j = i; j < nb && bs[j].thread == bs[i].thread; j++)
			;
		struct xt_cursor *c = &r->cur[r->ncur++];
		c->thread = bs[i].thread;
		c->b = &bs[i];
		c->bend = bs + j;
		for (int l = 0; l < XT_REFS_LISTS; l++) {
			uint32_t size = xt_ring_size(&bs[i], &bs[j], l);
			c->ring[l] = (struct xt_ring){NULL, size - 1, 0};
			nring += size;
		}
	}
	if (nring > r->caprings) {
		uint64_t *p = realloc(r->rings, nring * sizeof *p);
		if (!p)
			return xt_rd_fail(r, XTRACE_ERR_NOMEM, 0, "out of memory");
		r->rings = p;
		r->caprings = nring;
	}
	uint64_t *ring = r->rings;
	for (size_t k = 0; k < r->ncur; k++) {
		struct xt_cursor *c = &r->cur[k];
		for (int l = 0; l < XT_REFS_LISTS; l++) {
			c->ring[l].addr = ring;
			ring += c->ring[l].mask + 1;
		}
		xt_cursor_batch(c, c->b);
		if (xt_cursor_next(c))
			r->heap[r->nheap++] = c;
	}
	for (size_t i = r->nheap / 2; i-- > 0;)
		xt_sift_down(r->heap, r->nheap, i);
	return 0;
}

void xt_rd_order_free(xtrace_reader *r)
{
	free(r->cur);
	free(r->heap);
	free(r->rings);
	r->cur = NULL;
	r->heap = NULL;
	r->rings = NULL;
	r->ncur = r->nheap = r->capcur = r->caprings = 0;
}

int xtrace_generation_done(const xtrace_reader *r)
{
	return r->state != XT_ST_EVENTS || r->nheap == 0;
}

static const char *const xt_no_names[1];
static const uint8_t xt_no_kinds[1];

int xtrace_next(xtrace_reader *r, struct xtrace_event *ev)
{
	if (r->state == XT_ST_EVENTS) {
		if (r->nheap) {
			struct xt_cursor *c = r->heap[0];
			uint8_t wire = *c->ev;
			/* A reference form is handed out as the event it stands for. */
			uint8_t type = xt_allocref_by_address(wire);
			if (!type)
				type = wire;
			const struct xt_event_spec *s = &xt_specs[type];
			ev->kind = s->experiment ? XTRACE_EVENT_EXPERIMENTAL : XTRACE_EVENT_CORE;
			ev->gen = r->g.gen;
			ev->ts = xt_clock_ns(&r->g.clock, c->ts);
			ev->thread = c->thread;
			ev->type = type;
			ev->wire_type = wire;
			ev->experiment = s->experiment;
			ev->name = s->name;
			ev->experiment_name = xt_experiments[s->experiment].name;
			ev->nargs = s->nargs;
			ev->arg_names = s->arg_names;
			ev->arg_kinds = s->arg_kinds;
			ev->offset = c->b->off;
			xt_cursor_args(c, ev->args);
			if (!xt_cursor_next(c))
				r->heap[0] = r->heap[--r->nheap];
			if (r->nheap > 1)
				xt_sift_down(r->heap, r->nheap, 0);
			return 1;
		}
		r->state = XT_ST_NEED_GEN;
	}
	if (r->state == XT_ST_ERROR)
		return -1;
	if (r->state == XT_ST_DONE)
		return 0;
	int rc = xt_rd_gen_load(r);
	if (rc == 0) {
		r->state = XT_ST_DONE;
		return 0;
	}
	if (rc < 0 || xt_rd_order_start(r) < 0) {
		r->state = XT_ST_ERROR;
		return -1;
	}
	r->have_gen = 1;
	r->last_gen = r->g.gen;
	r->state = XT_ST_EVENTS;
	memset(ev, 0, sizeof *ev);
	ev->kind = XTRACE_EVENT_SYNC;
	ev->gen = r->g.gen;
	ev->ts = r->g.sync.ts;
	ev->name = "Sync";
	ev->experiment_name = xt_experiments[0].name;
	ev->arg_names = xt_no_names;
	ev->arg_kinds = xt_no_kinds;
	ev->offset = r->g.sync_off;
	return 1;
}
