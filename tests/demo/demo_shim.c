/* demo_shim.c: the demo experiment's shim code, linked only into the test build of the shim, in
 * the shape every experiment's has: its emitter (xtrace_demo_tick records a DemoTick with the
 * caller's stack and a DemoObject) and its hooks (experiment.h). The Demo batch (subtype 0) of
 * each generation holds {uvarint ticks recorded in the generation, uvarint ticks of the process
 * up to its end}; a fork child's trace counts from 0. */
#include "experiment.h"
#include "stacks.h"
#include "varint.h"
#include "writer.h"

#define DEMO_BATCH_TOTALS 0

/* Ticks by generation parity, as the shim's tables are kept: while the advance writes
 * generation g's count, threads already count into g + 1's. */
static _Atomic uint64_t gen_ticks[2];
static uint64_t ticks; /* of the generations written: the advancer's, under its lock */

XT_EXPORT void xtrace_demo_tick(uint64_t seq, const void *obj, uint64_t len)
{
	struct xt_thread *t = xt_enter();
	if (!t)
		return;
	uint64_t stack = xt_stack_here(t, XT_CALLER);
	if (xt_emit_DemoTick(t, xt_now(), seq, stack))
		atomic_fetch_add(&gen_ticks[atomic_load(&t->gen) & 1], 1);
	xt_emit_DemoObject(t, xt_now(), (uintptr_t)obj, len);
	xt_leave(t);
}

static void batches(struct xt_expw *w)
{
	uint64_t n = atomic_load(&gen_ticks[xt_expw_gen(w) & 1]);
	ticks += n;
	uint8_t e[2 * XT_MAX_VARINT], *p = e;
	p = xt_put_uvarint(p, n);
	p = xt_put_uvarint(p, ticks);
	xt_expw_subtype(w, DEMO_BATCH_TOTALS);
	xt_expw_put(w, e, (size_t)(p - e));
}

/* The generation's count is written: its parity serves generation gen + 2 next. */
static void reset(uint64_t gen)
{
	atomic_store(&gen_ticks[gen & 1], 0);
}

/* A fork child's trace starts at generation 1 and counts its own ticks. */
static void fork_child(void)
{
	atomic_store(&gen_ticks[0], 0);
	atomic_store(&gen_ticks[1], 0);
	ticks = 0;
}

const struct xt_experiment_hooks xt_hooks_Demo = {
	.fork_child = fork_child,
	.batches = batches,
	.reset = reset,
};
