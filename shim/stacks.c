/* stacks.c: capturing the caller's stack and the per-generation stack table.
 *
 * XTRACE_UNWIND picks the walk: dwarf (unwind.c: cached DWARF frame rules, with libunwind for
 * the stacks it cannot follow), libunwind's unw_backtrace alone, a frame-pointer walk bounded by
 * the thread's stack, or none (the calling address alone). Stacks are deduplicated by a hash of
 * their frames: a small per-thread cache first, then the shared lock-free table of the
 * generation. The hash is a polynomial in the frames (unwind.h), mixed: the dwarf walk keeps
 * the frames it shares with the previous walk where they were, with their polynomials, so a
 * stack the cache knows costs the frames that changed, and its frames are copied out only for
 * the table. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <string.h>

#include "intern.h"
#include "stacks.h"
#include "unwind.h"
#include "varint.h"
#include "writer.h"

static struct xt_intern tab[2];
static uint64_t poly_pow[XT_MAX_FRAMES]; /* XT_STACK_POLY_B^k */

/* libunwind is set up at its first walk, not at start: that takes a few hundred microseconds
 * that a process whose stacks the DWARF walk follows never needs. Its caching policy must not
 * change under a walk (one under the global cache would keep the lock and the signal mask it
 * took), so no walk runs before the policy is set: a walk that finds another thread setting it
 * up records the caller alone. With XTRACE_UNWIND=libunwind, where every walk is libunwind's,
 * it is set up at start as before. A fork child of a process caught setting it up never walks
 * with libunwind (libunwind's own lock may have been copied held). */
static _Atomic int libunwind_state; /* 0: not set up, 1: being set up, 2: ready */

static bool libunwind_ready(void)
{
	int s = atomic_load_explicit(&libunwind_state, memory_order_acquire);
	if (xt_likely(s == 2))
		return true;
	if (s != 0 || !atomic_compare_exchange_strong(&libunwind_state, &s, 1))
		return false;
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	atomic_store_explicit(&libunwind_state, 2, memory_order_release);
	return true;
}

bool xt_stacks_init(void)
{
	if (xt_config.unwind == XT_UNWIND_LIBUNWIND)
		libunwind_ready();
	poly_pow[0] = 1;
	for (unsigned k = 1; k < XT_MAX_FRAMES; k++)
		poly_pow[k] = poly_pow[k - 1] * XT_STACK_POLY_B;
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
	int n = libunwind_ready() ? unw_backtrace((void **)raw, (int)(depth + XT_SKIP_MAX)) : 0;
	xt_tl.internal--;
	return keep_from(pcs, depth, raw, n, ra);
}

/* stack_poly is the polynomial of n frames (unwind.h), its products independent of each other. */
static uint64_t stack_poly(const uintptr_t *pcs, unsigned n)
{
	uint64_t p = 0;
	for (unsigned k = 0; k < n; k++)
		p += pcs[k] * poly_pow[k];
	return p;
}

/* stack_hash mixes a stack's polynomial into its hash (splitmix64's finalizer: every bit of the
 * polynomial moves the table slot); never 0, the cache's empty mark. */
static uint64_t stack_hash(uint64_t poly)
{
	uint64_t h = (poly ^ (poly >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return (h ^ (h >> 31)) | 1;
}

/* walk_dwarf gives the frames from the one returning to ra, at most depth. When the walk knows
 * their polynomial (it was not cut short), it stores it in *poly and leaves them in the
 * thread's memo, from frame *first on; otherwise it copies them to pcs. Returns the frames'
 * count and whether they are in the memo (in *in_memo). */
static unsigned walk_dwarf(struct xt_thread *t, uintptr_t *pcs, unsigned depth, uintptr_t ra,
			   int *in_memo, uint64_t *poly, unsigned *first)
{
	int got = xt_unwind_dwarf(t, depth + XT_SKIP_MAX);
	if (got < 0)
		return walk_libunwind(pcs, depth, ra);
	const struct xt_unw_memo *m = &t->unw->memo;
	unsigned n = (unsigned)got, start = 0;
	while (start < n && start < XT_SKIP_MAX && xt_unwind_pc(m, start) != ra)
		start++;
	if (start == n || start == XT_SKIP_MAX)
		start = 0;
	if (n - start <= depth && xt_unwind_poly(m, start, poly)) {
		*in_memo = 1;
		*first = start;
		return n - start;
	}
	unsigned k = n - start < depth ? n - start : depth;
	for (unsigned i = 0; i < k; i++)
		pcs[i] = xt_unwind_pc(m, start + i);
	return k;
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

/* intern_frames interns the n frames in pcs, or, when in_memo, those in the thread's memo from
 * frame first on (copied to pcs). */
static uint64_t intern_frames(struct xt_thread *t, uint64_t g, uint64_t h, uintptr_t *pcs,
			      unsigned n, int in_memo, unsigned first)
{
	for (unsigned i = 0; in_memo && i < n; i++)
		pcs[i] = xt_unwind_pc(&t->unw->memo, first + i);
	return xt_intern(&tab[g & 1], h, pcs, n * (uint32_t)sizeof(pcs[0]));
}

uint64_t xt_stack_here(struct xt_thread *t, void *caller_ra)
{
	uintptr_t pcs[XT_MAX_FRAMES];
	uintptr_t ra = (uintptr_t)caller_ra;
	unsigned n = 0, depth = xt_config.stack_depth, first = 0;
	uint64_t poly = 0;
	int walking = !xt_tl.unwinding, in_memo = 0; /* in_memo: a dwarf walk left them there */
	bool borrowed = false;
	if (walking) {
		/* raised until the stack is interned: a signal handler's event meanwhile records
		 * only its caller, and leaves the memo that may hold the frames alone */
		xt_tl.unwinding++;
		if (xt_config.unwind == XT_UNWIND_DWARF) {
			/* the cache is held until the stack is interned: the frames may be in its memo */
			borrowed = xt_unw_borrow(t);
			n = borrowed ? walk_dwarf(t, pcs, depth, ra, &in_memo, &poly, &first)
				     : walk_libunwind(pcs, depth, ra);
		} else if (xt_config.unwind == XT_UNWIND_LIBUNWIND)
			n = walk_libunwind(pcs, depth, ra);
		else if (xt_config.unwind == XT_UNWIND_FP)
			n = walk_fp(t, pcs, depth, ra);
	}
	if (n == 0) {
		/* XTRACE_UNWIND=none, a failed walk, or a signal handler interrupting a walk. */
		pcs[0] = ra;
		n = 1;
		in_memo = 0;
	}
	uint64_t h = stack_hash(in_memo ? poly : stack_poly(pcs, n));
	uint64_t g = atomic_load_explicit(&t->gen, memory_order_relaxed);
	uint64_t id;
	if (xt_tl.tabling) {
		/* a signal handler interrupted this thread at its memos: go past them */
		id = intern_frames(t, g, h, pcs, n, in_memo, first);
	} else {
		xt_tl.tabling++;
		atomic_signal_fence(memory_order_seq_cst);
		if (t->cache_gen != g) {
			memset(t->stack_cache_hash, 0, sizeof(t->stack_cache_hash));
			t->cache_gen = g;
		}
		unsigned slot = (unsigned)h & 31;
		if (t->stack_cache_hash[slot] == h) {
			id = t->stack_cache_id[slot];
		} else {
			id = intern_frames(t, g, h, pcs, n, in_memo, first);
			if (id) {
				t->stack_cache_hash[slot] = h;
				t->stack_cache_id[slot] = id;
			}
		}
		atomic_signal_fence(memory_order_seq_cst);
		xt_tl.tabling--;
	}
	if (borrowed)
		xt_unw_return(t);
	if (walking)
		xt_tl.unwinding--;
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
