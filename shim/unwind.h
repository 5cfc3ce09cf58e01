/* unwind.h: the DWARF stack walk with per-thread cached frame rules (unwind.c), and the
 * polynomial the stack hash of every walk's frames starts from. */
#ifndef XT_UNWIND_H
#define XT_UNWIND_H

#include <stdbool.h>

#include "thread.h"

/* How the last walk ended (struct xt_unw_memo's end): at the outermost frame, at a return
 * address of 0, or cut at the walk's max frames. */
enum { XT_WALK_END, XT_WALK_ZERO, XT_WALK_CUT };

/* A stack's hash starts from a polynomial in its return addresses, the sum of pcs[k] * B^k
 * (mod 2^64), mixed at the end (stacks.c). The sum for pcs[i..n-1] is pcs[i] + B times that
 * for pcs[i+1..n-1]: a walk that keeps the last walk's outer frames, and their sums, pays one
 * multiplication per frame that changed. B is odd, 3 mod 8, so no two stacks of at most 128
 * frames that differ in a frame or two, or alternate two frames, cancel out. */
#define XT_STACK_POLY_B 0x9e3779b97f4a7c13ull

static inline uint64_t xt_stack_poly_step(uint64_t outer, uint64_t pc)
{
	return pc + XT_STACK_POLY_B * outer;
}

/* xt_unwind_dwarf walks the calling stack, up to max return addresses, starting with its own
 * caller's, into the memo of t->unw (xt_unwind_pc reads them). Returns how many, or -1 when
 * some frame has no rule it can follow (the caller then asks libunwind). */
XT_HIDDEN int xt_unwind_dwarf(struct xt_thread *t, unsigned max);

/* xt_unwind_pc is return address i of the walk xt_unwind_dwarf last made on this memo. */
static inline uintptr_t xt_unwind_pc(const struct xt_unw_memo *m, unsigned i)
{
	return m->s[m->top - 1 - i].ip;
}

/* xt_unwind_poly stores in *poly the polynomial (xt_stack_poly_step) of that walk's return
 * addresses from the one at i to the last; false when the walk was cut at its max (there are
 * more). */
static inline bool xt_unwind_poly(const struct xt_unw_memo *m, unsigned i, uint64_t *poly)
{
	if (m->end == XT_WALK_CUT)
		return false;
	*poly = m->s[m->top - i].hash;
	return true;
}

/* xt_unwind_thread_start forgets the walks t->unw holds (another thread's, another stack). */
XT_HIDDEN void xt_unwind_thread_start(struct xt_thread *t);
/* xt_unwind_code_unmapped drops every thread's cached rules (after dlclose). */
XT_HIDDEN void xt_unwind_code_unmapped(void);

#endif
