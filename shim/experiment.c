/* experiment.c: the table of every experiment's hooks, built from events.def with weak
 * references (an experiment that defines no hooks leaves its slot NULL), the loops over it,
 * and the experimental-batch writer its batches hooks use. */
#include <errno.h>

#include "experiment.h"
#include "output.h"
#include "runtime.h"
#include "specwrite.h"
#include "varint.h"

static const struct xt_experiment_hooks *const hooks[XT_FIRST_RUNTIME_EXPERIMENT] = {
#define XT_EXPERIMENT(ident, id, name, version) [id] = &xt_hooks_##name,
#define XT_EVENT(...)
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT
};

/* EACH_HOOK(field, args) calls field(args) of every experiment that has one. */
#define EACH_HOOK(field, ...)                                              \
	for (unsigned e_ = 0; e_ < XT_FIRST_RUNTIME_EXPERIMENT; e_++)     \
		if (hooks[e_] && hooks[e_]->field)                            \
			hooks[e_]->field(__VA_ARGS__)

void xt_experiments_init(void)
{
	EACH_HOOK(init);
}

void xt_experiments_fork_child(void)
{
	EACH_HOOK(fork_child);
}

void xt_experiments_signal(int sig, const siginfo_t *si)
{
	EACH_HOOK(signal, sig, si);
}

void xt_experiments_thread_start(struct xt_thread *t)
{
	EACH_HOOK(thread_start, t);
}

void xt_experiments_thread_end(struct xt_thread *t)
{
	EACH_HOOK(thread_end, t);
}

void xt_experiments_reset(uint64_t gen)
{
	EACH_HOOK(reset, gen);
}

void xt_experiments_fds_closing(unsigned first, unsigned last, void *ra)
{
	int e = errno;
	EACH_HOOK(fds_closing, first, last, ra);
	errno = e;
}

void xt_experiments_fd_copied(int oldfd, int newfd, void *ra)
{
	int e = errno;
	EACH_HOOK(fd_copied, oldfd, newfd, ra);
	errno = e;
}

/* An experimental-batch writer is a table-batch writer of kind Experimental. */
struct xt_expw {
	struct xt_tablew *w;
};

uint64_t xt_expw_gen(const struct xt_expw *w)
{
	return w->w->gen;
}

void xt_expw_subtype(struct xt_expw *w, uint8_t subtype)
{
	xt_tablew_flush(w->w);
	w->w->subtype = subtype;
}

void xt_expw_put(struct xt_expw *w, const void *bytes, size_t n)
{
	if (n + 1 > sizeof(w->w->buf))
		return; /* an entry larger than a batch cannot be written */
	uint8_t *p = xt_tablew_room(w->w, n);
	__builtin_memcpy(p, bytes, n);
	xt_tablew_commit(w->w, p + n);
}

void xt_expw_uvarint(struct xt_expw *w, uint64_t v)
{
	uint8_t b[XT_MAX_VARINT];
	xt_expw_put(w, b, (size_t)(xt_put_uvarint(b, v) - b));
}

void xt_experiments_batches(uint64_t gen, uint64_t time)
{
	struct xt_expw advw = {xt_tablew_shared()}, *w = &advw;
	for (unsigned e = 0; e < XT_FIRST_RUNTIME_EXPERIMENT; e++) {
		if (!hooks[e] || !hooks[e]->batches)
			continue;
		xt_tablew_begin(w->w, XT_BATCH_EXPERIMENTAL, (uint8_t)e, gen, time);
		w->w->subtype = 0;
		hooks[e]->batches(w);
		xt_tablew_flush(w->w);
	}
}

/* describes: event type's spec in table belongs to experiment e (built-in: table is xt_specs;
 * run-time: defined by now). */
static bool describes(const struct xt_event_spec *table, unsigned type, unsigned e)
{
	if (table == xt_specs)
		return xt_specs[type].name && xt_specs[type].experiment == e;
	return xt_runtime_event_defined(type) && table[type].experiment == e;
}

void xt_experiments_specs(uint64_t gen, uint64_t time)
{
	struct xt_tablew *w = xt_tablew_shared();
	xt_tablew_begin(w, XT_BATCH_SPECS, 0, gen, time);
	for (unsigned e = 1; e < XT_MAX_EXPERIMENTS; e++) {
		const struct xt_experiment_spec *x = xt_runtime_experiment(e);
		const struct xt_event_spec *table = xt_runtime_events;
		if (e < XT_FIRST_RUNTIME_EXPERIMENT) {
			x = xt_experiments[e].name ? &xt_experiments[e] : NULL;
			table = xt_specs;
		}
		if (!x)
			continue;
		uint8_t types[XT_MAX_EVENT_TYPES];
		unsigned n = 0;
		for (unsigned t = XT_FIRST_EXPERIMENTAL_EVENT; t < XT_MAX_EVENT_TYPES; t++)
			if (describes(table, t, e))
				types[n++] = (uint8_t)t;
		uint8_t *p = xt_tablew_room(w, XT_MAX_SPEC_ENTRY);
		xt_tablew_commit(w, xt_spec_entry(p, e, x, types, n, table));
	}
	xt_tablew_flush(w);
}
