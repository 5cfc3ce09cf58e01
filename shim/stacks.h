/* stacks.h: the stack table's cold side (init, dump at advance, reset after fork). */
#ifndef XT_STACKS_H
#define XT_STACKS_H

#include <stdbool.h>
#include <stdint.h>

#include "output.h"
#include "thread.h"

/* xt_stack_here captures the current stack, starting at the frame that returns to caller_ra
 * (the interposed function's return address), interns it in the generation's stack table and
 * returns its ID (0 when it cannot). xt_stack_framed is the same when the interposed
 * function's frame is caller_frame (XT_FRAME): the DWARF walk starts there. */
XT_HIDDEN uint64_t xt_stack_framed(struct xt_thread *t, void *caller_ra, void *caller_frame);
static inline uint64_t xt_stack_here(struct xt_thread *t, void *caller_ra)
{
	return xt_stack_framed(t, caller_ra, NULL);
}
XT_HIDDEN bool xt_stacks_init(void);
/* xt_stacks_dump writes generation gen's Stacks batches and empties its table (file lock held). */
XT_HIDDEN void xt_stacks_dump(uint64_t gen);
XT_HIDDEN void xt_stacks_reset_all(void);

#endif
