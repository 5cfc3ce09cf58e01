/* runtime.c: experiments a program defines while it runs (include/xtrace.h): it names an
 * experiment and a version, then events with their argument names, and emits them from any
 * thread. Each generation's Specs batch describes them (experiment.c), so every reader decodes
 * them by name.
 *
 * Definitions are cold: one lock, static storage (no malloc), specs that never change once
 * published (a release store of their flag), so the emit path and the advancer read them with
 * one acquire load and no lock. Emission is the hot path of any event: a section, the thread's
 * own batch. IDs: experiments from XT_FIRST_RUNTIME_EXPERIMENT up, event types among those the
 * built-in table leaves free, from 255 down. */
#include <pthread.h>
#include <string.h>

#include "runtime.h"
#include "stacks.h"
#include "user.h"
#include "writer.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* this thread holds lock: a signal handler's definition fails rather than wait for it */
static XT_TLS int holding;
static int fork_took; /* fork_prepare took the lock */

static struct xt_experiment_spec exps[XT_MAX_EXPERIMENTS];
static _Atomic uint8_t exp_defined[XT_MAX_EXPERIMENTS];
static struct xt_event_spec events[XT_MAX_EVENT_TYPES];
static _Atomic uint8_t event_defined[XT_MAX_EVENT_TYPES];
const struct xt_event_spec *const xt_runtime_events = events;

/* Every name a definition keeps, with its NUL: room for every ID with the longest names. */
static char names[(XT_MAX_EXPERIMENTS + (XT_MAX_EVENT_TYPES - XT_FIRST_EXPERIMENTAL_EVENT) *
					   (1 + XT_MAX_ARGS)) *
		  (XT_MAX_SPEC_NAME + 1)];
static size_t names_used;

const struct xt_experiment_spec *xt_runtime_experiment(unsigned id)
{
	if (id < XT_FIRST_RUNTIME_EXPERIMENT || id >= XT_MAX_EXPERIMENTS ||
	    !atomic_load_explicit(&exp_defined[id], memory_order_acquire))
		return NULL;
	return &exps[id];
}

bool xt_runtime_event_defined(unsigned type)
{
	return type < XT_MAX_EVENT_TYPES &&
	       atomic_load_explicit(&event_defined[type], memory_order_acquire);
}

/* name_ok: name is 1..XT_MAX_SPEC_NAME bytes. */
static bool name_ok(const char *name)
{
	if (!name)
		return false;
	size_t n = strnlen(name, XT_MAX_SPEC_NAME + 1);
	return n >= 1 && n <= XT_MAX_SPEC_NAME;
}

/* keep copies a checked name into names (under lock). */
static const char *keep(const char *name)
{
	size_t n = strlen(name) + 1;
	char *p = names + names_used;
	memcpy(p, name, n);
	names_used += n;
	return p;
}

static bool take(void)
{
	if (holding)
		return false;
	pthread_mutex_lock(&lock);
	holding = 1;
	return true;
}

static void give(void)
{
	holding = 0;
	pthread_mutex_unlock(&lock);
}

XT_EXPORT unsigned xtrace_experiment_define(const char *name, unsigned version)
{
	if (!name_ok(name))
		return 0;
	for (unsigned e = 0; e < XT_FIRST_RUNTIME_EXPERIMENT; e++)
		if (xt_experiments[e].name && strcmp(xt_experiments[e].name, name) == 0)
			return 0; /* a built-in experiment's name would say its events are those */
	if (!take())
		return 0;
	unsigned id = 0, free_id = 0;
	for (unsigned e = XT_FIRST_RUNTIME_EXPERIMENT; e < XT_MAX_EXPERIMENTS && !id; e++) {
		if (!atomic_load_explicit(&exp_defined[e], memory_order_relaxed)) {
			if (!free_id)
				free_id = e;
		} else if (strcmp(exps[e].name, name) == 0) {
			id = exps[e].version == version ? e : XT_MAX_EXPERIMENTS; /* else a conflict */
		}
	}
	if (!id && free_id) {
		id = free_id;
		exps[id] = (struct xt_experiment_spec){keep(name), version, NULL};
		atomic_store_explicit(&exp_defined[id], 1, memory_order_release);
	}
	give();
	return id < XT_MAX_EXPERIMENTS ? id : 0;
}

/* same_args: defined event s has the arguments args[0..nargs). */
static bool same_args(const struct xt_event_spec *s, unsigned nargs, const char *const *args)
{
	if (s->nargs != nargs)
		return false;
	for (unsigned a = 0; a < nargs; a++)
		if (strcmp(s->arg_names[a], args[a]) != 0)
			return false;
	return true;
}

XT_EXPORT unsigned xtrace_event_define(unsigned experiment, const char *name, unsigned nargs,
				       const char *const *arg_names)
{
	if (!xt_runtime_experiment(experiment) || !name_ok(name) || nargs > XT_MAX_ARGS ||
	    (nargs && !arg_names))
		return 0;
	uint8_t kinds[XT_MAX_ARGS];
	for (unsigned a = 0; a < nargs; a++) {
		/* an experiment's own type table is written by its shim code: a program has none */
		int k = name_ok(arg_names[a]) ? xt_arg_kind_of(arg_names[a]) : -1;
		if (k < 0 || k == XT_KIND_type)
			return 0;
		kinds[a] = (uint8_t)k;
	}
	if (!take())
		return 0;
	unsigned type = 0, free_type = 0;
	for (unsigned t = XT_MAX_EVENT_TYPES - 1; t >= XT_FIRST_EXPERIMENTAL_EVENT && !type; t--) {
		const struct xt_event_spec *s = &events[t];
		if (!atomic_load_explicit(&event_defined[t], memory_order_relaxed)) {
			if (!free_type && !xt_specs[t].name)
				free_type = t;
		} else if (s->experiment == experiment && strcmp(s->name, name) == 0) {
			type = same_args(s, nargs, arg_names) ? t : XT_MAX_EVENT_TYPES;
		}
	}
	if (!type && free_type) {
		type = free_type;
		struct xt_event_spec *s = &events[type];
		*s = (struct xt_event_spec){.name = keep(name), .experiment = (uint8_t)experiment,
					    .nargs = (uint8_t)nargs};
		for (unsigned a = 0; a < nargs; a++) {
			s->arg_names[a] = keep(arg_names[a]);
			s->arg_kinds[a] = kinds[a];
		}
		atomic_store_explicit(&event_defined[type], 1, memory_order_release);
	}
	give();
	return type < XT_MAX_EVENT_TYPES ? type : 0;
}

XT_EXPORT void xtrace_event_emit(unsigned type, const uint64_t *args)
{
	if (!xt_runtime_event_defined(type))
		return;
	const struct xt_event_spec *s = &events[type];
	struct xt_thread *t = xt_enter();
	if (!t)
		return;
	uint64_t ts = xt_now();
	uint64_t a[XT_MAX_ARGS] = {0};
	for (unsigned i = 0; i < s->nargs; i++) {
		uint64_t v = args ? args[i] : 0;
		if (s->arg_kinds[i] == XT_KIND_stack)
			v = xt_stack_here(t, XT_CALLER);
		else if (s->arg_kinds[i] == XT_KIND_string)
			v = xt_user_string(t, (const char *)(uintptr_t)v);
		a[i] = v;
	}
	xt_emit_spec(t, (uint8_t)type, ts, s, a);
	xt_leave(t);
}

void xt_runtime_fork_prepare(void)
{
	fork_took = take();
}

void xt_runtime_fork_parent(void)
{
	if (fork_took)
		give();
}

void xt_runtime_fork_child(void)
{
	/* async-signal-safe stores: the definitions stay, the lock starts free */
	lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	holding = 0;
}
