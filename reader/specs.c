/* specs.c: a generation's Specs batches (experiments/README.md "Specs batch"), parsed into the
 * generation's descriptions, and each described experiment matched against the built-in table:
 * where ID, name, version and every event (type, name, arguments, start, form_of) agree, the
 * built-in code decodes it; anything else is decoded from its description alone. Every count is
 * checked against the bytes of its batch and the storage is of fixed size, so a claim allocates
 * nothing. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "specs.h"

void xt_rd_specs_reset(struct xt_gen *g)
{
	if (!g->desc)
		return;
	memset(g->desc->has_event, 0, sizeof g->desc->has_event);
	memset(g->desc->has_exp, 0, sizeof g->desc->has_exp);
}

/* xt_read_name reads a name (uvarint length 1..XT_MAX_SPEC_NAME, then its bytes) into out. */
static int xt_read_name(const uint8_t **pp, const uint8_t *end, char *out)
{
	uint64_t len;
	if (xt_uvarint(pp, end, &len) || len == 0 || len > XT_MAX_SPEC_NAME ||
	    (uint64_t)(end - *pp) < len)
		return -1;
	memcpy(out, *pp, len);
	out[len] = 0;
	*pp += len;
	return 0;
}

/* The fewest bytes an event of an entry takes: type, name length and one byte, start, form_of,
 * nargs; and a batch table: subtype, name length and one byte. */
#define XT_MIN_SPEC_EVENT 6
#define XT_MIN_SPEC_TABLE 3

/* xt_parse_entry takes in the entry at *pp; its events' start and form_of are checked once all
 * are read. */
static int xt_parse_entry(xtrace_reader *r, struct xt_described *d, const struct xt_batch *b,
			  const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *at = *pp, *p = *pp;
	uint64_t id, version, n;
	if (xt_uvarint(&p, end, &id))
		return XT_BAD(r, b, at, "bad specs entry");
	if (id == 0 || id >= XT_MAX_EXPERIMENTS)
		return XT_BAD(r, b, at, "experiment %" PRIu64 " out of range (1..%d)", id,
			      XT_MAX_EXPERIMENTS - 1);
	if (d->has_exp[id])
		return XT_BAD(r, b, at, "experiment %" PRIu64 " described twice", id);
	if (xt_read_name(&p, end, d->exp_name[id]))
		return XT_BAD(r, b, at, "experiment %" PRIu64 ": bad name (1..%d bytes)", id,
			      XT_MAX_SPEC_NAME);
	if (xt_uvarint(&p, end, &version) || xt_uvarint(&p, end, &n))
		return XT_BAD(r, b, at, "experiment %s: bad version or batch count", d->exp_name[id]);
	if (n > XT_MAX_BATCH_SUBTYPES || n > (uint64_t)(end - p) / XT_MIN_SPEC_TABLE)
		return XT_BAD(r, b, at, "experiment %s: %" PRIu64 " batch tables run past the batch",
			      d->exp_name[id], n);
	memset(d->batches[id], 0, sizeof d->batches[id]);
	for (uint64_t i = 0; i < n; i++) {
		/* The count was checked against the fewest bytes a table takes; longer names may still
		 * run out of batch before the last. */
		if (p >= end)
			return XT_BAD(r, b, at, "experiment %s: %" PRIu64 " batch tables run past the batch",
				      d->exp_name[id], n);
		uint8_t sub = *p++;
		if (sub >= XT_MAX_BATCH_SUBTYPES || d->batches[id][sub] ||
		    xt_read_name(&p, end, d->batch_name[id][sub]))
			return XT_BAD(r, b, at, "experiment %s: bad batch table %" PRIu64,
				      d->exp_name[id], i);
		d->batches[id][sub] = d->batch_name[id][sub];
	}
	if (xt_uvarint(&p, end, &n))
		return XT_BAD(r, b, at, "experiment %s: bad event count", d->exp_name[id]);
	if (n > (uint64_t)(end - p) / XT_MIN_SPEC_EVENT)
		return XT_BAD(r, b, at, "experiment %s: %" PRIu64 " events run past the batch",
			      d->exp_name[id], n);
	uint8_t types[XT_MAX_EVENT_TYPES];
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *ev = p;
		if (p >= end)
			return XT_BAD(r, b, at, "experiment %s: %" PRIu64 " events run past the batch",
				      d->exp_name[id], n);
		uint8_t type = *p++;
		uint64_t start, form;
		if (type < XT_FIRST_EXPERIMENTAL_EVENT)
			return XT_BAD(r, b, ev, "experiment %s: event type %u out of range (%d..%d)",
				      d->exp_name[id], type, XT_FIRST_EXPERIMENTAL_EVENT,
				      XT_MAX_EVENT_TYPES - 1);
		if (d->has_event[type])
			return XT_BAD(r, b, ev, "event type %u described twice", type);
		struct xt_event_spec *s = &d->ev[type];
		if (xt_read_name(&p, end, d->ev_name[type]))
			return XT_BAD(r, b, ev, "experiment %s: event type %u: bad name (1..%d bytes)",
				      d->exp_name[id], type, XT_MAX_SPEC_NAME);
		if (xt_uvarint(&p, end, &start) || xt_uvarint(&p, end, &form) || p >= end)
			return XT_BAD(r, b, ev, "event %s: bad start, form_of or nargs",
				      d->ev_name[type]);
		uint8_t nargs = *p++;
		if (nargs > XT_MAX_ARGS)
			return XT_BAD(r, b, ev, "event %s: %u arguments (at most %d)", d->ev_name[type],
				      nargs, XT_MAX_ARGS);
		*s = (struct xt_event_spec){.name = d->ev_name[type], .experiment = (uint8_t)id,
					    .nargs = nargs, .start = (uint8_t)start,
					    .form_of = (uint8_t)form};
		if (start >= XT_MAX_EVENT_TYPES || form >= XT_MAX_EVENT_TYPES)
			return XT_BAD(r, b, ev, "event %s: start or form_of names no event",
				      d->ev_name[type]);
		for (uint8_t a = 0; a < nargs; a++) {
			char *name = d->arg_name[type][a];
			if (xt_read_name(&p, end, name))
				return XT_BAD(r, b, ev, "event %s: argument %u: bad name (1..%d bytes)",
					      d->ev_name[type], a, XT_MAX_SPEC_NAME);
			int kind = xt_arg_kind_of(name);
			if (kind < 0)
				return XT_BAD(r, b, ev, "event %s: argument %s has no known kind",
					      d->ev_name[type], name);
			s->arg_names[a] = name;
			s->arg_kinds[a] = (uint8_t)kind;
		}
		d->has_event[type] = 1;
		types[i] = type;
	}
	/* A pair's begin and a reference form's event belong to the same entry. */
	for (uint64_t i = 0; i < n; i++) {
		const struct xt_event_spec *s = &d->ev[types[i]];
		if ((s->start && (!d->has_event[s->start] || d->ev[s->start].experiment != id)) ||
		    (s->form_of && (!d->has_event[s->form_of] || d->ev[s->form_of].experiment != id)))
			return XT_BAD(r, b, at, "event %s: start or form_of names no event of %s",
				      s->name, d->exp_name[id]);
	}
	d->exp[id] = (struct xt_experiment_spec){.name = d->exp_name[id],
						 .version = (unsigned)version,
						 .batches = d->batches[id]};
	if (version > UINT32_MAX)
		return XT_BAD(r, b, at, "experiment %s: version %" PRIu64 " too large",
			      d->exp_name[id], version);
	d->has_exp[id] = 1;
	*pp = p;
	return 0;
}

int xt_rd_parse_specs(xtrace_reader *r, struct xt_gen *g, const struct xt_batch *b)
{
	if (!g->desc) {
		g->desc = calloc(1, sizeof *g->desc);
		if (!g->desc)
			return XT_NOMEM(r);
	}
	const uint8_t *p = b->data, *end = p + b->len;
	while (p < end)
		if (xt_parse_entry(r, g->desc, b, &p, end))
			return -1;
	return 0;
}

/* xt_matches_builtin says whether experiment id as described is the reader's own. */
static int xt_matches_builtin(const struct xt_described *d, uint8_t id)
{
	const struct xt_experiment_spec *x = &xt_experiments[id];
	if (!x->name || strcmp(x->name, d->exp_name[id]) != 0 || x->version != d->exp[id].version)
		return 0;
	for (int t = XT_FIRST_EXPERIMENTAL_EVENT; t < XT_MAX_EVENT_TYPES; t++) {
		const struct xt_event_spec *s = &xt_specs[t], *ds = &d->ev[t];
		int mine = s->name && s->experiment == id;
		int theirs = d->has_event[t] && ds->experiment == id;
		if (mine != theirs)
			return 0;
		if (!mine)
			continue;
		if (strcmp(s->name, ds->name) != 0 || s->nargs != ds->nargs ||
		    s->start != ds->start || s->form_of != ds->form_of)
			return 0;
		for (int a = 0; a < s->nargs; a++)
			if (strcmp(s->arg_names[a], ds->arg_names[a]) != 0)
				return 0;
	}
	return 1;
}

void xt_rd_resolve_specs(struct xt_gen *g)
{
	const struct xt_described *d = g->desc;
	for (int e = 0; e < XT_MAX_EXPERIMENTS; e++) {
		int described = d && d->has_exp[e];
		g->builtin[e] = described ? xt_matches_builtin(d, (uint8_t)e) : xt_experiments[e].name != NULL;
		g->exp[e] = g->builtin[e] ? &xt_experiments[e] : described ? &d->exp[e] : NULL;
	}
	for (int t = 0; t < XT_MAX_EVENT_TYPES; t++) {
		const struct xt_event_spec *s = &xt_specs[t];
		if (d && d->has_event[t]) {
			int fast = g->builtin[d->ev[t].experiment];
			g->fast[t] = (uint8_t)fast;
			g->spec[t] = fast ? s : &d->ev[t];
		} else {
			/* Undescribed: the built-in spec, unless its experiment was described otherwise. */
			g->fast[t] = s->name && g->builtin[s->experiment];
			g->spec[t] = g->fast[t] ? s : NULL;
		}
	}
}
