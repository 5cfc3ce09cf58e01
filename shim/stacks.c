/* stacks.c: capturing the caller's stack and the per-generation stack table.
 *
 * XTRACE_UNWIND picks the walk: dwarf (unwind.c: cached DWARF frame rules, with libunwind for
 * the stacks it cannot follow), libunwind's unw_backtrace alone, a frame-pointer walk bounded by
 * the thread's stack, or none (the calling address alone). Stacks are interned in the
 * generation's prefix tree (stacktree.c). The dwarf walk keeps the frames it shares with the
 * previous walk where they were, each with its node of the tree, so a stack costs the frames
 * that changed, however deep it is. The other walks give their frames in an array: a small
 * per-thread cache keyed by a hash of them comes first, then the tree, a lookup a frame. */
#include <string.h>

#include "generation.h"
#include "stacks.h"
#include "stacktree.h"
#include "unwind.h"
#include "unwlib.h"
#include "varint.h"
#include "writer.h"

static struct xt_stree tree[2];
/* The array walks' hash is a polynomial in the frames, sum of pcs[k] * B^k (mod 2^64), mixed;
 * B is odd, 3 mod 8, so no two stacks of at most 128 frames that differ in a frame or two, or
 * alternate two frames, cancel out. */
#define POLY_B 0x9e3779b97f4a7c13ull
static uint64_t poly_pow[XT_MAX_FRAMES]; /* POLY_B^k */

bool xt_stacks_init(void)
{
	/* where every walk is libunwind's; if the loader is busy, the constructor loads it */
	if (xt_config.unwind == XT_UNWIND_LIBUNWIND)
		xt_unwlib_load();
	poly_pow[0] = 1;
	for (unsigned k = 1; k < XT_MAX_FRAMES; k++)
		poly_pow[k] = poly_pow[k - 1] * POLY_B;
	return xt_stree_init_pair(tree, 1u << 20, xt_gen_advance_soon);
}

void xt_stacks_reset_all(void)
{
	xt_stree_forget_pair(tree);
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
	/* Nor on a thread whose setup waits (inside pthread_getattr_np, writer.c): without its
	 * bounds every walk would be libunwind's, loading it if none has yet, while glibc holds
	 * the thread's lock. Its few events there record their callers alone. */
	if (xt_tl.mask_bound || xt_tl.setup_pending)
		return 0;
	xt_tl.internal++; /* libunwind's own allocations, if any, are not the program's */
	int n = xt_unwlib_backtrace((void **)raw, (int)(depth + XT_SKIP_MAX));
	xt_tl.internal--;
	return keep_from(pcs, depth, raw, n, ra);
}

/* stack_poly is the polynomial of n frames, its products independent of each other. */
static uint64_t stack_poly(const uintptr_t *pcs, unsigned n)
{
	uint64_t p = 0;
	for (unsigned k = 0; k < n; k++)
		p += pcs[k] * poly_pow[k];
	return p;
}

/* stack_hash mixes a stack's polynomial into its hash (splitmix64's finalizer: every bit of the
 * polynomial moves the cache slot); never 0, the cache's empty mark. */
static uint64_t stack_hash(uint64_t poly)
{
	uint64_t h = (poly ^ (poly >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return (h ^ (h >> 31)) | 1;
}

/* memo_child returns the node of pc under parent, from the cache's kids if they have it. */
static uint64_t memo_child(struct xt_unw_cache *uc, struct xt_stree *tr, uint64_t parent,
			   uintptr_t pc)
{
	uint64_t h = (parent * 0x9e3779b97f4a7c15ull + pc) * 0xbf58476d1ce4e5b9ull;
	const unsigned all = __builtin_ctz(XT_UNW_KIDS);
	unsigned bits = xt_small_first_bits(uc->kids_misses, __builtin_ctz(XT_UNW_KIDS_SMALL), all);
	__typeof__(uc->kids[0]) *k = &uc->kids[h >> (64 - bits)];
	if (k->parent == parent && k->pc == pc && k->epoch == uc->kids_epoch)
		return k->node;
	uc->kids_misses += bits != all;
	uint64_t node = xt_stree_child(tr, parent, pc);
	if (node)
		*k = (__typeof__(*k)){parent, pc, (uint32_t)node, uc->kids_epoch};
	return node;
}

/* memo_stack returns the stack ID of the frames of the memo's walk from frame first on, adding
 * to the tree the nodes the memo does not hold: those of the frames that changed since the
 * last walk, or all of them in a new generation or when the memo's last step moved. The node of
 * step k names the frames of steps k-1 down to the memo's last, so step top - first names the
 * stack (cut to depth by the tree). */
static uint64_t memo_stack(struct xt_thread *t, struct xt_stree *tr, unsigned first,
			   unsigned depth)
{
	struct xt_unw_cache *uc = t->unw;
	struct xt_unw_memo *m = &uc->memo;
	unsigned want = m->top - first;
	uint64_t serial = atomic_load_explicit(&tr->serial, memory_order_relaxed);
	if (uc->kids_serial != serial) {
		/* epoch 0 is no tree's: entries never written hold it */
		if (++uc->kids_epoch == 0) {
			memset(uc->kids, 0, sizeof(uc->kids));
			uc->kids_epoch = 1;
		}
		uc->kids_serial = serial;
	}
	if (!m->nodes || m->node_serial != serial || m->node_base != m->base) {
		m->node_base = m->node_top = m->base;
		m->s[m->base].node = 0;
		m->node_serial = serial;
		m->nodes = 1;
	}
	while (m->node_top < want) {
		unsigned k = m->node_top;
		uint64_t node = memo_child(uc, tr, m->s[k].node, m->s[k].ip);
		if (!node)
			return 0;
		m->s[k + 1].node = node;
		m->node_top = k + 1;
	}
	return xt_stree_stack(tr, m->s[want].node, depth);
}

/* walk_dwarf walks the stack and, when the walk gives frames from the one returning to ra,
 * stores their stack ID in *id and returns 0; otherwise returns the frames libunwind gives in
 * pcs, at most depth. */
static unsigned walk_dwarf(struct xt_thread *t, struct xt_stree *tr, uintptr_t *pcs,
			   unsigned depth, uintptr_t ra, uintptr_t fp, uint64_t *id)
{
	/* from the interposed function's frame when it is the one returning to ra */
	if (fp && (fp < t->stack_lo || fp > t->stack_hi - 16 || ((const uintptr_t *)fp)[1] != ra))
		fp = 0;
	int got = xt_unwind_dwarf(t, depth + XT_SKIP_MAX, fp);
	if (got < 0)
		return walk_libunwind(pcs, depth, ra);
	const struct xt_unw_memo *m = &t->unw->memo;
	unsigned n = (unsigned)got, start = 0;
	while (start < n && start < XT_SKIP_MAX && xt_unwind_pc(m, start) != ra)
		start++;
	if (start == n || start == XT_SKIP_MAX)
		start = 0;
	if (start < n)
		*id = memo_stack(t, tr, start, depth);
	return 0;
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

/* array_stack returns the stack ID of the n frames in pcs, adding them to the tree from the
 * outermost in. */
static uint64_t array_stack(struct xt_stree *tr, const uintptr_t *pcs, unsigned n)
{
	uint64_t node = 0;
	for (unsigned i = n; i-- > 0;)
		if (!(node = xt_stree_child(tr, node, pcs[i])))
			return 0;
	return xt_stree_stack(tr, node, XT_MAX_FRAMES);
}

uint64_t xt_stack_framed(struct xt_thread *t, void *caller_ra, void *caller_frame)
{
	uintptr_t pcs[XT_MAX_FRAMES];
	uintptr_t ra = (uintptr_t)caller_ra;
	unsigned n = 0, depth = xt_config.stack_depth;
	int walking = !xt_tl.unwinding;
	bool borrowed = false;
	uint64_t g = atomic_load_explicit(&t->gen, memory_order_relaxed);
	struct xt_stree *tr = &tree[g & 1];
	uint64_t id = 0;
	if (walking) {
		/* raised until the stack is interned: a signal handler's event meanwhile records
		 * only its caller, and leaves the memo that may hold the frames alone */
		xt_tl.unwinding++;
		if (xt_config.unwind == XT_UNWIND_DWARF) {
			/* the cache is held until the stack is interned: the frames are in its memo */
			borrowed = xt_unw_borrow(t);
			n = borrowed ? walk_dwarf(t, tr, pcs, depth, ra, (uintptr_t)caller_frame, &id)
				     : walk_libunwind(pcs, depth, ra);
		} else if (xt_config.unwind == XT_UNWIND_LIBUNWIND)
			n = walk_libunwind(pcs, depth, ra);
		else if (xt_config.unwind == XT_UNWIND_FP)
			n = walk_fp(t, pcs, depth, ra);
	}
	if (n == 0 && !id) {
		/* XTRACE_UNWIND=none, a failed walk, or a signal handler interrupting a walk. */
		pcs[0] = ra;
		n = 1;
	}
	if (n == 0) {
		/* the dwarf walk's memo gave the stack */
	} else if (xt_tl.tabling) {
		/* a signal handler interrupted this thread at its memos: go past them */
		id = array_stack(tr, pcs, n);
	} else {
		xt_tl.tabling++;
		atomic_signal_fence(memory_order_seq_cst);
		if (t->cache_gen != g) {
			memset(t->stack_cache_hash, 0, sizeof(t->stack_cache_hash));
			t->cache_gen = g;
		}
		uint64_t h = stack_hash(stack_poly(pcs, n));
		unsigned slot = (unsigned)h & 31;
		if (t->stack_cache_hash[slot] == h) {
			id = t->stack_cache_id[slot];
		} else {
			id = array_stack(tr, pcs, n);
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

void xt_stacks_dump(uint64_t gen)
{
	struct xt_tablew *w = xt_tablew_shared();
	struct xt_stree *tr = &tree[gen & 1];
	uintptr_t pcs[XT_MAX_FRAMES];
	xt_tablew_begin(w, XT_BATCH_STACKS, 0, gen, 0);
	for (uint64_t id = 1, end = xt_stree_stacks(tr); id < end; id++) {
		unsigned n = xt_stree_frames(tr, id, pcs, XT_MAX_FRAMES);
		if (!n)
			continue;
		uint8_t *p = xt_tablew_room(w, (2 + n) * XT_MAX_VARINT);
		p = xt_put_uvarint(p, id);
		p = xt_put_uvarint(p, n);
		p = xt_put_uvarint(p, pcs[0]);
		for (unsigned i = 1; i < n; i++)
			p = xt_put_uvarint(p, xt_zigzag((int64_t)(pcs[i] - pcs[i - 1])));
		xt_tablew_commit(w, p);
	}
	xt_tablew_flush(w);
	xt_stree_reset(tr);
}
