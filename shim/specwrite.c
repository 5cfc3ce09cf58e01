/* specwrite.c: the Specs batch's entries (experiments/README.md, "Specs batch"), encoded from the
 * same spec structures the built-in table (experiments/spec.c) and the run-time registry
 * (runtime.c) hold. Pure encoding: no state, no allocation. */
#include <string.h>

#include "specwrite.h"
#include "varint.h"

/* Every built-in name fits the format's limit. */
#define XT_EXPERIMENT(ident, id, name, version) \
	_Static_assert(sizeof(#name) - 1 <= XT_MAX_SPEC_NAME, #name ": name too long");
#define XT_BATCH(ident, subtype, name) \
	_Static_assert(sizeof(#name) - 1 <= XT_MAX_SPEC_NAME, #name ": batch name too long");
#define XT_SPEC_ARG_FITS(n, k) \
	_Static_assert(sizeof(#n) - 1 <= XT_MAX_SPEC_NAME, #n ": argument name too long");
#define XT_EVENT(name, id, exp, start, form, nargs, ...)                                    \
	_Static_assert(sizeof(#name) - 1 <= XT_MAX_SPEC_NAME, #name ": name too long"); \
	XT_PAIRS(nargs, XT_SPEC_ARG_FITS, ##__VA_ARGS__)
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_BATCH
#undef XT_EVENT
#undef XT_SPEC_ARG_FITS

static uint8_t *put_name(uint8_t *p, const char *name)
{
	size_t n = strnlen(name, XT_MAX_SPEC_NAME);
	p = xt_put_uvarint(p, n);
	memcpy(p, name, n);
	return p + n;
}

uint8_t *xt_spec_entry(uint8_t *out, unsigned id, const struct xt_experiment_spec *x,
		       const uint8_t *types, unsigned ntypes,
		       const struct xt_event_spec events[XT_MAX_EVENT_TYPES])
{
	uint8_t *p = xt_put_uvarint(out, id);
	p = put_name(p, x->name);
	p = xt_put_uvarint(p, x->version);
	unsigned nbatches = 0;
	for (unsigned s = 0; x->batches && s < XT_MAX_BATCH_SUBTYPES; s++)
		nbatches += x->batches[s] != NULL;
	p = xt_put_uvarint(p, nbatches);
	for (unsigned s = 0; nbatches && s < XT_MAX_BATCH_SUBTYPES; s++) {
		if (!x->batches[s])
			continue;
		*p++ = (uint8_t)s;
		p = put_name(p, x->batches[s]);
	}
	p = xt_put_uvarint(p, ntypes);
	for (unsigned i = 0; i < ntypes; i++) {
		const struct xt_event_spec *e = &events[types[i]];
		*p++ = types[i];
		p = put_name(p, e->name);
		p = xt_put_uvarint(p, e->start);
		p = xt_put_uvarint(p, e->form_of);
		*p++ = e->nargs;
		for (unsigned a = 0; a < e->nargs; a++)
			p = put_name(p, e->arg_names[a]);
	}
	return p;
}
