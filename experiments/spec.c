/* spec.c: the spec table, expanded from events.def. Pure data plus one lookup. */
#include "spec.h"

#include <string.h>

#define XT_SPEC_NAME(n, k) #n,
#define XT_SPEC_KIND(n, k) XT_KIND_##k,

const struct xt_event_spec xt_specs[XT_MAX_EVENT_TYPES] = {
#define XT_EXPERIMENT(ident, id, name, version)
#define XT_EVENT(name, id, exp, start, form, nargs, ...)                                \
	[id] = {#name, XT_EXP_##exp, nargs, {XT_PAIRS(nargs, XT_SPEC_NAME, ##__VA_ARGS__)}, \
		{XT_PAIRS(nargs, XT_SPEC_KIND, ##__VA_ARGS__)}, XT_EV_##start, XT_EV_##form},
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT
};

/* Batch names, a row per experiment, apart: XT_BATCH lines come after their XT_EXPERIMENT. */
static const char *const batch_names[XT_MAX_EXPERIMENTS][XT_MAX_BATCH_SUBTYPES] = {
#define XT_EXPERIMENT(ident, id, name, version)
#define XT_EVENT(...)
#define XT_BATCH(ident, subtype, name) [XT_EXP_##ident][subtype] = #name,
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT
#undef XT_BATCH
};

const struct xt_experiment_spec xt_experiments[XT_MAX_EXPERIMENTS] = {
#define XT_EXPERIMENT(ident, id, name, version) [id] = {#name, version, batch_names[id]},
#define XT_EVENT(...)
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT
};

/* Each event's argument count fits the format, and each experiment's ID fits the table. */
#define XT_EXPERIMENT(ident, id, name, version) \
	_Static_assert(id < XT_FIRST_RUNTIME_EXPERIMENT, #name ": built-in experiments use IDs below 16");
#define XT_BATCH(ident, subtype, name) \
	_Static_assert(subtype < XT_MAX_BATCH_SUBTYPES, #name ": batch subtype too large");
#define XT_EVENT(name, id, exp, start, form, nargs, ...)                                       \
	_Static_assert(nargs <= XT_MAX_ARGS, #name " has too many arguments");        \
	_Static_assert(id > 0 && id < XT_MAX_EVENT_TYPES, #name " id out of range"); \
	_Static_assert((id >= XT_FIRST_EXPERIMENTAL_EVENT) == (XT_EXP_##exp != XT_EXP_NONE), \
		       #name ": experimental events use IDs from 127, core events below");
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT
#undef XT_BATCH

const char *const xt_arg_kind_names[XT_KIND_COUNT] = {
#define XT_KIND_NAME(k) #k,
	XT_ARG_KINDS(XT_KIND_NAME)
#undef XT_KIND_NAME
};

int xt_arg_kind_of(const char *arg_name)
{
	const char *us = strrchr(arg_name, '_');
	const char *suffix = us ? us + 1 : arg_name;
	for (int k = 0; k < XT_KIND_COUNT; k++)
		if (strcmp(suffix, xt_arg_kind_names[k]) == 0)
			return k;
	return -1;
}
