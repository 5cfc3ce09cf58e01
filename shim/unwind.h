/* unwind.h: the DWARF stack walk with per-thread cached frame rules (unwind.c). */
#ifndef XT_UNWIND_H
#define XT_UNWIND_H

#include "shim.h"

/* xt_unwind_dwarf stores up to max return addresses of the calling stack in pcs, outermost
 * last, starting with its own caller's. Returns how many, or -1 when some frame has no rule
 * it can follow (the caller then asks libunwind). */
XT_HIDDEN int xt_unwind_dwarf(struct xt_thread *t, uintptr_t *pcs, unsigned max);
/* xt_unwind_thread_start forgets the walks t->unw holds (another thread's, another stack). */
XT_HIDDEN void xt_unwind_thread_start(struct xt_thread *t);
/* xt_unwind_code_unmapped drops every thread's cached rules (after dlclose). */
XT_HIDDEN void xt_unwind_code_unmapped(void);

#endif
