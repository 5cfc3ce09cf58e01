/* stacks.h: the stack table's cold side (init, dump at advance, reset after fork). */
#ifndef XT_STACKS_H
#define XT_STACKS_H

#include <stdbool.h>
#include <stdint.h>

#include "output.h"
#include "shim.h"

XT_HIDDEN bool xt_stacks_init(void);
/* xt_stacks_dump writes generation gen's Stacks batches and empties its table (file lock held). */
XT_HIDDEN void xt_stacks_dump(uint64_t gen);
XT_HIDDEN void xt_stacks_reset_all(void);

#endif
