/* order.c: the merged event stream of a generation. One cursor per thread walks that thread's
 * Events batches in file order; a min-heap keyed by (timestamp, thread) picks the next event.
 * Events were checked when the generation was read, so decoding here does no checks. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* xt_fast_uvarint decodes a uvarint already known to be well formed and inside its batch. */
static inline uint64_t xt_fast_uvarint(const uint8_t **pp)
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

/* xt_cursor_fill decodes the thread's next event into c; 0 when the thread has no more. */
static inline int xt_cursor_fill(struct xt_cursor *c)
{
	while (c->p == c->end) {
		if (++c->b == c->bend)
			return 0;
		c->p = c->b->data;
		c->end = c->p + c->b->len;
		c->ts = c->b->time;
		c->prev_addr = 0;
	}
	uint8_t type = *c->p++;
	const struct xt_event_spec *s = &xt_specs[type];
	c->type = type;
	c->ts += xt_fast_uvarint(&c->p);
	for (unsigned i = 0; i < s->nargs; i++) {
		uint64_t v = xt_fast_uvarint(&c->p);
		if (s->arg_kinds[i] == XT_KIND_addr) {
			c->prev_addr += (uint64_t)xt_unzigzag(v);
			v = c->prev_addr;
		}
		c->args[i] = v;
	}
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

/* xt_rd_order_start sets up the cursors of the generation just read. */
int xt_rd_order_start(xtrace_reader *r)
{
	const struct xt_batch *bs = r->g.batches.p;
	size_t nb = r->g.batches.n;
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
	for (size_t i = 0, j; i < nb; i = j) {
		for (j = i; j < nb && bs[j].thread == bs[i].thread; j++)
			;
		struct xt_cursor *c = &r->cur[r->ncur];
		c->thread = bs[i].thread;
		c->b = &bs[i];
		c->bend = bs + j;
		c->p = c->b->data;
		c->end = c->p + c->b->len;
		c->ts = c->b->time;
		c->prev_addr = 0;
		if (xt_cursor_fill(c)) {
			r->ncur++;
			r->heap[r->nheap++] = c;
		}
	}
	for (size_t i = r->nheap / 2; i-- > 0;)
		xt_sift_down(r->heap, r->nheap, i);
	return 0;
}

void xt_rd_order_free(xtrace_reader *r)
{
	free(r->cur);
	free(r->heap);
	r->cur = NULL;
	r->heap = NULL;
	r->ncur = r->nheap = r->capcur = 0;
}

static const char *const xt_no_names[1];
static const uint8_t xt_no_kinds[1];

int xtrace_next(xtrace_reader *r, struct xtrace_event *ev)
{
	if (r->state == XT_ST_EVENTS) {
		if (r->nheap) {
			struct xt_cursor *c = r->heap[0];
			const struct xt_event_spec *s = &xt_specs[c->type];
			ev->kind = s->experiment ? XTRACE_EVENT_EXPERIMENTAL : XTRACE_EVENT_CORE;
			ev->gen = r->g.gen;
			ev->ts = c->ts;
			ev->thread = c->thread;
			ev->type = c->type;
			ev->experiment = s->experiment;
			ev->name = s->name;
			ev->experiment_name = xt_experiment_names[s->experiment];
			ev->nargs = s->nargs;
			ev->arg_names = s->arg_names;
			ev->arg_kinds = s->arg_kinds;
			memcpy(ev->args, c->args, sizeof ev->args);
			ev->offset = c->b->off;
			if (!xt_cursor_fill(c))
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
	ev->experiment_name = xt_experiment_names[0];
	ev->arg_names = xt_no_names;
	ev->arg_kinds = xt_no_kinds;
	ev->offset = r->g.sync_off;
	return 1;
}
