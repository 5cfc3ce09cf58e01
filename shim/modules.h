/* modules.h: the module and string tables, cold side. */
#ifndef XT_MODULES_H
#define XT_MODULES_H

#include <stdint.h>

#include "shim.h"

/* xt_modules_dump writes generation gen's Strings and Modules batches (file lock held); the
 * path strings take IDs from string_base + 1, after the strings already written for gen. */
XT_HIDDEN void xt_modules_note(void); /* before dlclose: remember what is mapped */
XT_HIDDEN void xt_modules_dump(uint64_t gen, uint64_t string_base);
/* xt_modules_reset_all forgets everything (fork child). */
XT_HIDDEN void xt_modules_reset_all(void);

#endif
