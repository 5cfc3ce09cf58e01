/* order.h: the merged, time-ordered event stream of a checked generation: set up by order.c,
 * stepped by the inline functions here, which xtrace_next (reader.c) calls once per event, so
 * that the code generated per event type is inlined into it. Events were checked when the
 * generation was read: decoding here does no checks, and a thread's next event starts where
 * the arguments of the one handed out end. */
#ifndef XT_READER_ORDER_H
#define XT_READER_ORDER_H

#include "allocfree.h"
#include "internal.h"

#pragma GCC visibility push(hidden)
/* xt_rd_order_start sorts the generation's Events batches by thread and sets up the cursors:
 * 0, or -1 without memory. */
int xt_rd_order_start(xtrace_reader *r);
void xt_rd_order_free(xtrace_reader *r);
/* xt_releases[type] is 1 for the events that give an address back (frees, unmaps), by type as
 * written: at one time, they come before the other threads' events (order.c). */
extern const uint8_t xt_releases[256];
#pragma GCC visibility pop

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
	c->releases = xt_releases[*c->ev];
	c->ts += xt_get(&p, c->b->data + c->b->len - c->ev >= XT_FAST_ROOM);
	c->args = p;
	return 1;
}

/* xt_before orders the threads' next events by time; at one time, an event that gives an
 * address back before the others, then by thread (order.c says why). */
static inline int xt_before(const struct xt_cursor *a, const struct xt_cursor *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts;
	if (a->releases != b->releases)
		return a->releases;
	return a->thread < b->thread;
}

static inline void xt_sift_down(struct xt_cursor **h, size_t n, size_t i)
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


/* xt_cursor_described decodes the arguments of c's next event by the generation's description s
 * (no code of the reader's knows it): addr arguments as deltas, the rest as plain uvarints. */
static inline void xt_cursor_described(struct xt_cursor *c, const struct xt_event_spec *s,
				uint64_t *args)
{
	const uint8_t *p = c->args;
	for (unsigned i = 0; i < s->nargs; i++) {
		uint64_t v = xt_byte_uvarint(&p);
		if (s->arg_kinds[i] == XT_KIND_addr) {
			c->prev_addr += (uint64_t)xt_unzigzag(v);
			v = c->prev_addr;
		}
		args[i] = v;
	}
	c->args = p;
}

/* xt_rd_order_next fills ev with the generation's next event: 1, or 0 when it has no more. */
static XT_ALWAYS_INLINE int xt_rd_order_next(xtrace_reader *r, struct xtrace_event *ev)
{
	if (!r->nheap)
		return 0;
	struct xt_cursor *c = r->heap[0];
	uint8_t wire = *c->ev, type = wire;
	const struct xt_event_spec *s;
	if (r->g.fast[wire]) {
		/* A reference form is handed out as the event it stands for. */
		uint8_t named = xt_allocref_by_address(wire);
		if (named)
			type = named;
		s = &xt_specs[type];
		ev->experiment_name = xt_experiments[s->experiment].name;
		ev->generic = 0;
		xt_cursor_args(c, ev->args);
	} else {
		s = r->g.spec[wire];
		ev->experiment_name = r->g.exp[s->experiment]->name;
		ev->generic = 1;
		xt_cursor_described(c, s, ev->args);
	}
	ev->kind = s->experiment ? XTRACE_EVENT_EXPERIMENTAL : XTRACE_EVENT_CORE;
	ev->gen = r->g.gen;
	ev->ts = xt_clock_ns(&r->g.clock, c->ts);
	ev->thread = c->thread;
	ev->type = type;
	ev->wire_type = wire;
	ev->experiment = s->experiment;
	ev->name = s->name;
	ev->nargs = s->nargs;
	ev->arg_names = s->arg_names;
	ev->arg_kinds = s->arg_kinds;
	ev->offset = c->b->off;
	if (!xt_cursor_next(c))
		r->heap[0] = r->heap[--r->nheap];
	if (r->nheap > 1)
		xt_sift_down(r->heap, r->nheap, 0);
	return 1;
}

#endif
