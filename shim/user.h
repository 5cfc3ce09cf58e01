/* user.h: the user-annotation string table, cold side (init, dump at advance, reset after fork). */
#ifndef XT_USER_H
#define XT_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "thread.h"

XT_HIDDEN bool xt_user_init(void);
/* xt_user_strings_dump writes generation gen's user strings as Strings batches, empties the
 * table and returns the highest ID it used (0 for none): other strings of gen take IDs above it
 * (file lock held). */
/* xt_user_string returns s's ID in the generation t records (0 for NULL, or when the table is
 * full or the thread is inside another insert). Longer strings are cut to the format's limit. */
XT_HIDDEN uint64_t xt_user_string(struct xt_thread *t, const char *s);
XT_HIDDEN uint64_t xt_user_strings_dump(uint64_t gen);
XT_HIDDEN void xt_user_reset_all(void);

#endif
