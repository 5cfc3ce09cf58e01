/* demo_shim.c: the demo experiment's emitter, linked only into the test build of the shim.
 * xtrace_demo_tick(seq, obj, len) records a DemoTick with the caller's stack and a DemoObject;
 * the per-generation Demo batch (subtype 0) holds how many ticks the process recorded so far. */
#include "experiment.h"
#include "stacks.h"
#include "writer.h"

#define DEMO_BATCH_TOTALS 0

static _Atomic uint64_t ticks;

XT_EXPORT void xtrace_demo_tick(uint64_t seq, const void *obj,
							     uint64_t len)
{
	struct xt_thread *t = xt_enter();
	if (!t)
		return;
	uint64_t stack = xt_stack_here(t, XT_CALLER);
	if (xt_emit_DemoTick(t, xt_now(), seq, stack))
		atomic_fetch_add(&ticks, 1);
	xt_emit_DemoObject(t, xt_now(), (uintptr_t)obj, len);
	xt_leave(t);
}

static void batches(struct xt_expw *w)
{
	xt_expw_subtype(w, DEMO_BATCH_TOTALS);
	xt_expw_uvarint(w, atomic_load(&ticks));
}

const struct xt_experiment_hooks xt_hooks_Demo = {
	.batches = batches,
};
