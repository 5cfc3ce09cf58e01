/* check.c: checking every event of a gathered generation once, so that ordering (order.c) can
 * decode without checks: known types, varints inside their batch, IDs present in the
 * generation's tables, references naming an event of their list before them. */
#include <inttypes.h>
#include <string.h>

#include "allocfree.h"
#include "check.h"
#include "internal.h"

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

/* xt_word_skip steps over a uvarint of at most 8 bytes without decoding it, as xt_word_uvarint
 * would: 0, or -1 (nothing consumed) when it is longer. */
static XT_ALWAYS_INLINE int xt_word_skip(const uint8_t **pp)
{
	uint64_t w;
	memcpy(&w, *pp, sizeof w);
	uint64_t stop = ~le64toh(w) & UINT64_C(0x8080808080808080);
	if (!stop)
		return -1;
	*pp += (__builtin_ctzll(stop) >> 3) + 1;
	return 0;
}

/* xt_fast_check_arg reads one argument of a kind known at compile time into *v and checks an ID
 * against its table; a type argument against experiment expid's type table. An argument that is
 * no ID and that the caller does not keep (keep: a reference form's back_value) is only stepped
 * over: its value is the ordering pass's to decode. 0 when good. */
static XT_ALWAYS_INLINE int xt_fast_check_arg(const struct xt_gen *g, const uint8_t **pp,
				    enum xt_arg_kind kind, uint8_t expid, int keep,
				    uint64_t *v_out)
{
	uint64_t v;
	if (!keep && kind != XT_KIND_string && kind != XT_KIND_stack && kind != XT_KIND_type)
		return xt_word_skip(pp);
	if (xt_word_uvarint(pp, &v))
		return -1;
	*v_out = v;
	const struct xt_idx *x = kind == XT_KIND_string ? &g->stri
				 : kind == XT_KIND_stack ? &g->stki
				 : kind == XT_KIND_type && g->typed[expid] ? &g->typei[expid]
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
	uint64_t v0 = 0, v, *a = &v0;
	uint8_t type = *p++;
	/* A type this generation describes otherwise than the reader's table is checked generically. */
	if (!g->fast[type] || xt_word_skip(&p))
		return -1;
	switch (type) {
#define XT_EXPERIMENT(ident, id, name, version)
/* The first argument is kept when it is a reference form's back_value (xt_refs_see). */
#define XT_CHECK_ARG(name, kind)                                              \
	if (xt_fast_check_arg(g, &p, XT_KIND_##kind, expid,               \
			      a == &v0 && ref, a))                           \
		return -1;                                                    \
	a = &v;
#define XT_EVENT(name, id, exp, start, form, nargs, ...)                                   \
	case id: {                                                            \
		const uint8_t expid = XT_EXP_##exp;                           \
		const int ref = xt_allocref_names(id) >= 0;                   \
		(void)expid;                                                  \
		(void)ref;                                                    \
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

/* xt_check_events decodes every event of an Events batch once: a type the generation knows,
 * varints that end inside the batch, the payload ending on an event boundary, string, stack and
 * (for an experiment whose code indexed a type table) type IDs present in the generation's
 * tables, references naming an event of their list before them.
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
		/* The spec the generation decodes type by: the built-in one or its description. */
		const struct xt_event_spec *s = g->spec[type];
		if (!s)
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
				/* An experiment's type table, where its code indexed one. */
				if (g->typed[s->experiment])
					x = &g->typei[s->experiment];
				break;
			}
			if (x && xt_idx_get(x, v) < 0)
				return XT_BAD(r, b, at, "event %s: %s %" PRIu64 " not in the generation",
					      s->name, s->arg_names[i], v);
		}
		if (g->fast[type] && xt_refs_see(&rs, type, v0)) {
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

/* xt_rd_check checks every Events batch of g. Where an event ends is known only once it is
 * decoded, so the events of one batch form a chain of dependent loads; walking XT_LANES batches
 * side by side gives the processor that many independent chains to overlap. The lanes run the
 * fast check; a batch's tail, and any event the fast check does not pass, go through
 * xt_check_events. A batch is finished only while no earlier batch has failed, so the error
 * reported is that of the first bad batch in file order, as when checking one after another. */
int xt_rd_check(xtrace_reader *r, struct xt_gen *g)
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