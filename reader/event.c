/* event.c: the public lookups into the tables of the generation whose Sync was handed out last,
 * and into the spec table. The reader's state machine is reader.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const struct xtrace_sync *xtrace_get_sync(const xtrace_reader *r)
{
	return r->have_gen ? &r->g.sync : NULL;
}

size_t xtrace_stack(const xtrace_reader *r, uint64_t id, const uint64_t **pcs)
{
	*pcs = NULL;
	if (!r->have_gen || id == XT_NO_ID)
		return 0;
	int64_t i = xt_idx_get(&r->g.stki, id);
	if (i < 0)
		return 0;
	const struct xt_stk *s = (const struct xt_stk *)r->g.stks.p + i;
	*pcs = (const uint64_t *)r->g.pcs.p + s->off;
	return s->n;
}

const char *xtrace_string(const xtrace_reader *r, uint64_t id, size_t *len)
{
	if (len)
		*len = 0;
	if (!r->have_gen || id == XT_NO_ID)
		return NULL;
	int64_t i = xt_idx_get(&r->g.stri, id);
	if (i < 0)
		return NULL;
	const struct xt_str *s = (const struct xt_str *)r->g.strs.p + i;
	if (len)
		*len = s->len;
	return (const char *)r->g.arena.p + s->off;
}

size_t xtrace_modules(const xtrace_reader *r, const struct xtrace_module **mods)
{
	if (!r->have_gen) {
		*mods = NULL;
		return 0;
	}
	*mods = r->g.mods.p;
	return r->g.mods.n;
}

const struct xtrace_module *xtrace_module_of(const xtrace_reader *r, uint64_t pc)
{
	if (!r->have_gen)
		return NULL;
	/* The module map (generation.c): disjoint stretches by address, the latest module of an
	 * overlap holding it, so an object loaded over a dlclose'd one's range is preferred. */
	const struct xt_modseg *sg = r->g.modmap.p;
	size_t lo = 0, hi = r->g.modmap.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sg[mid].hi <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == r->g.modmap.n || pc < sg[lo].lo)
		return NULL;
	return (const struct xtrace_module *)r->g.mods.p + sg[lo].mod;
}

const char *xtrace_experiment_name(uint8_t experiment)
{
	return experiment < XT_MAX_EXPERIMENTS ? xt_experiments[experiment].name : NULL;
}

const char *xtrace_arg_kind_name(uint8_t kind)
{
	return kind < XT_KIND_COUNT ? xt_arg_kind_names[kind] : NULL;
}

/* xt_gen_specs tells whether the current generation's resolved specs apply: before the first
 * Sync the built-in table does. */
static const struct xt_gen *xt_gen_specs(const xtrace_reader *r)
{
	return r->have_gen ? &r->g : NULL;
}

int xtrace_event_spec(const xtrace_reader *r, uint8_t type, struct xtrace_event_spec *out)
{
	const struct xt_gen *g = xt_gen_specs(r);
	const struct xt_event_spec *s = g ? g->spec[type] : xt_specs[type].name ? &xt_specs[type] : NULL;
	if (!s)
		return 0;
	*out = (struct xtrace_event_spec){.type = type, .experiment = s->experiment, .name = s->name,
					  .start = s->start, .form_of = s->form_of,
					  .nargs = s->nargs, .arg_names = s->arg_names,
					  .arg_kinds = s->arg_kinds, .builtin = s == &xt_specs[type]};
	return 1;
}

int xtrace_experiment_spec(const xtrace_reader *r, uint8_t id, struct xtrace_experiment_spec *out)
{
	if (id >= XT_MAX_EXPERIMENTS)
		return 0;
	const struct xt_gen *g = xt_gen_specs(r);
	const struct xt_experiment_spec *x = g ? g->exp[id] : xt_experiments[id].name ? &xt_experiments[id] : NULL;
	if (!x)
		return 0;
	_Static_assert(XTRACE_MAX_BATCH_SUBTYPES == XT_MAX_BATCH_SUBTYPES, "batch subtypes disagree");
	*out = (struct xtrace_experiment_spec){.id = id, .name = x->name, .version = x->version,
					       .batches = x->batches,
					       .builtin = x == &xt_experiments[id],
					       .described = g && g->desc && g->desc->has_exp[id]};
	return 1;
}
