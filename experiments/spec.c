/* spec.c: the spec table, expanded from events.def. Pure data plus one lookup. */
#include "spec.h"

#include <string.h>

#define XT_SPEC_NAME(n, k) #n,
#define XT_SPEC_KIND(n, k) XT_KIND_##k,

const struct xt_event_spec xt_specs[XT_MAX_EVENT_TYPES] = {
#define XT_EXPERIMENT(ident, id, name)
#define XT_EVENT(name, id, exp, nargs, ...)                                \
	[id] = {#name, XT_EXP_##exp, nargs, {XT_PAIRS(nargs, XT_SPEC_NAME, ##__VA_ARGS__)}, \
		{XT_PAIRS(nargs, XT_SPEC_KIND, ##__VA_ARGS__)}},
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT
};

const char *const xt_experiment_names[XT_MAX_EXPERIMENTS] = {
#define XT_EXPERIMENT(ident, id, name) [id] = #name,
#define XT_EVENT(...)
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT
};

/* Each event's argument count fits the format, and each experiment's ID fits the table. */
#define XT_EXPERIMENT(ident, id, name) _Static_assert(id < XT_MAX_EXPERIMENTS, #name " id too large");
#define XT_EVENT(name, id, exp, nargs, ...)                                       \
	_Static_assert(nargs <= XT_MAX_ARGS, #name " has too many arguments");        \
	_Static_assert(id > 0 && id < XT_MAX_EVENT_TYPES, #name " id out of range"); \
	_Static_assert((id >= XT_FIRST_EXPERIMENTAL_EVENT) == (XT_EXP_##exp != XT_EXP_NONE), \
		       #name ": experimental events use IDs from 127, core events below");
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT

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
