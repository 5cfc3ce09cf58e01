/* experiment.h: what an experiment's shim code plugs into. Each experiment defines, in its own
 * file, const struct xt_experiment_hooks xt_hooks_<Name> (Name as in its XT_EXPERIMENT line);
 * the table built from events.def (experiment.c) holds weak references to them, so lifecycle,
 * generation, signals, thread registration and descriptors loop over every experiment the shim
 * was built with, naming none. Every field may be NULL. */
#ifndef XT_EXPERIMENT_H
#define XT_EXPERIMENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "shim.h"
#include "spec.h"

struct xt_thread;
struct xt_expw; /* an experimental-batch writer for one experiment and generation */

struct xt_experiment_hooks {
	void (*init)(void);                           /* tracing starts (cold, once per process image) */
	void (*fork_child)(void);                     /* a fork child, before it records */
	void (*signal)(int sig, const siginfo_t *si); /* the dispatcher got sig, before the program's handler */
	void (*thread_start)(struct xt_thread *t);    /* a thread's state was set up (its first event) */
	void (*thread_end)(struct xt_thread *t);      /* a thread is ending */
	void (*batches)(struct xt_expw *w);           /* each advance, generation pinned: its batches */
	void (*reset)(uint64_t gen);                  /* after the advance wrote generation gen */
	/* The descriptor interposers (fds.c): descriptors first..last are about to be closed (ra:
	 * where the program called; last may be ~0U: all above first), newfd now refers to what
	 * oldfd does. Both keep errno. */
	void (*fds_closing)(unsigned first, unsigned last, void *ra);
	void (*fd_copied)(int oldfd, int newfd, void *ra);
};

#define XT_EXPERIMENT(ident, id, name, version)                     \
	extern const struct xt_experiment_hooks xt_hooks_##name \
		__attribute__((weak, visibility("hidden")));
#define XT_EVENT(...)
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT

/* The loops over every experiment's hooks, in experiment ID order. */
XT_HIDDEN void xt_experiments_init(void);
XT_HIDDEN void xt_experiments_fork_child(void);
XT_HIDDEN void xt_experiments_signal(int sig, const siginfo_t *si);
XT_HIDDEN void xt_experiments_thread_start(struct xt_thread *t);
XT_HIDDEN void xt_experiments_thread_end(struct xt_thread *t);
/* xt_experiments_batches writes generation gen's experimental batches (time: their batch
 * time), under the file lock; xt_experiments_reset follows once gen is written. */
XT_HIDDEN void xt_experiments_batches(uint64_t gen, uint64_t time);
XT_HIDDEN void xt_experiments_reset(uint64_t gen);
/* xt_experiments_specs writes generation gen's Specs batches: an entry for every experiment the
 * shim knows, built in or defined by the program so far. */
XT_HIDDEN void xt_experiments_specs(uint64_t gen, uint64_t time);
XT_HIDDEN void xt_experiments_fds_closing(unsigned first, unsigned last, void *ra);
XT_HIDDEN void xt_experiments_fd_copied(int oldfd, int newfd, void *ra);

/* The experimental-batch writer a batches hook is given. xt_expw_put appends one whole entry;
 * a batch that would exceed the limit is closed and a new one begun with the same first
 * (subtype) byte. */
XT_HIDDEN void xt_expw_put(struct xt_expw *w, const void *bytes, size_t n);
XT_HIDDEN void xt_expw_uvarint(struct xt_expw *w, uint64_t v);
XT_HIDDEN void xt_expw_subtype(struct xt_expw *w, uint8_t subtype);
XT_HIDDEN uint64_t xt_expw_gen(const struct xt_expw *w);

#endif
