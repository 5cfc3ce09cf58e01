/* stacks.c: capturing the caller's stack and the per-generation stack table.
 *
 * XTRACE_UNWIND picks the walk: dwarf (unwind.c: cached DWARF frame rules, with libunwind for
 * the stacks it cannot follow), libunwind's unw_backtrace alone, a frame-pointer walk bounded by
 * the thread's stack, or none (the calling address alone). Stacks are deduplicated by an XXH3
 * hash of their frames: a small per-thread cache first, then the shared lock-free table of the
 * generation. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "intern.h"
#include "stacks.h"
#include "unwind.h"

static struct xt_intern tab[2];

bool xt_stacks_init(void)
{
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	return xt_intern_init_pair(tab, 1u << 17, 64u << 20);
}

void xt_stacks_reset_all(void)
{
	xt_intern_forget_pair(tab);
}

/* Frames of the shim itself above the interposed function, at most. */
#define XT_SKIP_MAX 8

/* keep_from copies the n raw frames to pcs from the one returning to ra (all of them if none
 * does) and returns how many it kept, at most depth. */
static unsigned keep_from(uintptr_t *pcs, unsigned depth, const uintptr_t *raw, int n,
			  uintptr_t ra)
{
	int start = 0;
	while (start < n && start < XT_SKIP_MAX && raw[start] != ra)
		start++;
	if (start == n || start == XT_SKIP_MAX)
		start = 0;
	unsigned k = 0;
	for (int i = start; i < n && k < depth; i++)
		pcs[k++] = raw[i];
	return k;
}

static unsigned walk_libunwind(uintptr_t *pcs, unsigned depth, uintptr_t ra)
{
	uintptr_t raw[XT_MAX_FRAMES + XT_SKIP_MAX];
	if (xt_tl.mask_bound)
		return 0;
	xt_tl.internal++; /* libunwind's own allocations, if any, are not the program's */
	int n = unw_backtrace((void **)raw, (int)(depth + XT_SKIP_MAX));
	xt_tl.internal--;
	return keep_from(pcs, depth, raw, n, ra);
}

static unsigned walk_dwarf(struct xt_thread *t, uintptr_t *pcs, unsigned depth, uintptr_t ra)
{
	uintptr_t raw[XT_MAX_FRAMES + XT_SKIP_MAX];
	if (!xt_unw_borrow(t))
		return walk_libunwind(pcs, depth, ra);
	int n = xt_unwind_dwarf(t, raw, depth + XT_SKIP_MAX);
	xt_unw_return(t);
	if (n < 0)
		return walk_libunwind(pcs, depth, ra);
	return keep_from(pcs, depth, raw, n, ra);
}

/* walk_fp follows saved frame pointers from this function's frame, checking each against the
 * thread's stack bounds, and keeps the frames from the one returning to ra outwards. */
static unsigned walk_fp(const struct xt_thread *t, uintptr_t *pcs, unsigned depth, uintptr_t ra)
{
	uintptr_t lo = t->stack_lo, hi = t->stack_hi;
	uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
	unsigned k = 0;
	int started = 0;
	while (k < depth && fp >= lo && fp + 16 <= hi && !(fp & 7)) {
		uintptr_t next = ((uintptr_t *)fp)[0], ret = ((uintptr_t *)fp)[1];
		if (!started && ret == ra)
			started = 1;
		if (started) {
			if (!ret)
				break;
			pcs[k++] = ret;
		}
		if (next <= fp)
			break;
		fp = next;
	}
	return k;
}

uint64_t xt_stack_here(struct xt_thread *t, void *caller_ra)
{
	uintptr_t pcs[XT_MAX_FRAMES];
	uintptr_t ra = (uintptr_t)caller_ra;
	unsigned n = 0, depth = xt_config.stack_depth;
	if (!xt_tl.unwinding) {
		xt_tl.unwinding++;
		if (xt_config.unwind == XT_UNWIND_DWARF)
			n = walk_dwarf(t, pcs, depth, ra);
		else if (xt_config.unwind == XT_UNWIND_LIBUNWIND)
			n = walk_libunwind(pcs, depth, ra);
		else if (xt_config.unwind == XT_UNWIND_FP)
			n = walk_fp(t, pcs, depth, ra);
		xt_tl.unwinding--;
	}
	if (n == 0) {
		/* XTRACE_UNWIND=none, a failed walk, or a signal handler interrupting a walk. */
		pcs[0] = ra;
		n = 1;
	}
	uint64_t g = atomic_load_explicit(&t->gen, memory_order_relaxed);
	uint64_t h = XXH3_64bits(pcs, n * sizeof(pcs[0])) | 1;
	if (xt_tl.tabling) /* a signal handler interrupted this thread at its memos: go past them */
		return xt_intern(&tab[g & 1], h, pcs, n * (uint32_t)sizeof(pcs[0]));
	xt_tl.tabling++;
	atomic_signal_fence(memory_order_seq_cst);
	if (t->cache_gen != g) {
		memset(t->stack_cache_hash, 0, sizeof(t->stack_cache_hash));
		t->cache_gen = g;
	}
	unsigned slot = (unsigned)h & 31;
	uint64_t id;
	if (t->stack_cache_hash[slot] == h) {
		id = t->stack_cache_id[slot];
	} else {
		id = xt_intern(&tab[g & 1], h, pcs, n * (uint32_t)sizeof(pcs[0]));
		if (id) {
			t->stack_cache_hash[slot] = h;
			t->stack_cache_id[slot] = id;
		}
	}
	atomic_signal_fence(memory_order_seq_cst);
	xt_tl.tabling--;
	return id;
}

static void dump_one(void *ctx, uint64_t id, const void *key, uint32_t len)
{
	struct xt_tablew *w = ctx;
	const uintptr_t *pcs = key;
	uint32_t n = len / sizeof(uintptr_t);
	uint8_t *p = xt_tablew_room(w, (2 + n) * XT_MAX_VARINT);
	p = xt_put_uvarint(p, id);
	p = xt_put_uvarint(p, n);
	p = xt_put_uvarint(p, pcs[0]);
	for (uint32_t i = 1; i < n; i++)
		p = xt_put_uvarint(p, xt_zigzag((int64_t)(pcs[i] - pcs[i - 1])));
	xt_tablew_commit(w, p);
}

void xt_stacks_dump(uint64_t gen)
{
	static struct xt_tablew w; /* only the advancer dumps, under the advance lock */
	xt_tablew_begin(&w, XT_BATCH_STACKS, 0, gen, 0);
	xt_intern_each(&tab[gen & 1], dump_one, &w);
	xt_tablew_flush(&w);
	xt_intern_reset(&tab[gen & 1]);
}
