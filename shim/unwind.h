/* unwind.h: the DWARF stack walk with per-thread cached frame rules and the memo of its last
 * walk (unwind.c). */
#ifndef XT_UNWIND_H
#define XT_UNWIND_H

#include <stdbool.h>

#include "thread.h"

/* Code epochs a frame rule cache tells apart without clearing (a rule's key carries 12 bits). */
#define XT_UNW_EPOCHS 4096u

/* How the last walk ended (struct xt_unw_memo's end): at the outermost frame, at a return
 * address of 0, or cut at the walk's max frames. */
enum { XT_WALK_END, XT_WALK_ZERO, XT_WALK_CUT };

/* xt_unwind_dwarf walks the calling stack, up to max return addresses, starting with its own
 * caller's, into the memo of t->unw (xt_unwind_pc reads them). Returns how many, or -1 when
 * some frame has no rule it can follow (the caller then asks libunwind). The memo may hold
 * steps outward of those, unchecked: their addresses are not the stack's. fp, when not 0, is
 * the frame pointer of a caller's frame that has the frame pointer's layout (return address
 * above the saved RBP): the walk starts with that frame's return address. */
XT_HIDDEN int xt_unwind_dwarf(struct xt_thread *t, unsigned max, uintptr_t fp);

/* xt_unwind_pc is return address i of the walk xt_unwind_dwarf last made on this memo. */
static inline uintptr_t xt_unwind_pc(const struct xt_unw_memo *m, unsigned i)
{
	return m->s[m->top - 1 - i].ip;
}

/* The code epoch: each dlclose bumps it, so that what was worked out of code unmapped since,
 * cached rules and kept rows, is not used again. */
extern _Atomic unsigned xt_code_epoch;

/* xt_unwind_fde_rule is the packed frame rule (unwind.c) of pc in the code that FDE fde
 * covers; exact as for the walk's first pc, else pc is a return address. rows_epoch, when not 0,
 * is the code epoch read before fde was found: the FDE's rows of that epoch are used, or worked
 * out and kept (fderows.h); 0 runs the FDE's program up to pc. */
XT_HIDDEN uint64_t xt_unwind_fde_rule(const uint8_t *fde, uintptr_t pc, int exact,
				      unsigned rows_epoch);

/* xt_unwind_thread_start forgets the walks t->unw holds (another thread's, another stack). */
XT_HIDDEN void xt_unwind_thread_start(struct xt_thread *t);
/* xt_unwind_code_unmapped drops every thread's cached rules (after dlclose). */
XT_HIDDEN void xt_unwind_code_unmapped(void);

#endif
