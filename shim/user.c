/* user.c: the entry points of include/xtrace.h (regions and logs, after Go's trace.WithRegion
 * and trace.Log) and the per-generation table of the strings they name.
 *
 * Programs call these from any thread at any rate, so strings are interned in the lock-free
 * table of intern.c, like stacks: a repeated name costs a hash and plain loads. The table's IDs
 * are dense from 1, and the module paths written at the advance take the IDs after them. */
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "generation.h"
#include "intern.h"
#include "output.h"
#include "stacks.h"
#include "user.h"
#include "writer.h"


static struct xt_intern tab[2];

bool xt_user_init(void)
{
	return xt_intern_init_pair(tab, 1u << 14, 4u << 20, xt_gen_advance_soon);
}

void xt_user_reset_all(void)
{
	xt_intern_forget_pair(tab);
}

uint64_t xt_user_string(struct xt_thread *t, const char *s)
{
	if (!s)
		return 0;
	uint32_t len = (uint32_t)strnlen(s, XT_MAX_STRING);
	uint64_t g = atomic_load_explicit(&t->gen, memory_order_relaxed);
	return xt_intern(&tab[g & 1], XXH3_64bits(s, len) | 1, s, len);
}

XT_EXPORT void xtrace_region_begin(const char *name)
{
	struct xt_thread *t = xt_enter();
	if (!t)
		return;
	uint64_t ts = xt_now();
	uint64_t stack = xt_stack_here(t, XT_CALLER);
	xt_emit_UserRegionBegin(t, ts, xt_user_string(t, name), stack);
	xt_leave(t);
}

XT_EXPORT void xtrace_region_end(const char *name)
{
	struct xt_thread *t = xt_enter();
	if (!t)
		return;
	xt_emit_UserRegionEnd(t, xt_now(), xt_user_string(t, name));
	xt_leave(t);
}

XT_EXPORT void xtrace_log(const char *category, const char *message)
{
	struct xt_thread *t = xt_enter();
	if (!t)
		return;
	uint64_t ts = xt_now();
	uint64_t cat = xt_user_string(t, category);
	xt_emit_UserLog(t, ts, cat, xt_user_string(t, message));
	xt_leave(t);
}

struct dump {
	uint64_t max_id;
	struct xt_tablew *w;
};

static void dump_one(void *ctx, uint64_t id, const void *key, uint32_t len)
{
	struct dump *d = ctx;
	xt_tablew_string(d->w, id, key, len);
	if (id > d->max_id)
		d->max_id = id;
}

uint64_t xt_user_strings_dump(uint64_t gen)
{
	struct dump d = {0, xt_tablew_shared()};
	xt_tablew_begin(d.w, XT_BATCH_STRINGS, 0, gen, 0);
	xt_intern_each(&tab[gen & 1], dump_one, &d);
	xt_tablew_flush(d.w);
	xt_intern_reset(&tab[gen & 1]);
	return d.max_id;
}
